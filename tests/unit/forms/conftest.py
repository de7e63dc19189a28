"""One forms service over in-memory stores, a fixed clock and fake timers; events delivered through
the service's own subscriptions (ownership first, as the consumer runs them), timers fired as due."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from services.forms.domain.activity import STOCKHOLM
from services.forms.domain.model import PlanForms
from services.forms.entrypoints.consumers import messaging_subscriptions, plan_subscriptions
from services.forms.service_layer.service import FormsService
from shared.clock import FixedClock
from shared.contracts import messaging, plans
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.messaging.events import Event, ReceivedEvent
from shared.ownership import OwnershipProjector
from tests.conftest import new_personnummer
from tests.fakes import FakeTimers, FakeUnitOfWork, InMemoryOwnershipRepository
from tests.unit.forms.fakes import in_memory_stores, stateful
from tests.unit.test_form_scoring import instrument

E = TypeVar("E", bound=Event)
START = datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)  # a Monday
UNIT = "SE2321000016-UNIT01"
OTHER_UNIT = "SE2321000016-UNIT02"
PROGRAM = "somnhjalpen"
THERAPIST = Staff(hsa_id="SE2321000016-T001", unit_id=UNIT, roles=frozenset({Role.THERAPIST}))
DESIGNER = Staff(hsa_id="SE2321000016-D001", unit_id=UNIT, roles=frozenset({Role.DESIGNER}))
STRANGER = Staff(hsa_id="SE2321000016-T002", unit_id=OTHER_UNIT, roles=frozenset({Role.THERAPIST}))
INSTRUMENTS = ("phq_9", "gad_7", "isi", "audit", "distress_thermometer", "what_matters_to_me", "sleep_diary")


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(START)
        self.ownership = InMemoryOwnershipRepository()
        self.stores = in_memory_stores(self.ownership)
        self.timers = FakeTimers()
        self.uow = FakeUnitOfWork(self.clock, *stateful(self.stores), self.timers)
        self.service = FormsService(self.uow, self.stores, self.timers)
        self.subscriptions = [
            *plan_subscriptions(OwnershipProjector(self.ownership), self.service),
            *messaging_subscriptions(self.service),
        ]

    # -- events in ---------------------------------------------------------------------------------
    async def deliver(self, event: Event) -> None:
        """As the consumer does: every subscription of the event's type, in order, in one transaction."""
        data = event.model_dump(mode="json")
        received = ReceivedEvent(
            id=str(uuid.uuid4()), ce_type=event.ce_type, source="/tests", time=None, key=None, data=data
        )
        matching = [s for s in self.subscriptions if s.ce_type == event.ce_type]
        assert matching, f"no subscription for {event.ce_type}"

        async def work(tx: Any) -> None:
            for subscription in matching:
                await subscription.handler(subscription.payload_model.model_validate(data), received, tx)

        await self.uow.run(work)

    async def start_plan(
        self, personnummer: str | None = None, *, unit: str = UNIT, program: str = PROGRAM, refs: tuple[str, ...] = ()
    ) -> tuple[str, Patient]:
        plan_id, personnummer = str(uuid.uuid4()), personnummer or new_personnummer()
        await self.deliver(
            plans.PlanStarted(
                plan_id=plan_id,
                unit_id=unit,
                patient_personnummer=personnummer,
                protected_identity=False,
                program_id=program,
                program_version="2025.1",
                responsible_hsa_id=THERAPIST.hsa_id,
                started_at=self.clock.now(),
                current_form_refs=list(refs),
            )
        )
        return plan_id, Patient(personnummer=personnummer)

    async def end_plan(self, plan_id: str) -> None:
        await self.deliver(
            plans.PlanEnded(plan_id=plan_id, unit_id=UNIT, ended_at=self.clock.now(), reason="completed")
        )

    async def module(self, plan_id: str, module_id: str, state: str, refs: list[str], form_module: bool = True) -> None:
        await self.deliver(
            plans.ModuleStateChanged(
                plan_id=plan_id,
                unit_id=UNIT,
                module_id=module_id,
                form_module=form_module,
                form_refs=refs,
                previous_state="upcoming",
                state=state,  # type: ignore[arg-type]
                changed_at=self.clock.now(),
            )
        )

    async def patient_message(self, plan_id: str, sender: str = "patient") -> None:
        await self.deliver(
            messaging.MessageSent(
                plan_id=plan_id,
                unit_id=UNIT,
                conversation_id="c1",
                message_id=str(uuid.uuid4()),
                sender_kind=sender,  # type: ignore[arg-type]
                sent_at=self.clock.now(),
                notify_inbox="none",
            )
        )

    # -- time ------------------------------------------------------------------------------------
    async def pass_time(self, **delta: float) -> None:
        """Move the clock on in steps of at most six hours, firing what falls due on the way."""
        end = self.clock.now() + timedelta(**delta)
        handlers = self.service.timer_handlers()
        while self.clock.now() < end:
            self.clock.advance(min(timedelta(hours=6), end - self.clock.now()))
            while await self.timers.fire_due(self.clock.now(), self.uow, handlers):
                pass

    # -- what happened -----------------------------------------------------------------------------
    def events(self, kind: type[E]) -> list[E]:
        return self.uow.events_of(kind)

    async def plan_forms(self, plan_id: str) -> PlanForms:
        plan = await self.stores.plans.get(plan_id)
        assert plan is not None
        return plan

    def pending(self) -> list[str]:
        """The kinds of the pending timers, soonest first."""
        return [t.kind for t in self.timers.pending()]

    async def publish_instruments(self, *form_ids: str) -> None:
        for form_id in form_ids or INSTRUMENTS:
            await self.service.definitions.publish(instrument(form_id), DESIGNER)


@pytest.fixture
async def world() -> World:
    created = World()
    await created.publish_instruments()
    created.uow.published.clear()
    return created
