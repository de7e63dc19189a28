"""Measurement batteries, flag rules and activity plans over weeks of time: the forms service's use
cases and durable timers on the real database, with the clock in the test's hand."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from services.forms.adapters.stores import ensure_indexes, mongo_stores
from services.forms.bootstrap import SPEC
from services.forms.domain.activity import STOCKHOLM, ActivityPlanSpec, RegistrationInput
from services.forms.domain.battery import BatterySpec, FlagRuleSpec, StartBattery
from services.forms.domain.definition import FormDefinition
from services.forms.entrypoints.consumers import messaging_subscriptions, plan_subscriptions
from services.forms.service_layer.service import FormsService
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.contracts import messaging, plans
from shared.kernel.errors import Conflict, Invalid
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.messaging.events import Event, ReceivedEvent
from shared.ownership import MongoOwnershipRepository, OwnershipProjector
from shared.storage.timers import TimerRunner, TimerStore
from shared.storage.unit_of_work import MongoUnitOfWork
from tests.conftest import INSTRUMENTS, new_personnummer
from tests.support.activity_plans import WALKING

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)  # a Monday
UNIT = "SE2321000016-TIME01"
THERAPIST = Staff(hsa_id="SE2321000016-T777", unit_id=UNIT, roles=frozenset({Role.THERAPIST, Role.DESIGNER}))
PROGRAM = "sömnhjälpen-test"


class World:
    """One forms service on its own database, its timers fired on demand."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], db: Any) -> None:
        self.db, self.clock = db, FixedClock(START)
        self.uow = MongoUnitOfWork(
            client,
            db,
            clock=self.clock,
            source="/tests",
            audit_log=AuditLog(db, service="forms", pepper="pepper!!", clock=self.clock),
        )
        self.timers = TimerStore(db, self.clock)
        self.service = FormsService(self.uow, mongo_stores(db), self.timers)
        self.subscriptions = [
            *plan_subscriptions(OwnershipProjector(MongoOwnershipRepository(db)), self.service),
            *messaging_subscriptions(self.service),
        ]
        self.runner = TimerRunner(
            self.timers,
            self.uow,
            SPEC.timer_handlers(None, self.service),  # type: ignore[arg-type]
            owner="test",
            clock=self.clock,
            poll_seconds=0.1,
            lease=timedelta(seconds=60),
        )

    async def pass_time(self, **delta: float) -> None:
        """Move the clock on in steps of at most six hours, firing what falls due on the way."""
        end = self.clock.now() + timedelta(**delta)
        while self.clock.now() < end:
            self.clock.advance(min(timedelta(hours=6), end - self.clock.now()))
            while await self.runner.fire_due():
                pass

    async def deliver(self, event: Event) -> None:
        """As the consumer does: every subscription of the event's type, in order, in one transaction."""
        data = event.model_dump(mode="json")
        received = ReceivedEvent(
            id=str(uuid.uuid4()), ce_type=event.ce_type, source="/tests", time=None, key=None, data=data
        )
        matching = [s for s in self.subscriptions if s.ce_type == event.ce_type]

        async def work(tx: Any) -> None:
            for subscription in matching:
                await subscription.handler(subscription.payload_model.model_validate(data), received, tx)

        await self.uow.run(work)

    async def events(self, ce_type: str) -> list[dict[str, Any]]:
        docs = [d async for d in self.db["outbox"].find({"ce_type": ce_type})]
        return [d["data"] for d in sorted(docs, key=lambda d: d["seq"])]

    async def open_forms(self, plan_id: str) -> dict[str, list[str]]:
        plan = await self.service.stores.plans.get(plan_id)
        assert plan is not None
        return plan.open_forms()

    async def start_plan(self, personnummer: str) -> str:
        plan_id = str(uuid.uuid4())
        await self.deliver(
            plans.PlanStarted(
                plan_id=plan_id,
                unit_id=UNIT,
                patient_personnummer=personnummer,
                protected_identity=False,
                program_id=PROGRAM,
                program_version="1",
                responsible_hsa_id=THERAPIST.hsa_id,
                started_at=self.clock.now(),
            )
        )
        return plan_id


