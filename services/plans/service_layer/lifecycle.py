"""Use cases of a plan's life and holder: start, change of responsible therapist, end (by staff, or
by the system when the retention service says the 730-day limit is reached)."""

from __future__ import annotations

from services.plans.domain import commands
from services.plans.domain.content import Actor
from services.plans.domain.plan import Plan
from services.plans.domain.views import StaffPlanView, staff_view
from services.plans.service_layer.access import PlanAccess
from shared.contracts.retention import RetentionLimitReached
from shared.kernel.errors import Forbidden
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction

LIMIT_REASON = "limit"
"""The end reason when the system ends a plan at the retention limit."""


class PlanLifecycle:
    def __init__(self, access: PlanAccess) -> None:
        self.access = access
        self.uow = access.uow

    async def start_plan(self, command: commands.StartPlan, by: Staff) -> StaffPlanView:
        """A plan at the caller's unit, visible to the patient at once; its ownership copy is written
        in the same transaction."""
        program = await self.access.catalog.program(command.program_id, command.program_version)

        async def work(tx: Transaction) -> Plan:
            plan = Plan.start(
                program,
                unit_id=by.unit_id,
                personnummer=command.personnummer,
                patient_name=command.patient_name,
                protected_identity=command.protected_identity,
                responsible_hsa_id=command.responsible_hsa_id or by.hsa_id,
                started_by=by.hsa_id,
                now=tx.clock.now(),
            )
            await self.access.plans.add(plan, tx.session)
            await self.access.ownership.save(plan.ownership(), tx.session)
            tx.publish(plan.started(program))
            tx.audit(by, "create", "plan", plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id)
            return plan

        plan = await self.uow.run(work)
        return staff_view(plan, program, self.uow.clock.now())

    async def change_responsible(self, plan_id: str, command: commands.ChangeResponsible, by: Staff) -> StaffPlanView:
        if not by.has_any(Role.PATIENT_ADMIN):
            raise Forbidden("only a patient admin changes the responsible therapist")
        plan, program = await self.access.change(
            plan_id, by, "plan.responsible", lambda plan, _, __: [plan.change_responsible(command.responsible_hsa_id)]
        )
        return staff_view(plan, program, self.uow.clock.now())

    async def end_plan(self, plan_id: str, command: commands.EndPlan, by: Staff) -> StaffPlanView:
        """End a plan; an ended plan is refused (409: it is read-only)."""
        who = Actor.staff(by.hsa_id, by.name)
        plan, program = await self.access.change(
            plan_id, by, "plan", lambda plan, _, now: [plan.end(by=who, reason=command.reason, now=now)]
        )
        return staff_view(plan, program, self.uow.clock.now())

    async def end_at_retention_limit(
        self, event: RetentionLimitReached, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        """Consumer handler: the system ends the plan (reason 'limit'), audited as the system. A plan
        already ended, or unknown here, stays as it is (no second event)."""
        plan = await self.access.plans.get(event.plan_id, tx.session)
        if plan is None or not plan.active:
            return
        ownership = await self.access.ownership.get(plan.id, tx.session)
        ended = plan.end(by=Actor.system(), reason=LIMIT_REASON, now=tx.clock.now())
        await self.access.commit(
            tx, plan, ownership, [ended], by=None, resource="plan", reason="retention limit reached"
        )
