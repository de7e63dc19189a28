"""What the retention use cases need from storage: small protocols, implemented on MongoDB in
`services.retention.adapters` and in memory in `tests/unit/retention/fakes.py`. Every method takes
the transaction's `session` (None outside a transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, Protocol

from services.retention.domain.export import Export
from services.retention.domain.model import RetentionSchedule
from services.retention.domain.purge import Purge, PurgedPlan
from services.retention.domain.views import EndedPlan
from shared.ownership import OwnershipRepository, PlanOwnership


class ScheduleRepository(Protocol):
    async def get(self, plan_id: str, session: Any = None) -> RetentionSchedule | None: ...

    async def save(self, schedule: RetentionSchedule, session: Any = None) -> None: ...

    async def delete(self, plan_id: str, session: Any = None) -> int: ...


class PurgeRepository(Protocol):
    """Purges in progress, one per plan."""

    async def get(self, plan_id: str, session: Any = None) -> Purge | None: ...

    async def save(self, purge: Purge, session: Any = None) -> None:
        """Insert or replace; raises `ConcurrentModification` if someone saved it since it was read."""

    async def delete(self, plan_id: str, session: Any = None) -> int: ...


class TombstoneRepository(Protocol):
    """Purged plans' ids (kept for good)."""

    async def get(self, plan_id: str, session: Any = None) -> PurgedPlan | None: ...

    async def add(self, tombstone: PurgedPlan, session: Any = None) -> None: ...


class EndedPlans(Protocol):
    """The ended plans a unit holds (from the ownership copy), oldest end first."""

    async def ended_before(self, unit_id: str, before: datetime, skip: int, limit: int) -> list[EndedPlan]: ...


class PlanDataEraser(Protocol):
    """Deletes what retention holds of a plan outside its own repositories: the ownership copy and
    the documents of the plan's timers of the given kinds. Returns counts by collection."""

    async def erase(self, plan_id: str, timer_kinds: Collection[str], session: Any = None) -> dict[str, int]: ...


class ExportRepository(Protocol):
    """Exports of plans (the saga's state) with their renderings once complete."""

    async def get(self, export_id: str, session: Any = None) -> Export | None: ...

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Export]:
        """The plan's exports, newest first."""

    async def latest_of(self, plan_id: str, session: Any = None) -> Export | None: ...

    async def save(self, export: Export, session: Any = None) -> None:
        """Insert or replace; raises `ConcurrentModification` if someone saved it since it was read."""

    async def save_renderings(self, export_id: str, bundle: dict[str, Any], pdf: bytes, session: Any = None) -> None:
        """Keep the complete export's FHIR Bundle and PDF with it."""

    async def bundle_of(self, export_id: str, session: Any = None) -> dict[str, Any] | None: ...

    async def pdf_of(self, export_id: str, session: Any = None) -> bytes | None: ...

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int: ...


class ExportPartRepository(Protocol):
    """Parts received for exports not complete yet (deleted once their export is assembled)."""

    async def put(self, export: Export, service: str, content: dict[str, Any], session: Any = None) -> None: ...

    async def of_export(self, export_id: str, session: Any = None) -> dict[str, dict[str, Any]]:
        """The parts by service."""

    async def delete_of_export(self, export_id: str, session: Any = None) -> int: ...

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int: ...


class PurgeAwareOwnership:
    """The ownership copy, refusing to bring back a purged (or purging) plan: a late or replayed
    `plan.started` must not re-create personal data the purge deleted. Given to the shared
    `OwnershipProjector` in place of the plain repository."""

    def __init__(self, inner: OwnershipRepository, is_purged: Callable[[str, Any], Awaitable[bool]]) -> None:
        self._inner = inner
        self._is_purged = is_purged

    async def get(self, plan_id: str, session: Any = None) -> PlanOwnership | None:
        return await self._inner.get(plan_id, session)

    async def save(self, ownership: PlanOwnership, session: Any = None) -> None:
        if not await self._is_purged(ownership.plan_id, session):
            await self._inner.save(ownership, session)

    async def of_patient(self, personnummer: str, session: Any = None) -> list[PlanOwnership]:
        return await self._inner.of_patient(personnummer, session)
