"""The plans and messaging events forms consumes, and the form-module notice a day later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.forms.domain.battery import StartBattery
from services.forms.domain.model import PlanStartedView
from services.forms.service_layer.plan_events import MODULE_NOTIFY_TIMER
from shared.contracts import forms as events
from shared.contracts import messaging, plans
from shared.messaging.consumer import DependencyNotReady
from shared.ownership import OwnershipState
from tests.unit.forms.conftest import PROGRAM, THERAPIST, UNIT, World


def test_subscriptions_use_the_contracts_and_put_ownership_first(world: World) -> None:
    plan_types = [s.ce_type for s in world.subscriptions]
    assert plan_types[:6] == [
        plans.PlanStarted.ce_type,
        plans.PlanEnded.ce_type,
        plans.ResponsibleChanged.ce_type,
        plans.OwnershipTransferring.ce_type,
        plans.OwnershipTransferred.ce_type,
        plans.OwnershipTransferReverted.ce_type,
    ]
    assert plan_types[6:] == [
        plans.PlanStarted.ce_type,
        plans.PlanEnded.ce_type,
        plans.ModuleStateChanged.ce_type,
        messaging.MessageSent.ce_type,
    ]


async def test_a_started_plan_is_known_with_its_owner_and_its_start_forms_open(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    ownership = await world.ownership.get(plan_id)
    assert ownership is not None and (ownership.unit_id, ownership.patient_personnummer) == (
        UNIT,
        patient.personnummer,
    )
    assert await world.service.responses.open_forms(plan_id, patient) == {"start": ["distress_thermometer"]}
    assert (await world.plan_forms(plan_id)).last_activity_at == world.clock.now()


async def test_a_replayed_start_changes_nothing(world: World) -> None:
    await world.service.batteries.set_start_battery(PROGRAM, StartBattery(form_ids=["isi"]))
    plan_id, patient = await world.start_plan()
    replay = PlanStartedView(plan_id=plan_id, started_at=world.clock.now(), current_form_refs=["phq_9"])
    await world.uow.run(lambda tx: world.service.plan_events.on_plan_started(replay, None, tx))
    assert await world.service.responses.open_forms(plan_id, patient) == {f"battery:start:{plan_id}:1": ["isi"]}
    assert len(world.events(events.MeasurementDue)) == 1


async def test_a_start_without_the_plans_ownership_waits_for_it(world: World) -> None:
    early = PlanStartedView(plan_id="unknown", current_form_refs=[])
    with pytest.raises(DependencyNotReady):
        await world.uow.run(lambda tx: world.service.plan_events.on_plan_started(early, None, tx))


async def test_a_module_made_current_opens_its_forms_and_the_patient_is_told_a_day_later(world: World) -> None:
    plan_id, patient = await world.start_plan()
    await world.module(plan_id, "dt", "current", ["distress_thermometer"])
    assert await world.service.responses.open_forms(plan_id, patient) == {"dt": ["distress_thermometer"]}
    await world.pass_time(hours=23)
    assert world.events(events.PatientNotificationDue) == []
    await world.pass_time(hours=2)
    [notice] = world.events(events.PatientNotificationDue)
    assert (notice.reason, notice.form_ids, notice.unit_id) == ("form_module", ["distress_thermometer"], UNIT)
    assert notice.notification_id.startswith(MODULE_NOTIFY_TIMER)
    assert await world.stores.timers.of_plan(plan_id) == []  # fired: nothing left to cancel at the end


async def test_no_notice_for_a_module_no_longer_current_or_not_a_form_module(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("phq_9", "gad_7"))
    await world.module(plan_id, "dt", "current", ["distress_thermometer"])
    await world.module(plan_id, "reading", "current", ["isi"], form_module=False)
    await world.module(plan_id, "dt", "completed", ["distress_thermometer", "phq_9"])
    assert await world.service.responses.open_forms(plan_id, patient) == {"start": ["gad_7"], "reading": ["isi"]}
    await world.pass_time(days=2)
    assert world.events(events.PatientNotificationDue) == []


async def test_a_module_change_for_a_plan_not_known_yet_waits(world: World) -> None:
    with pytest.raises(DependencyNotReady):
        await world.module("not-started", "dt", "current", ["distress_thermometer"])


async def test_a_patients_message_is_activity_and_a_staff_message_is_not(world: World) -> None:
    plan_id, _ = await world.start_plan()
    world.clock.advance(timedelta(days=2))
    await world.patient_message(plan_id, sender="staff")
    assert (await world.plan_forms(plan_id)).last_activity_at == world.clock.now() - timedelta(days=2)
    await world.patient_message(plan_id)
    assert (await world.plan_forms(plan_id)).last_activity_at == world.clock.now()


async def test_a_message_for_a_plan_forms_does_not_know_is_ignored(world: World) -> None:
    await world.patient_message("unknown")
    assert world.uow.published == []


async def test_the_end_of_a_plan_is_recorded_and_cancels_its_timers(world: World) -> None:
    plan_id, _ = await world.start_plan()
    await world.module(plan_id, "dt", "current", ["distress_thermometer"])
    assert world.pending() == [MODULE_NOTIFY_TIMER]
    await world.end_plan(plan_id)
    ownership = await world.ownership.get(plan_id)
    assert ownership is not None and ownership.state is OwnershipState.ENDED
    assert world.pending() == []
    assert await world.stores.timers.of_plan(plan_id) == []
    await world.end_plan(plan_id)  # a replay: nothing to do
    assert world.pending() == []


async def test_a_responsible_change_is_followed(world: World) -> None:
    plan_id, _ = await world.start_plan()
    await world.deliver(
        plans.ResponsibleChanged(
            plan_id=plan_id, unit_id=UNIT, previous_hsa_id=THERAPIST.hsa_id, responsible_hsa_id="SE2321000016-T009"
        )
    )
    ownership = await world.ownership.get(plan_id)
    assert ownership is not None and ownership.responsible_hsa_id == "SE2321000016-T009"