@pytest.fixture
async def world(servers: Platform):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_forms_{uuid.uuid4().hex[:8]}"]
    world = World(client, db)
    await world.timers.ensure_indexes()
    await ensure_indexes(db)
    await MongoOwnershipRepository(db).ensure_indexes()
    for form_id in ("phq_9", "gad_7", "isi"):
        await world.service.definitions.publish(
            FormDefinition.model_validate_json((INSTRUMENTS / f"{form_id}.json").read_text()), THERAPIST
        )
    yield world
    await client.drop_database(db.name)
    await client.close()


def answers(items: int, points_each: int = 0) -> dict[str, str]:
    return {f"q{n}": str(points_each) for n in range(1, items + 1)}


async def test_batteries_open_forms_at_start_now_at_module_start_and_on_a_schedule(world: World) -> None:
    svc = world.service
    await svc.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["gad_7", "isi"]))
    personnummer = new_personnummer()
    patient = Patient(personnummer=personnummer)
    plan_id = await world.start_plan(personnummer)
    assert (await world.open_forms(plan_id))[f"battery:start:{plan_id}:1"] == ["gad_7", "isi"]
    [due] = await world.events("se.careplan.forms.measurement_due.v1")
    assert (due["trigger"], due["form_ids"]) == ("plan_start", ["gad_7", "isi"])
    assert [e["reason"] for e in await world.events("se.careplan.forms.patient_notification_due.v1")] == ["form_due"]

    await svc.responses.respond(plan_id, "gad_7", answers(7), draft=False, by=patient)
    assert (await world.open_forms(plan_id))[f"battery:start:{plan_id}:1"] == ["isi"]
    await world.pass_time(days=3, hours=1)  # the start battery's reminder names what is left
    reminders = [
        e for e in await world.events("se.careplan.forms.patient_notification_due.v1") if e["reason"] == "reminder"
    ]
    assert [e["form_ids"] for e in reminders] == [["isi"]]
    await svc.responses.respond(plan_id, "isi", answers(7), draft=False, by=patient)
    assert f"battery:start:{plan_id}:1" not in await world.open_forms(plan_id)
    assert len(await world.events("se.careplan.forms.measurement_completed.v1")) == 1

    tomorrow = (world.clock.now() + timedelta(days=1)).astimezone(STOCKHOLM).date()
    weekly = await svc.batteries.start(
        plan_id,
        BatterySpec(
            name="PHQ-9 varje vecka",
            form_ids=["phq_9"],
            trigger="schedule",
            start_date=tomorrow,
            interval_days=7,
            reminder_after_days=2,
        ),
        THERAPIST,
    )
    with pytest.raises(Invalid, match="start_date"):
        await svc.batteries.start(
            plan_id,
            BatterySpec(name="x", form_ids=["phq_9"], trigger="schedule", start_date=date(2026, 1, 1), interval_days=7),
            THERAPIST,
        )
    with pytest.raises(Invalid, match="no published form 'rcads_25'"):
        await svc.batteries.start(plan_id, BatterySpec(name="x", form_ids=["rcads_25"], trigger="now"), THERAPIST)
    assert await world.open_forms(plan_id) == {}

    await world.pass_time(days=1)  # the first occasion opens at 09:00 on the start date
    assert (await world.open_forms(plan_id)) == {f"battery:{weekly.id}:1": ["phq_9"]}
    await svc.responses.respond(plan_id, "phq_9", answers(9, 1), draft=False, by=patient)
    await world.pass_time(days=7)  # occasion 2, left unanswered → one reminder two days on
    assert (await world.open_forms(plan_id)) == {f"battery:{weekly.id}:2": ["phq_9"]}
    scheduled = [e for e in await world.events("se.careplan.forms.measurement_due.v1") if e["trigger"] == "schedule"]
    assert [e["occasion"] for e in scheduled] == [1, 2]
    await world.pass_time(days=2)
    reminders = [
        e for e in await world.events("se.careplan.forms.patient_notification_due.v1") if e["reason"] == "reminder"
    ]
    assert [e["form_ids"] for e in reminders] == [["isi"], ["phq_9"]]

    await svc.batteries.stop(plan_id, weekly.id, THERAPIST)
    await world.pass_time(days=14)
    assert await world.open_forms(plan_id) == {}
    assert (
        len([e for e in await world.events("se.careplan.forms.measurement_due.v1") if e["trigger"] == "schedule"]) == 2
    )

    module = await svc.batteries.start(
        plan_id,
        BatterySpec(name="RCADS vid modulstart", form_ids=["phq_9"], trigger="module_start", module_id="modul-3"),
        THERAPIST,
    )
    now = await svc.batteries.start(
        plan_id, BatterySpec(name="Extramätning", form_ids=["isi"], trigger="now"), THERAPIST
    )
    assert await world.open_forms(plan_id) == {f"battery:{now.id}:1": ["isi"]}
    await world.deliver(
        plans.ModuleStateChanged(
            plan_id=plan_id,
            unit_id=UNIT,
            module_id="modul-3",
            form_module=False,
            form_refs=[],
            previous_state="upcoming",
            state="current",
            changed_at=world.clock.now(),
        )
    )
    assert (await world.open_forms(plan_id))[f"battery:{module.id}:1"] == ["phq_9"]


