"""Progress lines an operator can follow: a background loop (the outbox relay, the timer runner) notes
what it did, and one INFO line sums it up at most every `interval` seconds, so a busy loop does not
flood the log and an idle one stays quiet. What is noted within an interval shows with the next
thing done after it."""

from __future__ import annotations

import logging
import time
from collections import Counter


class ProgressLog:
    """Counts by label and logs the sums at INFO at most once per interval."""

    def __init__(self, logger: logging.Logger, what: str, *, interval: float = 10.0) -> None:
        self._log = logger
        self._what = what
        self._interval = interval
        self._counts: Counter[str] = Counter()
        self._since = time.monotonic() - interval  # the first thing done is logged at once

    def note(self, label: str, count: int = 1) -> None:
        """Record `count` things of kind `label`; log the sums once the interval has passed."""
        if count <= 0:
            return
        self._counts[label] += count
        now = time.monotonic()
        if now - self._since >= self._interval:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Log what was counted since the last line (nothing when nothing was)."""
        now = time.monotonic() if now is None else now
        if self._counts:
            parts = ", ".join(f"{label} {count}" for label, count in sorted(self._counts.items()))
            self._log.info("%s in the last %.0f s: %s", self._what, now - self._since, parts)
        self._counts.clear()
        self._since = now
