"""A one-line text progress bar for the command-line tools (load tests, bulk purges)."""

from __future__ import annotations

import time
from typing import TextIO


def progress_bar(done: int, total: int, started: float, label: str = "") -> str:
    """`\\r[#####     ] done/total pct rate/s`, to be written over itself on one terminal line;
    `started` is a `time.monotonic()` reading taken when the work began."""
    width = 30
    filled = min(width, int(width * done / total)) if total else width
    rate = done / max(1e-9, time.monotonic() - started)
    bar = "#" * filled + " " * (width - filled)
    prefix = f"{label} " if label else ""
    return f"\r{prefix}[{bar}] {done:,}/{total:,} {100 * done / max(1, total):5.1f}% {rate:,.0f}/s"


class ProgressLine:
    """Writes a progress bar to a stream (stderr for the CLI), redrawn in place; `end` finishes the line."""

    def __init__(self, stream: TextIO, total: int, label: str = "") -> None:
        self.stream = stream
        self.total = total
        self.label = label
        self.started = time.monotonic()
        self._drawn = False

    def update(self, done: int) -> None:
        self.stream.write(progress_bar(done, self.total, self.started, self.label))
        self.stream.flush()
        self._drawn = True

    def end(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
