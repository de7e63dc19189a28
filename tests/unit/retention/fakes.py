"""In-memory implementations of the retention service's ports, and a small world that wires the
service layer to them and delivers events the way the consumers do (by the same subscriptions)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from services.retention.adapters.pdf_export import render_pdf
from services.retention.domain.export import Export
from services.retention.domain.model import RetentionSchedule
from services.retention.domain.purge import Purge, PurgedPlan
from services.retention.domain.views import EndedPlan
from services.retention.entrypoints.consumers import (
    export_subscriptions,
    plan_event_subscriptions,
    purge_request_subscriptions,
    receipt_subscriptions,
)
from services.retention.service_layer.services import RetentionServices
from services.retention.service_layer.stores import RetentionPolicy, Stores
from shared.clock import FixedClock
from shared.contracts import plans
from shared.contracts.purge import receipt_type
from shared.crypto.keyring import InMemoryKeyring
from shared.messaging.consumer import Subscription
from shared.messaging.events import EVENT_TYPES, Event, ReceivedEvent
from shared.ownership import OwnershipState
from shared.storage.unit_of_work import ConcurrentModification
from tests.fakes import FakeTimers, FakeUnitOfWork, InMemoryOwnershipRepository

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNIT, OTHER_UNIT = "SE2321000016-RET1", "SE2321000016-RET2"
PNR = "194107086995"


class InMemoryScheduleRepository:
    def __init__(self) -> None:
        self.items: dict[str, RetentionSchedule] = {}

    async def get(self, plan_id: str, session: Any = None) -> RetentionSchedule | None:
        found = self.items.get(plan_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, schedule: RetentionSchedule, session: Any = None) -> None:
        self.items[schedule.plan_id] = schedule.model_copy(deep=True)

    async def delete(self, plan_id: str, session: Any = None) -> int:
        return 1 if self.items.pop(plan_id, None) else 0


class InMemoryPurgeRepository:
    """Like the MongoDB one, refuses a save over a version it did not read."""

    def __init__(self) -> None:
        self.items: dict[str, Purge] = {}

    async def get(self, plan_id: str, session: Any = None) -> Purge | None:
        found = self.items.get(plan_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, purge: Purge, session: Any = None) -> None:
        stored = self.items.get(purge.plan_id)
        if (stored.version if stored else 0) != purge.version:
            raise ConcurrentModification(purge.plan_id)
        purge.version += 1
        self.items[purge.plan_id] = purge.model_copy(deep=True)

    async def delete(self, plan_id: str, session: Any = None) -> int:
        return 1 if self.items.pop(plan_id, None) else 0


class InMemoryTombstoneRepository:
    def __init__(self) -> None:
        self.items: dict[str, PurgedPlan] = {}

    async def get(self, plan_id: str, session: Any = None) -> PurgedPlan | None:
        return self.items.get(plan_id)

    async def add(self, tombstone: PurgedPlan, session: Any = None) -> None:
        self.items[tombstone.plan_id] = tombstone


class InMemoryEndedPlans:
    """Reads the ownership copy, as the MongoDB query does."""

    def __init__(self, ownership: InMemoryOwnershipRepository) -> None:
        self._ownership = ownership

    async def ended_before(self, unit_id: str, before: datetime, skip: int, limit: int) -> list[EndedPlan]:
        rows = sorted(
            (o for o in self._ownership.items.values() if o.unit_id == unit_id and o.state is OwnershipState.ENDED),
            key=lambda o: (o.ended_at, o.plan_id),
        )
        return [
            EndedPlan(plan_id=o.plan_id, ended_at=o.ended_at, started_at=o.started_at)
            for o in rows
            if o.ended_at is not None and o.ended_at < before
        ][skip : skip + limit]


class InMemoryPlanDataEraser:
    """Deletes the ownership copy and the plan's timers of the given kinds (as documents are deleted)."""

    def __init__(self, ownership: InMemoryOwnershipRepository, timers: FakeTimers) -> None:
        self._ownership = ownership
        self._timers = timers

    async def erase(self, plan_id: str, timer_kinds: Collection[str], session: Any = None) -> dict[str, int]:
        owned = 1 if self._ownership.items.pop(plan_id, None) else 0
        keys = [
            k for k, t in self._timers.timers.items() if t.payload.get("plan_id") == plan_id and t.kind in timer_kinds
        ]
        for key in keys:
            del self._timers.timers[key]
        return {"plan_ownership": owned, "timers": len(keys)}


class InMemoryExportRepository:
    """Exports and their renderings in dicts, with the MongoDB one's version check."""

    def __init__(self) -> None:
        self.items: dict[str, Export] = {}
        self.bundles: dict[str, dict[str, Any]] = {}
        self.pdfs: dict[str, bytes] = {}

    async def get(self, export_id: str, session: Any = None) -> Export | None:
        found = self.items.get(export_id)
        return found.model_copy(deep=True) if found else None

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Export]:
        mine = [e.model_copy(deep=True) for e in self.items.values() if e.plan_id == plan_id]
        return sorted(mine, key=lambda e: e.requested_at, reverse=True)

    async def latest_of(self, plan_id: str, session: Any = None) -> Export | None:
        return next(iter(await self.of_plan(plan_id)), None)

    async def save(self, export: Export, session: Any = None) -> None:
        stored = self.items.get(export.export_id)
        if (stored.version if stored else 0) != export.version:
            raise ConcurrentModification(export.export_id)
        export.version += 1
        self.items[export.export_id] = export.model_copy(deep=True)

    async def save_renderings(self, export_id: str, bundle: dict[str, Any], pdf: bytes, session: Any = None) -> None:
        self.bundles[export_id], self.pdfs[export_id] = copy.deepcopy(bundle), pdf

    async def bundle_of(self, export_id: str, session: Any = None) -> dict[str, Any] | None:
        return copy.deepcopy(self.bundles.get(export_id))

    async def pdf_of(self, export_id: str, session: Any = None) -> bytes | None:
        return self.pdfs.get(export_id)

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int:
        gone = [k for k, e in self.items.items() if e.plan_id == plan_id]
        for key in gone:
            del self.items[key]
            self.bundles.pop(key, None)
            self.pdfs.pop(key, None)
        return len(gone)


