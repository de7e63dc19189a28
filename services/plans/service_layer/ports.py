"""What the plans service layer needs from storage: small protocols, implemented by the MongoDB
repositories (`services.plans.adapters.repository`) and by in-memory fakes in the unit tests.

`session` is the unit of work's transaction handle (`Transaction.session`); None outside one.
Plans' ownership is kept with `shared.ownership.OwnershipRepository`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from services.plans.domain.flags import Flag
from services.plans.domain.lists import ListFilter
from services.plans.domain.plan import Plan, PlanStatus
from services.plans.domain.program import ProgramSummary, ProgramVersion


class ProgramRepository(Protocol):
    """Published program versions (immutable)."""

    async def get(self, program_id: str, version: str, session: Any = None) -> ProgramVersion | None: ...

    async def digest(self, program_id: str, version: str, session: Any = None) -> str | None:
        """The fingerprint of the published content, or None if the version is not published."""

    async def add(self, program: ProgramVersion, *, published_by: str, now: datetime, session: Any) -> None: ...

    async def catalogue(self) -> list[ProgramSummary]:
        """Every published version, by program id and version."""


class PlanRepository(Protocol):
    """Plans. At most one active plan per patient, program and unit: `add` raises Conflict otherwise."""

    async def add(self, plan: Plan, session: Any) -> None: ...

    async def get(self, plan_id: str, session: Any = None) -> Plan | None: ...

    async def save(self, plan: Plan, session: Any) -> None:
        """Write a changed plan (never its flags or last activity: those belong to the read model);
        raises ConcurrentModification if it changed since it was read."""

    async def for_unit(
        self, unit_id: str, *, status: PlanStatus, filters: ListFilter, skip: int, limit: int
    ) -> tuple[list[Plan], int]:
        """One page of the unit's plans, newest first, and the total that match."""


class FlagRepository(Protocol):
    """The read model on plans: flags and the patient's last activity (atomic, never lost to a save)."""

    async def raise_flag(self, plan_id: str, flag: Flag, session: Any) -> None:
        """Add or replace the flag with this key."""

    async def clear_flag(self, plan_id: str, key: str, session: Any) -> None: ...

    async def touch(self, plan_id: str, at: datetime, session: Any = None) -> None:
        """Record patient activity (never moves backwards)."""
