"""Whether an announcement's fan-out is done, still moving, or stalled, judged from its stored state
alone: the batches the split made, the batches delivered, and the progress seen at the last check.

A fan-out's batches go straight to the work topic, not through the outbox (it streams), so a batch can
be lost with the broker's data (an embedded broker's restart, retention, a dead letter, a reset group).
A durable timer checks each announcement; a stalled one has its missing batches published again, and
the delivery ledger keeps every delivery exactly once whatever is published twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.notifications.domain.model import Announcement

MAX_CHECKS = 288
"""Checks per announcement (a day at the default five minutes); then it is left to an operator."""


@dataclass(frozen=True)
class FanoutCheck:
    """What a check found: `missing_batches` is None when the split itself never finished (redo it)."""

    outcome: Literal["complete", "progressing", "stalled"]
    progress: int
    missing_batches: list[int] | None = None


def check_fanout(announcement: Announcement) -> FanoutCheck:
    """Complete when every batch the split made is delivered; progressing when more batches were done
    than at the last check; stalled otherwise (nothing done since the announcement was made counts)."""
    done = set(announcement.batches_done)
    if announcement.batches is None:  # the request was lost, or the split died before it finished
        return FanoutCheck("stalled", -1, None)
    if len(done) >= announcement.batches:
        return FanoutCheck("complete", len(done))
    before = announcement.checked_progress if announcement.checked_progress is not None else 0
    if len(done) > before:
        return FanoutCheck("progressing", len(done))
    missing = [n for n in range(announcement.batches) if n not in done]
    return FanoutCheck("stalled", len(done), missing)