class InMemoryExportPartRepository:
    """Parts by (export, service), stored as JSON text like the MongoDB one (so dates read back as text)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[str, str]] = {}

    async def put(self, export: Export, service: str, content: dict[str, Any], session: Any = None) -> None:
        self.items[(export.export_id, service)] = (export.plan_id, json.dumps(content))

    async def of_export(self, export_id: str, session: Any = None) -> dict[str, dict[str, Any]]:
        return {s: json.loads(c) for (e, s), (_, c) in self.items.items() if e == export_id}

    async def delete_of_export(self, export_id: str, session: Any = None) -> int:
        gone = [k for k in self.items if k[0] == export_id]
        for key in gone:
            del self.items[key]
        return len(gone)

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int:
        gone = [k for k, (p, _) in self.items.items() if p == plan_id]
        for key in gone:
            del self.items[key]
        return len(gone)


class RetentionWorld:
    """The retention service layer over the fakes, with the consumers' subscriptions."""

    def __init__(self, policy: RetentionPolicy | None = None) -> None:
        self.clock = FixedClock(NOW)
        self.schedules = InMemoryScheduleRepository()
        self.purges = InMemoryPurgeRepository()
        self.tombstones = InMemoryTombstoneRepository()
        self.ownership = InMemoryOwnershipRepository()
        self.timers = FakeTimers()
        self.exports = InMemoryExportRepository()
        self.export_parts = InMemoryExportPartRepository()
        self.stores = Stores(
            schedules=self.schedules,
            purges=self.purges,
            tombstones=self.tombstones,
            ownership=self.ownership,
            ended=InMemoryEndedPlans(self.ownership),
            eraser=InMemoryPlanDataEraser(self.ownership, self.timers),
            timers=self.timers,
            exports=self.exports,
            export_parts=self.export_parts,
        )
        self.uow = FakeUnitOfWork(
            self.clock,
            self.schedules,
            self.purges,
            self.tombstones,
            self.ownership,
            self.timers,
            self.exports,
            self.export_parts,
        )
        self.services = RetentionServices.build(
            self.uow, self.stores, policy or RetentionPolicy(), render_pdf=render_pdf
        )
        self.keyring = InMemoryKeyring()  # never the process's keyring another test may have installed
        self.services.purges.keyring = self.keyring
        self.subscriptions = [
            *plan_event_subscriptions(self.services),
            *purge_request_subscriptions(self.services),
            *receipt_subscriptions(self.services),
            *export_subscriptions(self.services),
        ]
        self._pumped = 0

    async def deliver(self, *events: Event) -> None:
        """Each event in its own unit of work through every matching subscription, in order."""
        for event in events:
            data = event.model_dump(mode="json")
            received = ReceivedEvent(str(uuid.uuid4()), event.ce_type, "test", None, event.partition_key(), data)
            matching = [s for s in self.subscriptions if s.ce_type == event.ce_type]

            await self.uow.run(lambda tx, m=matching, r=received: _dispatch(m, r, tx))

    async def pump(self) -> None:
        """Deliver what retention published to retention's own consumers until nothing new comes."""
        while self._pumped < len(self.uow.published):
            event = self.uow.published[self._pumped]
            self._pumped += 1
            await self.deliver(event)

    async def fire_due(self) -> int:
        return await self.timers.fire_due(self.clock.now(), self.uow, self.services.timer_handlers())

    async def start(self, plan_id: str = "p1", *, unit: str = UNIT, pnr: str = PNR) -> None:
        await self.deliver(started(plan_id, unit=unit, pnr=pnr, at=self.clock.now()))

    async def end(self, plan_id: str = "p1", reason: str = "completed", *, unit: str = UNIT) -> None:
        await self.deliver(plans.PlanEnded(plan_id=plan_id, unit_id=unit, ended_at=self.clock.now(), reason=reason))


async def _dispatch(subscriptions: list[Subscription], event: ReceivedEvent, tx: Any) -> None:
    for subscription in subscriptions:
        await subscription.handler(subscription.payload_model.model_validate(event.data), event, tx)


def started(plan_id: str = "p1", *, unit: str = UNIT, pnr: str = PNR, at: datetime = NOW) -> plans.PlanStarted:
    return plans.PlanStarted(
        plan_id=plan_id,
        unit_id=unit,
        patient_personnummer=pnr,
        protected_identity=False,
        program_id="prog",
        program_version="1.0",
        responsible_hsa_id="SE2321000016-T1",
        started_at=at,
    )


def receipt(service: str, plan_id: str, purge_id: str, at: datetime = NOW, **deleted: int) -> Event:
    """The service's own contract receipt (from its contract module, on its topic)."""
    cls = EVENT_TYPES[receipt_type(service)]
    return cls.model_validate(
        {"plan_id": plan_id, "purge_id": purge_id, "service": service, "deleted": deleted, "purged_at": at}
    )
