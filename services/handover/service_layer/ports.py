"""What the handover use cases need from storage: small protocols, implemented on MongoDB in
`services.handover.adapters` and in memory in `tests/unit/handover/fakes.py`. Every method takes the
transaction's `session` (None outside a transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from services.handover.domain.handover import Handover
from services.handover.domain.rules import UnitPrograms
from shared.ownership import OwnershipRepository
from shared.storage.timers import TimerScheduler

EXPIRY_TIMER = "handover.expiry"
TRANSFER_TIMEOUT_TIMER = "handover.transfer_timeout"


class HandoverRepository(Protocol):
    async def add(self, handover: Handover, session: Any = None) -> None:
        """Insert a new (pending) handover; Conflict if another handover of the plan is open."""

    async def get(self, handover_id: str, session: Any = None) -> Handover | None: ...

    async def save(self, handover: Handover, session: Any = None) -> None:
        """Replace it (ConcurrentModification if it changed since read); a settled handover frees the
        plan for the next one."""

    async def history(self, plan_id: str, session: Any = None) -> list[Handover]:
        """Every handover of the plan, oldest first."""

    async def pending_for(self, unit_id: str, limit: int) -> list[Handover]:
        """Pending handovers to the unit, oldest first."""


class UnitProgramsStore(Protocol):
    async def get(self, unit_id: str, session: Any = None) -> UnitPrograms | None: ...

    async def save(self, units: UnitPrograms, session: Any = None) -> None: ...


@dataclass(frozen=True)
class HandoverPolicy:
    pending_for: timedelta = timedelta(days=14)
    """How long a handover waits for the receiving unit's answer before it expires."""
    transfer_timeout: timedelta = timedelta(minutes=15)
    """How long the saga waits for every service's confirmation before it compensates."""


@dataclass
class Stores:
    handovers: HandoverRepository
    units: UnitProgramsStore
    ownership: OwnershipRepository
    timers: TimerScheduler


def expiry_key(handover_id: str) -> str:
    return f"handover-expiry:{handover_id}"


def timeout_key(handover_id: str) -> str:
    return f"handover-timeout:{handover_id}"
