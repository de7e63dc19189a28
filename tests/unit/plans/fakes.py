"""In-memory implementations of the plans service's ports (`services.plans.service_layer.ports`).

They behave like the MongoDB repositories in what a use case can observe: the unique 'one active plan
per patient, program and unit', optimistic concurrency on save, a save never overwriting the read
model (flags, last activity), the unit list's filters, order and paging.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.plans.domain.flags import Flag
from services.plans.domain.lists import ListFilter
from services.plans.domain.plan import Plan, PlanStatus
from services.plans.domain.program import ProgramSummary, ProgramVersion
from shared.kernel.errors import Conflict
from shared.storage.unit_of_work import ConcurrentModification


class InMemoryProgramRepository:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[ProgramVersion, ProgramSummary]] = {}

    async def get(self, program_id: str, version: str, session: Any = None) -> ProgramVersion | None:
        found = self.items.get((program_id, version))
        return found[0] if found else None

    async def digest(self, program_id: str, version: str, session: Any = None) -> str | None:
        found = self.items.get((program_id, version))
        return found[1].digest if found else None

    async def add(self, program: ProgramVersion, *, published_by: str, now: datetime, session: Any) -> None:
        summary = ProgramSummary(
            program_id=program.program_id,
            version=program.version,
            title=program.title,
            kind=program.kind,
            digest=program.digest(),
            published_by=published_by,
            published_at=now,
        )
        self.items[(program.program_id, program.version)] = (program, summary)

    async def catalogue(self) -> list[ProgramSummary]:
        return [summary for _, (_, summary) in sorted(self.items.items())]


class InMemoryPlanRepository:
    """Plans, and the flags read model on them (one object serves as PlanRepository and FlagRepository,
    as both are the same documents in MongoDB)."""

    def __init__(self) -> None:
        self.items: dict[str, Plan] = {}

    # -- PlanRepository ---------------------------------------------------------------------------

    async def add(self, plan: Plan, session: Any) -> None:
        if any(p.active and _active_key(p) == _active_key(plan) for p in self.items.values()):
            raise Conflict("the patient already has an active plan of this program at this unit", field="program_id")
        self.items[plan.id] = plan.model_copy(deep=True)

    async def get(self, plan_id: str, session: Any = None) -> Plan | None:
        found = self.items.get(plan_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, plan: Plan, session: Any) -> None:
        stored = self.items.get(plan.id)
        if stored is None or stored.revision != plan.revision:
            raise ConcurrentModification(plan.id)
        plan.revision += 1
        self.items[plan.id] = plan.model_copy(
            deep=True, update={"flags": stored.flags, "last_active_at": stored.last_active_at}
        )

    async def for_unit(
        self, unit_id: str, *, status: PlanStatus, filters: ListFilter, skip: int, limit: int
    ) -> tuple[list[Plan], int]:
        found = [p for p in self.items.values() if p.unit_id == unit_id and p.status is status and _matches(p, filters)]
        found.sort(key=lambda p: p.id)
        found.sort(key=lambda p: p.started_at, reverse=True)
        return [p.model_copy(deep=True) for p in found[skip : skip + limit]], len(found)

    # -- FlagRepository ---------------------------------------------------------------------------

    async def raise_flag(self, plan_id: str, flag: Flag, session: Any) -> None:
        plan = self.items.get(plan_id)
        if plan is not None:
            plan.flags = [f for f in plan.flags if f.key != flag.key] + [flag]

    async def clear_flag(self, plan_id: str, key: str, session: Any) -> None:
        plan = self.items.get(plan_id)
        if plan is not None:
            plan.flags = [f for f in plan.flags if f.key != key]

    async def touch(self, plan_id: str, at: datetime, session: Any = None) -> None:
        plan = self.items.get(plan_id)
        if plan is not None and (plan.last_active_at is None or plan.last_active_at < at):
            plan.last_active_at = at


def _active_key(plan: Plan) -> tuple[str, str, str]:
    return plan.unit_id, plan.patient_personnummer, plan.program_id


def _matches(plan: Plan, filters: ListFilter) -> bool:
    return (
        filters.responsible_hsa_id in (None, plan.responsible_hsa_id)
        and filters.program_id in (None, plan.program_id)
        and (filters.flag is None or any(f.kind is filters.flag for f in plan.flags))
        and (filters.flagged is None or bool(plan.flags) == filters.flagged)
    )
