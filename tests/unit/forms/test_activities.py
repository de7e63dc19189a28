"""Activity plans: set up and changed by staff, occasions registered by the patient, misses flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.forms.domain.activity import STOCKHOLM, ActivityPlanSpec, RegistrationInput
from services.forms.service_layer.activities import MISSED_TIMER
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Patient
from tests.support.activity_plans import WALKING
from tests.unit.forms.conftest import STRANGER, THERAPIST, UNIT, World

MONDAY = datetime(2026, 11, 23, 18, 0, tzinfo=STOCKHOLM)  # the world starts at 10:00 that day
WEDNESDAY = datetime(2026, 11, 25, 7, 30, tzinfo=STOCKHOLM)


def spec(**changes: Any) -> ActivityPlanSpec:
    return ActivityPlanSpec.model_validate(WALKING | changes)


async def walking_plan(world: World, **changes: Any) -> tuple[str, Patient, str]:
    plan_id, patient = await world.start_plan()
    activity = await world.service.activities.save(plan_id, spec(**changes), THERAPIST)
    return plan_id, patient, activity.id


async def test_an_activity_plan_is_created_published_audited_and_watched(world: World) -> None:
    plan_id, _, activity_id = await walking_plan(world)
    [saved] = world.events(events.ActivityPlanSaved)
    assert (saved.activity_plan_id, saved.revision, saved.enabled, saved.unit_id) == (activity_id, 1, True, UNIT)
    assert ("create", "activity_plan", activity_id) in world.uow.audit_log.actions()
    [watch] = world.timers.pending(MISSED_TIMER)
    assert watch.due_at == datetime(2026, 11, 25, 0, 0, tzinfo=STOCKHOLM)  # Monday's window closes
    assert [a.id for a in await world.service.activities.of_plan(plan_id, THERAPIST)] == [activity_id]


async def test_a_change_is_a_new_revision_and_a_disabled_plan_is_not_watched(world: World) -> None:
    plan_id, _, activity_id = await walking_plan(world)
    changed = await world.service.activities.save(plan_id, spec(enabled=False), THERAPIST, activity_id)
    assert (changed.id, changed.revision, changed.enabled) == (activity_id, 2, False)
    assert [(e.revision, e.enabled) for e in world.events(events.ActivityPlanSaved)] == [(1, True), (2, False)]
    assert ("update", "activity_plan", activity_id) in world.uow.audit_log.actions()
    await world.pass_time(days=14)
    assert world.events(events.ActivityMissed) == []  # the first revision's watch died out


async def test_an_activity_plan_of_another_plan_is_not_found_here(world: World) -> None:
    _, _, activity_id = await walking_plan(world)
    other_id, other = await world.start_plan()
    with pytest.raises(NotFound, match="no such activity plan") as refused:
        await world.service.activities.save(other_id, spec(), THERAPIST, activity_id)
    assert refused.value.field == "activity_plan_id"
    with pytest.raises(NotFound):
        await world.service.activities.get(other_id, activity_id, other)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.activities.save(other_id, spec(), STRANGER)


async def test_a_registration_is_stored_flagged_outside_target_published_and_audited(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(MONDAY + timedelta(hours=1))
    entry = RegistrationInput(occasion=MONDAY.astimezone(UTC), values={"distance": 1.5, "weight": 80})
    done = await world.service.activities.register(plan_id, activity_id, entry, patient)
    assert done.occasion == MONDAY and done.registered_at == world.clock.now()
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    assert (flag.kind, flag.label) == ("outside_target", "Sträcka")
    [registered] = world.events(events.ActivityRegistered)
    assert (registered.activity_plan_id, registered.skipped) == (activity_id, False)
    assert ("create", "activity_registration", done.id) in world.uow.audit_log.actions()
    assert (await world.plan_forms(plan_id)).last_activity_at == world.clock.now()


@pytest.mark.parametrize(
    "entry, moment, error, field",
    [
        ({"occasion": WEDNESDAY, "skipped": True}, MONDAY, Conflict, "occasion"),  # before its day
        ({"occasion": MONDAY, "values": {"distance": 3}}, WEDNESDAY + timedelta(days=1), Conflict, "occasion"),
        ({"occasion": MONDAY + timedelta(hours=1), "values": {"distance": 3}}, MONDAY, Invalid, "occasion"),
        ({"occasion": MONDAY, "values": {"weight": 80}}, MONDAY, Invalid, "values.distance"),
        ({"occasion": MONDAY, "values": {"distance": 3}, "comment": "Blåsigt"}, MONDAY, Invalid, "comment"),
    ],
)
async def test_a_registration_that_breaks_a_rule_is_refused_naming_the_field(
    world: World, entry: dict[str, Any], moment: datetime, error: type[Exception], field: str
) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(moment)
    with pytest.raises(error) as refused:
        await world.service.activities.register(plan_id, activity_id, RegistrationInput(**entry), patient)
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert world.events(events.ActivityRegistered) == []


async def test_an_occasion_is_registered_once(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(MONDAY)
    await world.service.activities.register(
        plan_id, activity_id, RegistrationInput(occasion=MONDAY, skipped=True), patient
    )
    with pytest.raises(Conflict, match="registered already"):
        await world.service.activities.register(
            plan_id, activity_id, RegistrationInput(occasion=MONDAY, values={"distance": 3}), patient
        )


async def test_a_disabled_activity_plan_takes_no_registrations(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world, enabled=False)
    world.clock.set(MONDAY)
    with pytest.raises(Conflict, match="not active"):
        await world.service.activities.register(
            plan_id, activity_id, RegistrationInput(occasion=MONDAY, skipped=True), patient
        )


async def test_the_patient_sees_the_values_charted_for_the_patient_staff_see_all(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(MONDAY)
    entry = RegistrationInput(occasion=MONDAY, values={"distance": 2.5, "weight": 80})
    await world.service.activities.register(plan_id, activity_id, entry, patient)
    mine = await world.service.activities.registrations(plan_id, activity_id, patient)
    staff = await world.service.activities.registrations(plan_id, activity_id, THERAPIST)
    assert [r.values for r in mine] == [{"distance": 2.5}]
    assert [r.values for r in staff] == [{"distance": 2.5, "weight": 80}]
    assert world.uow.audit_log.actions()[-2:] == [("read", "activity_registration", activity_id)] * 2


async def test_a_measurement_is_charted_for_whom_it_is_charted(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(MONDAY)
    entry = RegistrationInput(occasion=MONDAY, values={"distance": 2.5, "weight": 80})
    await world.service.activities.register(plan_id, activity_id, entry, patient)
    svg = await world.service.activities.chart(plan_id, activity_id, "distance", patient)
    assert svg.count('class="point"') == 1 and 'class="band"' in svg
    assert (await world.service.activities.chart(plan_id, activity_id, "weight", THERAPIST)).count('class="point"') == 1
    for measurement_id in ("weight", "pulse"):
        with pytest.raises(NotFound, match="no chart") as refused:
            await world.service.activities.chart(plan_id, activity_id, measurement_id, patient)
        assert refused.value.field == "measurement_id"


async def test_a_missed_occasion_is_published_and_flagged_and_the_watch_goes_on(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    world.clock.set(MONDAY)
    await world.service.activities.register(
        plan_id, activity_id, RegistrationInput(occasion=MONDAY, values={"distance": 3}), patient
    )
    await world.pass_time(days=3, hours=15)  # Wednesday's window closes at Friday 00:00
    assert [m.occasion for m in world.events(events.ActivityMissed)] == [WEDNESDAY]
    assert [f.kind for f in await world.service.flags.of_plan(plan_id, THERAPIST)] == ["missed_activity"]
    await world.service.activities.save(plan_id, spec(flag_on_missed=False), THERAPIST, activity_id)
    await world.pass_time(days=7)
    assert [m.occasion for m in world.events(events.ActivityMissed)] == [
        WEDNESDAY,
        MONDAY + timedelta(days=7),
        WEDNESDAY + timedelta(days=7),
    ]
    assert len(world.events(events.FlagRaised)) == 1
    assert len(world.timers.pending(MISSED_TIMER)) == 1


async def test_an_activity_plan_is_read_by_the_plans_staff_and_patient_audited(world: World) -> None:
    plan_id, patient, activity_id = await walking_plan(world)
    for reader in (THERAPIST, patient):
        activity = await world.service.activities.get(plan_id, activity_id, reader)
        assert (activity.title, activity.revision) == ("Promenad", 1)
    assert world.uow.audit_log.actions()[-2:] == [("read", "activity_plan", activity_id)] * 2
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.activities.get(plan_id, activity_id, STRANGER)