async def test_unit_rules_flag_results_and_inactivity_until_the_patient_is_active_again(world: World) -> None:
    svc = world.service
    await svc.flags.add_rule(FlagRuleSpec(kind="inactivity", days=7), THERAPIST)
    await svc.flags.add_rule(
        FlagRuleSpec(kind="result", form_id="phq_9", result_id="total", labels=["Medelsvåra", "Svåra"]), THERAPIST
    )
    personnummer = new_personnummer()
    patient = Patient(personnummer=personnummer)
    plan_id = await world.start_plan(personnummer)
    extra = BatterySpec(name="PHQ-9", form_ids=["phq_9"], trigger="now")
    await svc.batteries.start(plan_id, extra, THERAPIST)

    async def kinds() -> list[str]:
        return sorted(f.kind for f in await svc.flags.of_plan(plan_id, THERAPIST) if f.handled_at is None)

    await world.pass_time(days=6)
    low = await svc.responses.respond(
        plan_id, "phq_9", answers(8, 1) | {"q9": "0"}, draft=False, by=patient
    )  # 8: Lindriga
    assert await kinds() == []
    await world.pass_time(days=6, hours=23)  # 7 days after the answer, not after the start
    assert await kinds() == []
    await world.deliver(
        messaging.MessageSent(
            plan_id=plan_id,
            unit_id=UNIT,
            conversation_id="c1",
            message_id=str(uuid.uuid4()),
            sender_kind="patient",
            sent_at=world.clock.now(),
            notify_inbox="none",
        )
    )
    await world.pass_time(days=7, hours=1)
    assert await kinds() == ["inactivity"]
    await world.pass_time(days=10)
    assert await kinds() == ["inactivity"]  # once for that stretch of silence
    await svc.batteries.start(plan_id, extra, THERAPIST)
    high = await svc.responses.respond(
        plan_id, "phq_9", answers(8, 2) | {"q9": "0"}, draft=False, by=patient
    )  # 16: Medelsvåra
    assert low.results[0].label == "Lindriga" and high.results[0].label == "Medelsvåra"
    assert await kinds() == ["inactivity", "result"]
    flagged = await world.events("se.careplan.forms.result_flagged.v1")
    assert [(e["response_id"], e["label"]) for e in flagged] == [(high.id, "Medelsvåra")]
    for flag in await svc.flags.of_plan(plan_id, THERAPIST):
        await svc.flags.handle(flag.id, THERAPIST)
    assert await kinds() == []
    raised = [e["kind"] for e in await world.events("se.careplan.forms.flag_raised.v1")]
    assert sorted(raised) == ["inactivity", "result"]


