"""Changes to a plan's content by staff (and the patient's planning entries)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.plans.domain import commands
from services.plans.domain.plan import ModuleState
from services.plans.domain.views import PatientPlanView, StaffPlanView
from shared.contracts import plans as events
from shared.kernel.errors import Conflict, Forbidden, NotFound
from tests.unit.plans.conftest import ELSEWHERE, NOW, OTHER_PATIENT, PATIENT, THERAPIST, World


async def test_a_module_is_moved_and_the_move_announced_with_its_forms(world: World) -> None:
    plan = await world.start()
    world.clock.advance(timedelta(days=2))
    view = await world.service.editing.set_module_state(
        plan.id, "treatment", commands.SetModuleState(state=ModuleState.CURRENT), THERAPIST
    )
    treatment = next(m for m in view.modules if m.id == "treatment")
    assert (treatment.state, treatment.days_left) == (ModuleState.CURRENT, 30)
    [event] = world.uow.events_of(events.ModuleStateChanged)
    assert (event.module_id, event.previous_state, event.state) == ("treatment", "upcoming", "current")
    assert (event.form_module, event.form_refs, event.changed_at) == (True, ["distress"], NOW + timedelta(days=2))
    assert ("update", "plan.modules", plan.id) in world.uow.audit_log.actions()


async def test_an_illegal_move_is_refused_and_leaves_the_plan_as_it_was(world: World) -> None:
    plan = await world.start()
    with pytest.raises(Conflict) as refused:
        await world.service.editing.set_module_state(
            plan.id, "treatment", commands.SetModuleState(state=ModuleState.COMPLETED), THERAPIST
        )
    assert refused.value.field == "state"
    assert world.plans.items[plan.id].module("treatment").state is ModuleState.UPCOMING
    assert world.uow.events_of(events.ModuleStateChanged) == []
    with pytest.raises(NotFound):
        await world.service.editing.set_module_state(
            plan.id, "nope", commands.SetModuleState(state=ModuleState.CURRENT), THERAPIST
        )


async def test_a_step_is_hidden_once(world: World) -> None:
    plan = await world.start()
    hide = commands.SetStepVisibility(visible=False)
    view = await world.service.editing.set_step_visibility(plan.id, "welcome", hide, THERAPIST)
    intro = next(m for m in view.modules if m.id == "intro")
    assert (intro.visible_steps, intro.total_steps) == (0, 2)
    await world.service.editing.set_step_visibility(plan.id, "welcome", hide, THERAPIST)
    assert [(e.step_id, e.visible) for e in world.uow.events_of(events.StepVisibilityChanged)] == [("welcome", False)]
    with pytest.raises(NotFound) as missing:
        await world.service.editing.set_step_visibility(plan.id, "nope", hide, THERAPIST)
    assert missing.value.field == "step_id"


async def test_the_welcome_text_is_individualised_and_restored(world: World) -> None:
    plan = await world.start()
    own = await world.service.editing.set_welcome_text(plan.id, commands.SetWelcomeText(text="Hej Pia"), THERAPIST)
    assert (own.welcome_text, own.welcome_text_individual) == ("Hej Pia", True)
    back = await world.service.editing.set_welcome_text(plan.id, commands.SetWelcomeText(text=None), THERAPIST)
    assert (back.welcome_text, back.welcome_text_individual) == ("Välkommen", False)
    assert len(world.uow.events_of(events.WelcomeTextChanged)) == 2


async def test_contacts_are_added_changed_and_removed_with_one_responsible(world: World) -> None:
    plan = await world.start()
    editing = world.service.editing
    first = await editing.add_contact(plan.id, commands.AddContact(name="Karin", responsible=True), THERAPIST)
    karin = first.contacts[0]
    assert (karin.created_by, karin.created_by_name, karin.created_at) == (THERAPIST.hsa_id, THERAPIST.name, NOW)
    second = await editing.add_contact(plan.id, commands.AddContact(name="Pigge", responsible=True), THERAPIST)
    assert {c.name: c.responsible for c in second.contacts} == {"Karin": False, "Pigge": True}
    changed = await editing.change_contact(plan.id, karin.id, commands.ChangeContact(phone="070-1"), THERAPIST)
    assert next(c for c in changed.contacts if c.id == karin.id).phone == "070-1"
    removed = await editing.remove_contact(plan.id, karin.id, THERAPIST)
    assert [c.name for c in removed.contacts] == ["Pigge"]
    assert [e.change for e in world.uow.events_of(events.ContactsChanged)] == ["added", "added", "changed", "removed"]
    with pytest.raises(NotFound) as missing:
        await editing.remove_contact(plan.id, karin.id, THERAPIST)
    assert missing.value.field == "contact_id"


async def test_staff_and_the_patient_plan_and_each_sees_their_own_view(world: World) -> None:
    plan = await world.start()
    editing = world.service.editing
    by_staff = await editing.add_planning(
        plan.id, commands.AddPlanningEntry(text="Operation", exact_date=date(2026, 4, 3)), THERAPIST
    )
    assert isinstance(by_staff, StaffPlanView)
    by_patient = await editing.add_planning(
        plan.id, commands.AddPlanningEntry(text="Resa", approximate="i mars", month="2026-03"), PATIENT
    )
    assert isinstance(by_patient, PatientPlanView)
    assert [e.text for e in by_patient.planning] == ["Resa", "Operation"]  # sorted by date or month
    assert {e.created_by for e in by_patient.planning} == {""}  # no staff ids in the patient's view
    stored = {e.text: (e.created_by, e.created_by_kind) for e in world.plans.items[plan.id].planning}
    assert stored == {"Operation": (THERAPIST.hsa_id, "staff"), "Resa": ("patient", "patient")}
    assert [e.by_kind for e in world.uow.events_of(events.PlanningChanged)] == ["staff", "patient"]


async def test_the_patient_removes_only_their_own_planning_entries(world: World) -> None:
    plan = await world.start()
    editing = world.service.editing
    staff_entry = (
        await editing.add_planning(
            plan.id, commands.AddPlanningEntry(text="Op", exact_date=date(2026, 4, 3)), THERAPIST
        )
    ).planning[0]
    own = (
        await editing.add_planning(plan.id, commands.AddPlanningEntry(text="Min", exact_date=date(2026, 5, 1)), PATIENT)
    ).planning[1]
    with pytest.raises(Forbidden):
        await editing.remove_planning(plan.id, staff_entry.id, PATIENT)
    after = await editing.remove_planning(plan.id, own.id, PATIENT)
    assert [e.text for e in after.planning] == ["Op"]
    after = await editing.remove_planning(plan.id, staff_entry.id, THERAPIST)
    assert after.planning == []
    removed = [e for e in world.uow.events_of(events.PlanningChanged) if e.change == "removed"]
    assert [e.by_kind for e in removed] == ["patient", "staff"]


async def test_only_the_plans_own_patient_may_plan(world: World) -> None:
    plan = await world.start()
    entry = commands.AddPlanningEntry(text="X", exact_date=date(2026, 4, 3))
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.editing.add_planning(plan.id, entry, OTHER_PATIENT)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.editing.add_planning(plan.id, entry, ELSEWHERE)
    assert world.plans.items[plan.id].planning == []


async def test_a_comment_is_written_on_a_page_of_the_plan(world: World) -> None:
    plan = await world.start()
    view = await world.service.editing.add_comment(
        plan.id, commands.AddPageComment(page_id="s-treat", text="Sammanfattning"), THERAPIST
    )
    assert [(c.page_id, c.text, c.created_by) for c in view.comments] == [
        ("s-treat", "Sammanfattning", THERAPIST.hsa_id)
    ]
    [event] = world.uow.events_of(events.PageCommentAdded)
    assert (event.page_id, event.comment_id) == ("s-treat", view.comments[0].id)
    with pytest.raises(NotFound) as missing:
        await world.service.editing.add_comment(plan.id, commands.AddPageComment(page_id="x", text="t"), THERAPIST)
    assert missing.value.field == "page_id"
