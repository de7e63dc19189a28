"""Fixtures of the notifications unit tests: the use cases over in-memory fakes, at a fixed time."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from launcher.demo import complete_personnummer
from services.notifications.domain.model import Announcement
from shared.clock import FixedClock
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from tests.unit.notifications.fakes import Harness

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MIDDAY = datetime(2026, 11, 23, 12, 0, tzinfo=STOCKHOLM)
UNIT_A, UNIT_B = "SE2321000016-UNITA", "SE2321000016-UNITB"
THERAPIST = "SE2321000016-T001"
PNR, OTHER_PNR = "194107086995", "191212121212"


_serials = itertools.count(100)


def new_pnr() -> str:
    """A valid personnummer not used before in these tests."""
    return complete_personnummer("19450303", f"{next(_serials):03d}")


def staff(*roles: Role, unit: str = UNIT_A, hsa_id: str = THERAPIST) -> Staff:
    return Staff(hsa_id=hsa_id, unit_id=unit, roles=frozenset(roles or (Role.THERAPIST,)))


def patient(personnummer: str = PNR) -> Patient:
    return Patient(personnummer=personnummer)


def unit_announcement(unit_id: str = UNIT_A) -> Announcement:
    """An inbox announcement to every patient of a unit (to see whom a fan-out reaches)."""
    return Announcement(
        id="a1",
        scope="unit",
        unit_id=unit_id,
        subject="Info",
        text="Text",
        channels=["inbox"],
        created_by="SE2321000016-A1",
        created_at=MIDDAY,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MIDDAY)


@pytest.fixture
def h(clock: FixedClock) -> Harness:
    return Harness(clock)
