"""Issue 11: an ended plan is read-only. Its timers are cancelled, so nothing fires for it; answers,
drafts, registrations and other changes are refused (409); its staff can still read everything."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from services.forms.domain.activity import ActivityPlanSpec, RegistrationInput
from services.forms.domain.battery import BatterySpec, FlagRuleSpec, StartBattery
from services.forms.service_layer.activities import MISSED_TIMER
from services.forms.service_layer.batteries import OCCASION_TIMER, REMINDER_TIMER
from services.forms.service_layer.flags import INACTIVITY_TIMER
from services.forms.service_layer.plan_events import MODULE_NOTIFY_TIMER
from shared.kernel.errors import Conflict
from shared.kernel.principals import Patient
from tests.support.activity_plans import WALKING
from tests.unit.forms.conftest import PROGRAM, THERAPIST, World
from tests.unit.forms.test_activities import MONDAY

EVERY_KIND = sorted([MODULE_NOTIFY_TIMER, OCCASION_TIMER, REMINDER_TIMER, INACTIVITY_TIMER, MISSED_TIMER])


async def busy_plan(world: World) -> tuple[str, Patient, str, str]:
    """A plan with a timer of every kind pending: a form-module notice, a start battery's reminder, a
    scheduled battery's next occasion, an inactivity count and an activity plan's watch."""
    await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["isi"]))
    await world.service.flags.add_rule(FlagRuleSpec(kind="inactivity", days=7), THERAPIST)
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await world.module(plan_id, "dt", "current", ["distress_thermometer"])
    start = (world.clock.now() + timedelta(days=1)).date()
    weekly = BatterySpec(name="PHQ-9", form_ids=["phq_9"], trigger="schedule", start_date=start, interval_days=7)
    battery = await world.service.batteries.start(plan_id, weekly, THERAPIST)
    activity = await world.service.activities.save(plan_id, ActivityPlanSpec.model_validate(WALKING), THERAPIST)
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 2}, draft=False, by=patient)
    return plan_id, patient, battery.id, activity.id


async def test_ending_a_plan_cancels_every_pending_timer_and_weeks_later_nothing_has_fired(world: World) -> None:
    plan_id, _, _, _ = await busy_plan(world)
    other_id, _ = await world.start_plan(program="min-vardplan-brostcancer")
    assert sorted(set(world.pending())) == EVERY_KIND
    await world.end_plan(plan_id)
    assert [t.payload.get("plan_id") for t in world.timers.pending()] == [other_id]  # the other plan's count
    assert await world.stores.timers.of_plan(plan_id) == []
    world.uow.published.clear()
    await world.pass_time(weeks=8)
    assert [e.plan_id for e in world.uow.published] == [other_id]  # its inactivity flag, nothing of the ended plan


async def test_a_timer_that_escaped_the_cancelling_does_nothing_for_an_ended_plan(world: World) -> None:
    """E.g. one scheduled before plans' timers were remembered per plan."""
    plan_id, _, _, _ = await busy_plan(world)
    pending = list(world.timers.pending())
    await world.end_plan(plan_id)
    for timer in pending:
        timer.status = "pending"  # as if the end had not cancelled it
    world.uow.published.clear()
    await world.pass_time(weeks=4)
    assert world.uow.published == []


async def test_an_ended_plan_takes_no_answers_drafts_registrations_or_changes(world: World) -> None:
    plan_id, patient, battery_id, activity_id = await busy_plan(world)
    world.clock.set(MONDAY)
    await world.end_plan(plan_id)
    world.uow.published.clear()
    refused = [
        world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 1}, draft=False, by=patient),
        world.service.responses.respond(plan_id, "distress_thermometer", {}, draft=True, by=patient),
        world.service.responses.respond(plan_id, "what_matters_to_me", {"answer": "x"}, draft=False, by=patient),
        world.service.activities.register(
            plan_id, activity_id, RegistrationInput(occasion=MONDAY.astimezone(UTC), values={"distance": 3}), patient
        ),
        world.service.activities.save(plan_id, ActivityPlanSpec.model_validate(WALKING), THERAPIST, activity_id),
        world.service.batteries.start(plan_id, BatterySpec(name="x", form_ids=["isi"], trigger="now"), THERAPIST),
        world.service.batteries.stop(plan_id, battery_id, THERAPIST),
        world.service.responses.rescore(plan_id, "distress_thermometer", THERAPIST),
    ]
    for change in refused:
        with pytest.raises(Conflict, match="ended") as conflict:
            await change
        assert conflict.value.field == "plan_id"
    assert world.uow.published == [] and world.timers.pending() == []


async def test_the_flags_of_an_ended_plan_can_not_be_handled(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 9}, draft=False, by=patient)
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    await world.end_plan(plan_id)
    with pytest.raises(Conflict, match="ended"):
        await world.service.flags.handle(flag.id, THERAPIST)


async def test_staff_can_still_read_an_ended_plan(world: World) -> None:
    plan_id, _patient, battery_id, activity_id = await busy_plan(world)
    await world.end_plan(plan_id)
    table = await world.service.results.table(plan_id, "distress_thermometer", THERAPIST)
    assert [row.results[0].value for row in table.rows] == [2]
    assert (await world.service.results.chart(plan_id, "distress_thermometer", "distress", THERAPIST)).count(
        'class="point"'
    ) == 1
    assert [b.id for b in await world.service.batteries.of_plan(plan_id, THERAPIST)][-1] == battery_id
    assert [a.id for a in await world.service.activities.of_plan(plan_id, THERAPIST)] == [activity_id]
    assert await world.service.activities.registrations(plan_id, activity_id, THERAPIST) == []
    assert await world.service.flags.of_plan(plan_id, THERAPIST) == []
    assert await world.service.responses.open_forms(plan_id, THERAPIST) == {}  # nothing is open any more
    [response] = list(world.stores.responses.items.values())  # type: ignore[attr-defined]
    exported = await world.service.responses.as_fhir(plan_id, "distress_thermometer", response.id, THERAPIST)
    assert exported["status"] == "completed"


async def test_a_module_change_after_the_end_opens_nothing(world: World) -> None:
    plan_id, _patient = await world.start_plan()
    await world.end_plan(plan_id)
    await world.module(plan_id, "dt", "current", ["distress_thermometer"])
    assert world.timers.pending() == []
    await world.patient_message(plan_id)
    assert world.uow.published == [] and world.timers.pending() == []