async def test_activity_plans_register_flag_outside_target_and_missed_occasions(world: World) -> None:
    svc = world.service
    personnummer = new_personnummer()
    patient = Patient(personnummer=personnummer)
    plan_id = await world.start_plan(personnummer)
    spec = ActivityPlanSpec.model_validate(WALKING)
    activity = await svc.activities.save(plan_id, spec, THERAPIST)
    monday = datetime(2026, 11, 23, 18, 0, tzinfo=STOCKHOLM)
    wednesday = datetime(2026, 11, 25, 7, 30, tzinfo=STOCKHOLM)

    done = await svc.activities.register(
        plan_id,
        activity.id,
        RegistrationInput(occasion=monday.astimezone(UTC), values={"distance": 1.5, "weight": 80}),
        patient,
    )
    assert done.occasion == monday
    with pytest.raises(Conflict, match="registered already"):
        await svc.activities.register(
            plan_id, activity.id, RegistrationInput(occasion=monday, values={"distance": 3}), patient
        )
    with pytest.raises(Conflict, match="before its day"):
        await svc.activities.register(
            plan_id, activity.id, RegistrationInput(occasion=wednesday, skipped=True), patient
        )
    flags = await svc.flags.of_plan(plan_id, THERAPIST)
    assert [(f.kind, f.label) for f in flags] == [("outside_target", "Sträcka")]

    await world.pass_time(days=3, hours=15)  # Wednesday's window closes at Friday 00:00
    assert [f.kind for f in await svc.flags.of_plan(plan_id, THERAPIST)] == ["outside_target", "missed_activity"]
    missed = await world.events("se.careplan.forms.activity_missed.v1")
    assert [datetime.fromisoformat(e["occasion"]) for e in missed] == [wednesday]
    with pytest.raises(Conflict, match="window has closed"):
        await svc.activities.register(
            plan_id, activity.id, RegistrationInput(occasion=wednesday, skipped=True), patient
        )

    # next Monday is registered (skipped), the Wednesday after is not, but the plan no longer flags misses
    next_monday = monday + timedelta(days=7)
    await world.pass_time(days=3)
    await svc.activities.register(plan_id, activity.id, RegistrationInput(occasion=next_monday, skipped=True), patient)
    await svc.activities.save(plan_id, spec.model_copy(update={"flag_on_missed": False}), THERAPIST, activity.id)
    await world.pass_time(days=4)
    missed = await world.events("se.careplan.forms.activity_missed.v1")
    assert [datetime.fromisoformat(e["occasion"]) for e in missed] == [wednesday, wednesday + timedelta(days=7)]
    assert [f.kind for f in await svc.flags.of_plan(plan_id, THERAPIST)] == ["outside_target", "missed_activity"]
    shown = await svc.activities.registrations(plan_id, activity.id, patient)
    assert [r.values for r in shown] == [{"distance": 1.5}, {}]


async def test_an_ended_plan_has_no_timers_left_and_weeks_later_nothing_has_fired_for_it(world: World) -> None:
    """Issue 11: ending a plan cancels its form-module notice, battery occasions and reminders, its
    activity plan's watch and its inactivity count, in the same transaction as the end."""
    svc = world.service
    await svc.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["isi"]))
    await svc.flags.add_rule(FlagRuleSpec(kind="inactivity", days=7), THERAPIST)
    personnummer = new_personnummer()
    plan_id = await world.start_plan(personnummer)
    await world.deliver(
        plans.ModuleStateChanged(
            plan_id=plan_id,
            unit_id=UNIT,
            module_id="modul-1",
            form_module=True,
            form_refs=["phq_9"],
            previous_state="upcoming",
            state="current",
            changed_at=world.clock.now(),
        )
    )
    tomorrow = (world.clock.now() + timedelta(days=1)).astimezone(STOCKHOLM).date()
    weekly = BatterySpec(name="PHQ-9", form_ids=["phq_9"], trigger="schedule", start_date=tomorrow, interval_days=7)
    await svc.batteries.start(plan_id, weekly, THERAPIST)
    walking = {"title": "Promenad", "start_date": tomorrow.isoformat(), "flag_on_missed": True}
    schedule = [{"weekday": "mon", "time": "18:00"}, {"weekday": "thu", "time": "08:00"}]
    await svc.activities.save(plan_id, ActivityPlanSpec.model_validate(walking | {"schedule": schedule}), THERAPIST)
    live = {"status": {"$in": ["pending", "claimed"]}}
    kinds = sorted({d["kind"] async for d in world.db["timers"].find(live)})
    assert kinds == sorted(
        [
            "forms.activity_missed",
            "forms.battery_occasion",
            "forms.battery_reminder",
            "forms.form_module_notify",
            "forms.inactivity",
        ]
    )

    await world.deliver(plans.PlanEnded(plan_id=plan_id, unit_id=UNIT, ended_at=world.clock.now(), reason="done"))
    assert await world.db["timers"].count_documents(live) == 0
    assert await world.db["plan_timers"].count_documents({"plan_id": plan_id}) == 0
    outbox = await world.db["outbox"].count_documents({})
    await world.pass_time(weeks=6)
    assert await world.db["outbox"].count_documents({}) == outbox
    with pytest.raises(Conflict, match="ended"):
        await svc.responses.respond(plan_id, "isi", answers(7), draft=False, by=Patient(personnummer=personnummer))
    assert [f.kind for f in await svc.flags.of_plan(plan_id, THERAPIST)] == []  # staff still read it
