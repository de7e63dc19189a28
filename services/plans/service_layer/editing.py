"""Use cases that change a plan's content: modules, steps, welcome text, contacts, planning, comments."""

from __future__ import annotations

from datetime import datetime

from services.plans.domain import commands
from services.plans.domain.content import Contact, PageComment, PlanningEntry
from services.plans.domain.plan import Plan
from services.plans.domain.program import ProgramVersion
from services.plans.domain.views import StaffPlanView, staff_view
from services.plans.service_layer.access import Mutation, PlanAccess, PlanView, actor, view_for
from shared.kernel.principals import Principal, Staff
from shared.messaging.events import Event


class PlanEditing:
    def __init__(self, access: PlanAccess) -> None:
        self.access = access

    async def _by_staff(self, plan_id: str, by: Staff, resource: str, mutate: Mutation) -> StaffPlanView:
        plan, program = await self.access.change(plan_id, by, resource, mutate)
        return staff_view(plan, program, self.access.uow.clock.now())

    async def set_module_state(
        self, plan_id: str, module_id: str, command: commands.SetModuleState, by: Staff
    ) -> StaffPlanView:
        return await self._by_staff(
            plan_id,
            by,
            "plan.modules",
            lambda plan, program, now: [plan.set_module_state(program, module_id, command.state, now)],
        )

    async def set_step_visibility(
        self, plan_id: str, step_id: str, command: commands.SetStepVisibility, by: Staff
    ) -> StaffPlanView:
        return await self._by_staff(
            plan_id, by, "plan.steps", lambda plan, _, __: plan.set_step_visibility(step_id, command.visible)
        )

    async def set_welcome_text(self, plan_id: str, command: commands.SetWelcomeText, by: Staff) -> StaffPlanView:
        return await self._by_staff(
            plan_id, by, "plan.welcome_text", lambda plan, _, __: [plan.set_welcome_text(command.text)]
        )

    async def add_contact(self, plan_id: str, command: commands.AddContact, by: Staff) -> StaffPlanView:
        return await self._by_staff(
            plan_id,
            by,
            "plan.contacts",
            lambda plan, _, now: [plan.add_contact(Contact.create(command.model_dump(), by=actor(by), now=now))],
        )

    async def change_contact(
        self, plan_id: str, contact_id: str, command: commands.ChangeContact, by: Staff
    ) -> StaffPlanView:
        changes = command.model_dump(exclude_none=True)
        return await self._by_staff(
            plan_id, by, "plan.contacts", lambda plan, _, now: [plan.change_contact(contact_id, changes, now)]
        )

    async def remove_contact(self, plan_id: str, contact_id: str, by: Staff) -> StaffPlanView:
        return await self._by_staff(plan_id, by, "plan.contacts", lambda plan, _, __: [plan.remove_contact(contact_id)])

    async def add_comment(self, plan_id: str, command: commands.AddPageComment, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, program: ProgramVersion, now: datetime) -> list[Event]:
            comment = PageComment.create(command.page_id, command.text, by=actor(by), now=now)
            return [plan.add_comment(comment, program)]

        return await self._by_staff(plan_id, by, "plan.comments", mutate)

    async def add_planning(self, plan_id: str, command: commands.AddPlanningEntry, by: Principal) -> PlanView:
        """Staff or the patient; each gets back their own view of the plan."""
        plan, program = await self.access.change(
            plan_id,
            by,
            "plan.planning",
            lambda plan, _, now: [plan.add_planning(PlanningEntry.create(command.model_dump(), by=actor(by), now=now))],
        )
        return view_for(by, plan, program, self.access.uow.clock.now())

    async def remove_planning(self, plan_id: str, entry_id: str, by: Principal) -> PlanView:
        """Staff remove any entry, the patient only their own (403 otherwise)."""
        plan, program = await self.access.change(
            plan_id, by, "plan.planning", lambda plan, _, __: [plan.remove_planning(entry_id, actor(by))]
        )
        return view_for(by, plan, program, self.access.uow.clock.now())
