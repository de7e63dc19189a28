"""The reply SLA: a patient's message is answered within three working days.

A working day is Monday to Friday except Swedish public holidays and the de facto non-working
eves (Midsommarafton, Julafton, Nyårsafton), from the `holidays` package. The day of arrival
does not count; the deadline is 23:59:59 Europe/Stockholm on the third working day after it,
and "due soon" begins at 00:00 Europe/Stockholm that day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel

STOCKHOLM = ZoneInfo("Europe/Stockholm")
REPLY_WORKING_DAYS = 3


@lru_cache(maxsize=64)
def _swedish_non_working_days(year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(calendar)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _swedish_non_working_days(day.year)


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself never counts)."""
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


class ReplyDeadline(BaseModel):
    """When a patient message arrived, when 'due soon' begins, and the deadline (all tz-aware)."""

    arrived_at: datetime
    due_soon_at: datetime
    deadline: datetime

    @property
    def overdue_at(self) -> datetime:
        """The first instant after the deadline second: when the overdue flag is raised."""
        return self.deadline + timedelta(seconds=1)


def reply_deadline(arrived_at: datetime) -> ReplyDeadline:
    """When a reply to a patient message that arrived at `arrived_at` is due; ValueError for a naive
    timestamp or one so near the calendar's ends (year 1 or 9999) that the deadline cannot be told."""
    if arrived_at.tzinfo is None:
        raise ValueError("arrived_at must carry a timezone")
    try:
        local_arrival = arrived_at.astimezone(STOCKHOLM)
        last_day = add_working_days(local_arrival.date(), REPLY_WORKING_DAYS)
    except OverflowError:
        raise ValueError("arrived_at is too near the end of the calendar to have a deadline") from None
    return ReplyDeadline(
        arrived_at=local_arrival,
        due_soon_at=datetime.combine(last_day, time(0, 0), tzinfo=STOCKHOLM),
        deadline=datetime.combine(last_day, time(23, 59, 59), tzinfo=STOCKHOLM),
    )
