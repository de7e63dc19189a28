"""Measurement batteries: start batteries, extra measurements now, at a module's start and on a
schedule; reminders; completion; stopping."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.forms.domain.activity import STOCKHOLM
from services.forms.domain.battery import BatterySpec, StartBattery
from services.forms.service_layer.batteries import OCCASION_TIMER, REMINDER_TIMER
from shared.contracts import forms as events
from shared.kernel.errors import Invalid, NotFound
from tests.unit.forms.conftest import PROGRAM, STRANGER, THERAPIST, UNIT, World

PHQ = {f"q{n}": "0" for n in range(1, 10)}
GAD = {f"q{n}": "0" for n in range(1, 8)}
ISI = {f"q{n}": "0" for n in range(1, 8)}


async def test_a_start_battery_with_an_unknown_form_is_refused(world: World) -> None:
    with pytest.raises(Invalid, match="no published form 'rcads_25'") as refused:
        await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["isi", "rcads_25"]))
    assert refused.value.field == "form_ids"
    assert await world.stores.batteries.start_battery(PROGRAM) is None


async def test_the_start_battery_opens_as_a_plan_starts_and_completes_when_all_is_answered(world: World) -> None:
    await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["gad_7", "isi"]))
    plan_id, patient = await world.start_plan()
    key = f"battery:start:{plan_id}:1"
    assert await world.service.responses.open_forms(plan_id, patient) == {key: ["gad_7", "isi"]}
    [due] = world.events(events.MeasurementDue)
    assert (due.trigger, due.form_ids, due.unit_id) == ("plan_start", ["gad_7", "isi"], UNIT)
    assert [n.reason for n in world.events(events.PatientNotificationDue)] == ["form_due"]
    await world.service.responses.respond(plan_id, "gad_7", GAD, draft=False, by=patient)
    assert await world.service.responses.open_forms(plan_id, patient) == {key: ["isi"]}
    await world.service.responses.respond(plan_id, "isi", ISI, draft=False, by=patient)
    assert await world.service.responses.open_forms(plan_id, patient) == {}
    [completed] = world.events(events.MeasurementCompleted)
    assert (completed.battery_id, completed.occasion) == (f"start:{plan_id}", 1)


async def test_a_plan_of_another_program_gets_no_start_battery(world: World) -> None:
    await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["isi"]))
    plan_id, patient = await world.start_plan(program="min-vardplan-brostcancer")
    assert await world.service.responses.open_forms(plan_id, patient) == {}


async def test_a_reminder_names_what_is_still_open_and_none_comes_when_all_is_done(world: World) -> None:
    await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["gad_7", "isi"]))
    plan_id, patient = await world.start_plan()
    await world.service.responses.respond(plan_id, "gad_7", GAD, draft=False, by=patient)
    await world.pass_time(days=3, hours=1)
    reminders = [n for n in world.events(events.PatientNotificationDue) if n.reason == "reminder"]
    assert [n.form_ids for n in reminders] == [["isi"]]

    other_id, other = await world.start_plan()
    await world.service.responses.respond(other_id, "gad_7", GAD, draft=False, by=other)
    await world.service.responses.respond(other_id, "isi", ISI, draft=False, by=other)
    await world.pass_time(days=4)
    assert [n.plan_id for n in world.events(events.PatientNotificationDue) if n.reason == "reminder"] == [plan_id]


async def test_an_extra_measurement_now_opens_at_once_and_is_audited(world: World) -> None:
    plan_id, patient = await world.start_plan()
    battery = await world.service.batteries.start(
        plan_id, BatterySpec(name="Extra", form_ids=["phq_9"], trigger="now", reminder_after_days=2), THERAPIST
    )
    assert battery.occasions == 1 and battery.unit_id == UNIT
    assert await world.service.responses.open_forms(plan_id, patient) == {f"battery:{battery.id}:1": ["phq_9"]}
    assert ("create", "battery", battery.id) in world.uow.audit_log.actions()
    assert world.pending() == [REMINDER_TIMER]
    listed = await world.service.batteries.of_plan(plan_id, THERAPIST)
    assert [b.id for b in listed] == [battery.id]
    assert world.uow.audit_log.actions()[-1] == ("read", "battery", plan_id)


async def test_a_measurement_of_an_unknown_form_or_for_another_units_plan_is_refused(world: World) -> None:
    plan_id, _ = await world.start_plan()
    with pytest.raises(Invalid, match="no published form"):
        await world.service.batteries.start(
            plan_id, BatterySpec(name="x", form_ids=["rcads_25"], trigger="now"), THERAPIST
        )
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.batteries.start(plan_id, BatterySpec(name="x", form_ids=["isi"], trigger="now"), STRANGER)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.batteries.of_plan(plan_id, STRANGER)
    assert world.uow.published == [] and world.stores.batteries.items == {}  # type: ignore[attr-defined]


async def test_a_scheduled_battery_opens_at_nine_on_its_days_and_skips_what_passed(world: World) -> None:
    plan_id, patient = await world.start_plan()
    tomorrow = (world.clock.now() + timedelta(days=1)).astimezone(STOCKHOLM).date()
    weekly = await world.service.batteries.start(
        plan_id,
        BatterySpec(name="Varje vecka", form_ids=["phq_9"], trigger="schedule", start_date=tomorrow, interval_days=7),
        THERAPIST,
    )
    assert world.pending() == [OCCASION_TIMER]
    [timer] = world.timers.pending()
    assert timer.due_at == datetime(2026, 11, 24, 9, 0, tzinfo=STOCKHOLM)
    await world.pass_time(days=1)
    assert await world.service.responses.open_forms(plan_id, patient) == {f"battery:{weekly.id}:1": ["phq_9"]}
    await world.service.responses.respond(plan_id, "phq_9", PHQ, draft=False, by=patient)
    await world.pass_time(days=7)
    assert [d.occasion for d in world.events(events.MeasurementDue)] == [1, 2]
    assert await world.service.responses.open_forms(plan_id, patient) == {f"battery:{weekly.id}:2": ["phq_9"]}


async def test_a_schedule_may_not_start_in_the_past(world: World) -> None:
    plan_id, _ = await world.start_plan()
    spec = BatterySpec(name="x", form_ids=["phq_9"], trigger="schedule", start_date=date(2026, 1, 1), interval_days=7)
    with pytest.raises(Invalid, match="start_date") as refused:
        await world.service.batteries.start(plan_id, spec, THERAPIST)
    assert refused.value.field == "start_date" and world.timers.pending() == []


async def test_a_module_start_battery_opens_when_its_module_becomes_current(world: World) -> None:
    plan_id, patient = await world.start_plan()
    battery = await world.service.batteries.start(
        plan_id, BatterySpec(name="Vid modul 3", form_ids=["isi"], trigger="module_start", module_id="m3"), THERAPIST
    )
    assert await world.service.responses.open_forms(plan_id, patient) == {}
    await world.module(plan_id, "m2", "current", [])
    assert await world.service.responses.open_forms(plan_id, patient) == {}
    await world.module(plan_id, "m3", "current", [], form_module=False)
    assert await world.service.responses.open_forms(plan_id, patient) == {f"battery:{battery.id}:1": ["isi"]}
    assert [d.trigger for d in world.events(events.MeasurementDue)] == ["module_start"]


async def test_a_stopped_battery_closes_its_forms_and_opens_no_more(world: World) -> None:
    plan_id, patient = await world.start_plan()
    start = (world.clock.now() + timedelta(days=1)).astimezone(STOCKHOLM).date()
    spec = BatterySpec(name="x", form_ids=["phq_9"], trigger="schedule", start_date=start, interval_days=7)
    battery = await world.service.batteries.start(plan_id, spec, THERAPIST)
    await world.pass_time(days=1)
    stopped = await world.service.batteries.stop(plan_id, battery.id, THERAPIST)
    assert stopped.stopped_at == world.clock.now()
    assert await world.service.responses.open_forms(plan_id, patient) == {}
    [event] = world.events(events.BatteryStopped)
    assert event.battery_id == battery.id
    await world.pass_time(days=21)
    assert len(world.events(events.MeasurementDue)) == 1
    assert [n.reason for n in world.events(events.PatientNotificationDue)] == ["form_due"]  # no reminder
    await world.service.batteries.stop(plan_id, battery.id, THERAPIST)
    assert len(world.events(events.BatteryStopped)) == 1
    assert [a for a in world.uow.audit_log.actions() if a[0] == "update"] == [("update", "battery", battery.id)]


async def test_a_battery_of_another_plan_can_not_be_stopped_here(world: World) -> None:
    plan_id, _ = await world.start_plan()
    other_id, _ = await world.start_plan()
    battery = await world.service.batteries.start(
        other_id, BatterySpec(name="x", form_ids=["isi"], trigger="now"), THERAPIST
    )
    with pytest.raises(NotFound, match="no such battery") as refused:
        await world.service.batteries.stop(plan_id, battery.id, THERAPIST)
    assert refused.value.field == "battery_id"


async def test_the_patient_can_not_read_the_batteries_of_anothers_plan(world: World) -> None:
    plan_id, _ = await world.start_plan()
    _, stranger = await world.start_plan()
    with pytest.raises(NotFound):
        await world.service.responses.open_forms(plan_id, stranger)
