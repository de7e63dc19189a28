"""When a delivery may go out: SMS quiet hours, and the backoff between attempts."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)
MAX_ATTEMPTS = 8


def sms_allowed_at(now: datetime) -> datetime:
    """`now` outside quiet hours (21:00–08:00 Europe/Stockholm); otherwise the next 08:00."""
    local = now.astimezone(STOCKHOLM)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return now
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=STOCKHOLM)


def backoff(attempt: int, *, base_seconds: float = 2.0, cap_seconds: float = 600.0) -> timedelta:
    """Exponential backoff with full jitter: attempt 1 waits up to 2 s, then 4, 8, … capped."""
    ceiling = min(cap_seconds, base_seconds * (2 ** max(0, attempt - 1)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))
