"""In-memory stand-ins for the platform's ports, for unit tests of use cases without servers.

They are fakes, not mocks: they behave like the real thing in the ways a use case can observe
(a failed unit of work leaves nothing behind, events and audit records are kept in order, timers
can be listed and fired), so a test asserts outcomes rather than calls. They never prove that
MongoDB or Kafka do their part: the integration and end-to-end suites do that.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

from shared.audit import AuditRecord, build_record
from shared.clock import Clock
from shared.kernel.principals import Principal
from shared.messaging.events import Event
from shared.ownership.model import PlanOwnership
from shared.storage.timers import Timer

T = TypeVar("T")


class FakeAuditTrail:
    """Audit records kept in a list (patients as their personnummer: a fake needs no pepper)."""

    def __init__(self, clock: Clock, service: str = "test") -> None:
        self.clock = clock
        self.service = service
        self.records: list[AuditRecord] = []

    def build(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> AuditRecord:
        return build_record(
            principal,
            action,
            resource,
            resource_id,
            patient=patient,
            unit_id=unit_id,
            reason=reason,
            service=self.service,
            at=self.clock.now(),
            patient_ref=lambda personnummer: personnummer,
        )

    async def write(self, records: list[AuditRecord], session: Any = None) -> None:
        self.records.extend(records)

    async def record(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> None:
        await self.write(
            [self.build(principal, action, resource, resource_id, patient=patient, unit_id=unit_id, reason=reason)]
        )

    async def about(
        self, resource_ids: Collection[str], *, patient: str | None = None, session: Any = None
    ) -> list[AuditRecord]:
        """As `AuditLog.about`: the records about these resources (and this patient), oldest first."""
        found = [r for r in self.records if r.resource_id in resource_ids and patient in (None, r.patient_ref)]
        return sorted(found, key=lambda r: r.at)

    def actions(self) -> list[tuple[str, str, str]]:
        """(action, resource, resource_id) of every record, in order."""
        return [(r.action, r.resource, r.resource_id) for r in self.records]


class FakeTransaction:
    """What a use case sees inside a unit of work; `session` is None (fake repositories ignore it)."""

    def __init__(self, clock: Clock, audit: FakeAuditTrail) -> None:
        self.session: Any = None
        self.clock = clock
        self._audit = audit
        self.events: list[Event] = []
        self.audit_records: list[AuditRecord] = []

    def publish(self, *events: Event) -> None:
        self.events.extend(events)

    def audit(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> None:
        self.audit_records.append(
            self._audit.build(principal, action, resource, resource_id, patient=patient, unit_id=unit_id, reason=reason)
        )


class FakeUnitOfWork:
    """Runs work all-or-nothing over in-memory repositories: on an exception every registered
    repository is put back as it was, and the work's events and audit records are dropped."""

    def __init__(self, clock: Clock, *repositories: object) -> None:
        self.clock = clock
        self.audit_log = FakeAuditTrail(clock)
        self.repositories = list(repositories)
        self.published: list[Event] = []
        self.commits = 0

    def track(self, *repositories: object) -> None:
        """Also roll these back when a unit of work fails."""
        self.repositories.extend(repositories)

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        snapshots = [copy.deepcopy(vars(r)) for r in self.repositories]
        tx = FakeTransaction(self.clock, self.audit_log)
        try:
            result = await work(tx)
        except BaseException:
            for repository, snapshot in zip(self.repositories, snapshots, strict=True):
                vars(repository).clear()
                vars(repository).update(snapshot)
            raise
        self.published.extend(tx.events)
        await self.audit_log.write(tx.audit_records)
        self.commits += 1
        return result

    def events_of(self, event_type: type[Event]) -> list[Any]:
        """The committed events of one type, in order."""
        return [e for e in self.published if isinstance(e, event_type)]


class FakeTimers:
    """Durable timers in a dict: schedule is idempotent by key, cancel marks them, `due` lists what a
    runner would fire at a moment."""

    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}

    async def schedule(
        self, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None, session: Any = None
    ) -> bool:
        if key in self.timers:
            return False
        self.timers[key] = Timer(key=key, kind=kind, due_at=due_at, payload=payload or {}, status="pending")
        return True

    async def cancel(self, key: str, session: Any = None) -> bool:
        timer = self.timers.get(key)
        if timer is None or timer.status != "pending":
            return False
        timer.status = "cancelled"
        return True

    def pending(self, kind: str | None = None) -> list[Timer]:
        return sorted(
            (t for t in self.timers.values() if t.status == "pending" and kind in (None, t.kind)),
            key=lambda t: t.due_at,
        )

    def due(self, at: datetime) -> list[Timer]:
        return [t for t in self.pending() if t.due_at <= at]

    async def fire_due(
        self, at: datetime, uow: FakeUnitOfWork, handlers: dict[str, Callable[[Timer, Any], Awaitable[None]]]
    ) -> int:
        """Fire what is due at `at`, each in its own unit of work, as the timer runner does."""
        fired = 0
        for timer in self.due(at):
            await uow.run(lambda tx, t=timer: handlers[t.kind](t, tx))  # type: ignore[misc]
            timer.status = "fired"
            fired += 1
        return fired


class InMemoryOwnershipRepository:
    """Plans' ownership in a dict."""

    def __init__(self, *known: PlanOwnership) -> None:
        self.items: dict[str, PlanOwnership] = {o.plan_id: o for o in known}

    async def get(self, plan_id: str, session: Any = None) -> PlanOwnership | None:
        found = self.items.get(plan_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, ownership: PlanOwnership, session: Any = None) -> None:
        self.items[ownership.plan_id] = ownership.model_copy(deep=True)

    async def of_patient(self, personnummer: str, session: Any = None) -> list[PlanOwnership]:
        return [o.model_copy(deep=True) for o in self.items.values() if o.patient_personnummer == personnummer]
