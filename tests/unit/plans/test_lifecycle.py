"""Starting a plan, changing its responsible therapist and ending it; the ownership copy follows."""

from __future__ import annotations

import pytest

from services.plans.domain import commands
from services.plans.domain.content import Actor
from shared.contracts import plans as events
from shared.kernel.errors import Conflict, Forbidden, NotFound
from shared.ownership.model import OwnershipState
from tests.unit.plans.conftest import (
    COLLEAGUE,
    ELSEWHERE,
    NOW,
    PATIENT_ADMIN,
    PNR,
    THERAPIST,
    UNIT,
    World,
)


async def test_a_started_plan_is_active_owned_by_the_unit_and_announced(world: World) -> None:
    view = await world.start()
    assert (view.status, view.unit_id, view.responsible_hsa_id, view.started_by) == (
        "active",
        UNIT,
        THERAPIST.hsa_id,
        THERAPIST.hsa_id,
    )
    assert {m.id: m.state for m in view.modules} == {"intro": "current", "treatment": "upcoming"}
    [started] = world.uow.events_of(events.PlanStarted)
    assert (started.plan_id, started.unit_id, started.patient_personnummer) == (view.id, UNIT, PNR)
    assert started.current_form_refs == ["what-matters"]  # only the module current at start
    ownership = await world.ownership.get(view.id)
    assert ownership is not None
    assert (ownership.unit_id, ownership.patient_personnummer, ownership.state) == (UNIT, PNR, OwnershipState.ACTIVE)
    assert ownership.responsible_hsa_id == THERAPIST.hsa_id and ownership.started_at == NOW
    assert world.uow.audit_log.actions() == [("create", "plan", view.id)]


async def test_the_responsible_therapist_may_be_someone_else(world: World) -> None:
    view = await world.start(responsible_hsa_id=COLLEAGUE.hsa_id)
    assert view.responsible_hsa_id == COLLEAGUE.hsa_id
    assert world.uow.events_of(events.PlanStarted)[0].responsible_hsa_id == COLLEAGUE.hsa_id


async def test_a_second_active_plan_of_the_program_at_the_unit_is_refused_and_leaves_nothing(world: World) -> None:
    first = await world.start()
    with pytest.raises(Conflict) as refused:
        await world.start(by=COLLEAGUE)
    assert refused.value.field == "program_id"
    assert list(world.plans.items) == [first.id]
    assert list(world.ownership.items) == [first.id]
    assert len(world.uow.events_of(events.PlanStarted)) == 1


async def test_the_same_patient_may_have_the_program_at_another_unit(world: World) -> None:
    await world.start()
    elsewhere = await world.start(by=ELSEWHERE)
    assert elsewhere.unit_id == ELSEWHERE.unit_id


async def test_a_plan_of_an_unknown_program_is_not_started(world: World) -> None:
    with pytest.raises(NotFound):
        await world.start(program_version="9.9")
    assert world.plans.items == {} and world.uow.published == []


async def test_ending_a_plan_makes_it_read_only_but_readable(world: World) -> None:
    plan = await world.start()
    ended = await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(reason="no_longer_needed"), THERAPIST)
    assert ended.status == "ended" and ended.ended_at == NOW
    [event] = world.uow.events_of(events.PlanEnded)
    assert (event.plan_id, event.reason, event.ended_at) == (plan.id, "no_longer_needed", NOW)
    stored = world.plans.items[plan.id]
    assert stored.ended_by == Actor.staff(THERAPIST.hsa_id, THERAPIST.name)
    ownership = await world.ownership.get(plan.id)
    assert ownership is not None and (ownership.state, ownership.ended_at) == (OwnershipState.ENDED, NOW)
    assert ("update", "plan", plan.id) in world.uow.audit_log.actions()

    assert (await world.service.reads.staff_view(plan.id, COLLEAGUE)).status == "ended"
    with pytest.raises(Conflict, match="ended"):
        await world.service.editing.add_contact(plan.id, commands.AddContact(name="Ny"), THERAPIST)


async def test_ending_an_ended_plan_is_a_conflict_naming_why(world: World) -> None:
    plan = await world.start()
    await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(), THERAPIST)
    with pytest.raises(Conflict) as again:
        await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(reason="other"), COLLEAGUE)
    assert "has ended" in again.value.message
    assert len(world.uow.events_of(events.PlanEnded)) == 1
    assert world.plans.items[plan.id].end_reason == "completed"


async def test_staff_of_another_unit_cannot_end_a_plan(world: World) -> None:
    plan = await world.start()
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(), ELSEWHERE)
    assert world.plans.items[plan.id].active


async def test_a_patient_admin_changes_the_responsible_therapist(world: World) -> None:
    plan = await world.start()
    view = await world.service.lifecycle.change_responsible(
        plan.id, commands.ChangeResponsible(responsible_hsa_id=COLLEAGUE.hsa_id), PATIENT_ADMIN
    )
    assert view.responsible_hsa_id == COLLEAGUE.hsa_id
    [event] = world.uow.events_of(events.ResponsibleChanged)
    assert (event.previous_hsa_id, event.responsible_hsa_id) == (THERAPIST.hsa_id, COLLEAGUE.hsa_id)
    ownership = await world.ownership.get(plan.id)
    assert ownership is not None and ownership.responsible_hsa_id == COLLEAGUE.hsa_id
    assert ("update", "plan.responsible", plan.id) in world.uow.audit_log.actions()


async def test_a_therapist_may_not_change_the_responsible_therapist(world: World) -> None:
    plan = await world.start()
    with pytest.raises(Forbidden):
        await world.service.lifecycle.change_responsible(
            plan.id, commands.ChangeResponsible(responsible_hsa_id=COLLEAGUE.hsa_id), THERAPIST
        )
    assert world.plans.items[plan.id].responsible_hsa_id == THERAPIST.hsa_id
    assert world.uow.events_of(events.ResponsibleChanged) == []


async def test_a_plan_being_handed_over_refuses_changes(world: World) -> None:
    plan = await world.start()
    ownership = await world.ownership.get(plan.id)
    assert ownership is not None
    await world.ownership.save(ownership.model_copy(update={"state": OwnershipState.TRANSFERRING}))
    with pytest.raises(Conflict, match="handed over"):
        await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(), THERAPIST)
    assert world.plans.items[plan.id].active
