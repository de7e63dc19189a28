"""The 3-working-day reply rule, vector by vector (each deadline worked out by hand from the calendar)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest

from services.messaging.domain.sla import is_working_day, reply_deadline

VECTORS = [
    # arrival (ISO with offset)        deadline (23:59:59 Stockholm)   why
    ("2025-04-17T12:00:00+02:00", "2025-04-24T23:59:59+02:00"),  # Easter: Good Friday and Easter Monday
    ("2025-05-28T09:00:00+02:00", "2025-06-03T23:59:59+02:00"),  # Ascension Day (Thu 29 May)
    ("2025-06-05T09:00:00+02:00", "2025-06-11T23:59:59+02:00"),  # National Day on a Friday
    ("2025-06-18T09:00:00+02:00", "2025-06-24T23:59:59+02:00"),  # Midsommarafton and Midsummer Day
    ("2026-01-06T10:00:00+01:00", "2026-01-09T23:59:59+01:00"),  # arrival on a holiday (Epiphany)
    ("2026-06-05T09:00:00+02:00", "2026-06-10T23:59:59+02:00"),  # National Day on a Saturday: no effect
    ("2026-11-20T10:00:00+01:00", "2026-11-25T23:59:59+01:00"),  # Friday: the weekend does not count
    ("2026-11-21T10:00:00+01:00", "2026-11-25T23:59:59+01:00"),  # arrival on a Saturday
    ("2026-11-22T23:59:00+01:00", "2026-11-25T23:59:59+01:00"),  # arrival on a Sunday evening
    ("2026-12-23T10:00:00+01:00", "2026-12-30T23:59:59+01:00"),  # Julafton, Christmas, Boxing Day, weekend
    ("2026-12-30T10:00:00+01:00", "2027-01-07T23:59:59+01:00"),  # Nyårsafton, New Year, Epiphany
    ("2027-03-24T10:00:00+01:00", "2027-03-31T23:59:59+02:00"),  # Easter 2027 across the spring DST change
    ("2027-06-04T10:00:00+02:00", "2027-06-09T23:59:59+02:00"),  # National Day on a Sunday
    ("2027-06-23T10:00:00+02:00", "2027-06-29T23:59:59+02:00"),  # Midsommarafton 25 June
    ("2028-05-24T10:00:00+02:00", "2028-05-30T23:59:59+02:00"),  # Ascension Day (Thu 25 May)
    ("2028-06-05T10:00:00+02:00", "2028-06-09T23:59:59+02:00"),  # National Day on a Tuesday
    ("2029-03-29T10:00:00+02:00", "2029-04-05T23:59:59+02:00"),  # Easter 2029 (1 April)
    ("2029-12-21T10:00:00+01:00", "2030-01-02T23:59:59+01:00"),  # Christmas to New Year across the year end
    ("2030-04-30T10:00:00+02:00", "2030-05-06T23:59:59+02:00"),  # May Day
    ("2030-05-29T10:00:00+02:00", "2030-06-04T23:59:59+02:00"),  # Ascension Day (Thu 30 May)
    ("2030-06-05T10:00:00+02:00", "2030-06-11T23:59:59+02:00"),  # National Day on a Thursday
    # just before and after midnight in Stockholm, given in UTC
    ("2026-11-19T22:59:59+00:00", "2026-11-24T23:59:59+01:00"),  # Thursday 23:59:59 Stockholm
    ("2026-11-19T23:00:00+00:00", "2026-11-25T23:59:59+01:00"),  # Friday 00:00:00 Stockholm
    ("2026-06-17T21:59:59+00:00", "2026-06-23T23:59:59+02:00"),  # Wednesday 23:59:59 (summer time), Midsommar
    ("2026-06-17T22:00:00+00:00", "2026-06-24T23:59:59+02:00"),  # Thursday 00:00:00, Midsommar
    ("2026-06-18T22:00:00+00:00", "2026-06-24T23:59:59+02:00"),  # Midsommarafton 00:00 (a non-working day)
    # daylight saving time changes
    ("2026-03-27T10:00:00+01:00", "2026-04-01T23:59:59+02:00"),  # spring forward on Sunday 29 March
    ("2026-03-28T23:30:00+00:00", "2026-04-01T23:59:59+02:00"),  # Sunday 00:30 CET, before the change
    ("2026-10-23T12:00:00+02:00", "2026-10-28T23:59:59+01:00"),  # fall back on Sunday 25 October
    ("2026-10-24T22:30:00+00:00", "2026-10-28T23:59:59+01:00"),  # Sunday 00:30 CEST, before the change
    ("2026-10-25T01:30:00+00:00", "2026-10-28T23:59:59+01:00"),  # 02:30 CET, the repeated hour
]


@pytest.mark.parametrize("arrived, deadline", VECTORS)
def test_deadline(arrived: str, deadline: str) -> None:
    result = reply_deadline(datetime.fromisoformat(arrived))
    assert result.deadline.isoformat() == deadline
    assert result.due_soon_at.isoformat() == deadline.replace("T23:59:59", "T00:00:00")
    assert (result.overdue_at - result.deadline).total_seconds() == 1


def test_the_eves_are_not_working_days_but_ordinary_days_around_them_are() -> None:
    from datetime import date

    assert not is_working_day(date(2026, 6, 19))  # Midsommarafton
    assert not is_working_day(date(2026, 12, 24))  # Julafton
    assert not is_working_day(date(2026, 12, 31))  # Nyårsafton
    assert is_working_day(date(2026, 12, 23)) and is_working_day(date(2026, 6, 18))
    assert not is_working_day(date(2026, 11, 21))  # a Saturday


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        reply_deadline(datetime(2026, 11, 20, 10, 0))


@pytest.mark.parametrize(
    "arrived", ["9999-12-31T10:00:00+01:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00"]
)
def test_arrivals_at_the_ends_of_the_calendar_are_refused_not_crashed_on(arrived: str) -> None:
    """Issue 13: year 9999 or 0001 with an offset answered 500 on `/sla/due` (an OverflowError)."""
    with pytest.raises(ValueError, match="end of the calendar"):
        reply_deadline(datetime.fromisoformat(arrived))


def test_the_cli_prints_the_deadline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "sla", "due", "2026-12-23T10:00:00+01:00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "2026-12-30T23:59:59+01:00"
    bad = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "sla", "due", "2026-12-23T10:00:00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "offset" in bad.stderr
