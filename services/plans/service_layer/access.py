"""Loading a plan for a caller and saving a change of it: the access rule (`shared.ownership.authorize`
on the plans' ownership copy), the ownership copy kept in step with the plan, events and audit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.plans.domain.content import Actor
from services.plans.domain.plan import Plan
from services.plans.domain.program import ProgramVersion
from services.plans.domain.views import PatientPlanView, StaffPlanView, patient_view, staff_view
from services.plans.service_layer.ports import PlanRepository
from services.plans.service_layer.programs import ProgramCatalog
from shared.kernel.errors import NotFound
from shared.kernel.principals import Principal, Staff
from shared.messaging.events import Event
from shared.ownership.model import PLAN_NOT_FOUND, PlanOwnership, authorize
from shared.ownership.repository import OwnershipRepository
from shared.storage.unit_of_work import Transaction, UnitOfWork

PlanView = StaffPlanView | PatientPlanView
Mutation = Callable[[Plan, ProgramVersion, datetime], Sequence[Event]]
"""Changes the plan (through its methods) and returns the events the change raised."""


def actor(principal: Principal) -> Actor:
    if isinstance(principal, Staff):
        return Actor.staff(principal.hsa_id, principal.name)
    return Actor.patient()


def view_for(principal: Principal, plan: Plan, program: ProgramVersion, now: datetime) -> PlanView:
    """Staff see the staff view, the patient their own view."""
    if isinstance(principal, Staff):
        return staff_view(plan, program, now)
    return patient_view(plan, program, now)


class PlanAccess:
    """Every read and change of a plan goes through here."""

    def __init__(
        self, uow: UnitOfWork, catalog: ProgramCatalog, plans: PlanRepository, ownership: OwnershipRepository
    ) -> None:
        self.uow = uow
        self.catalog = catalog
        self.plans = plans
        self.ownership = ownership

    async def load(self, plan_id: str, by: Principal, session: Any = None) -> tuple[PlanOwnership, Plan]:
        """The plan if `by` may see it; otherwise the same NotFound as for a missing plan."""
        ownership = authorize(await self.ownership.get(plan_id, session), by)
        plan = await self.plans.get(plan_id, session)
        if plan is None:
            raise NotFound(PLAN_NOT_FOUND)
        return ownership, plan

    async def read(self, plan_id: str, by: Principal, resource: str) -> tuple[Plan, ProgramVersion]:
        """Load for reading (ended plans too) and audit the read."""
        _, plan = await self.load(plan_id, by)
        return plan, await self.opened(plan, by, resource)

    async def opened(self, plan: Plan, by: Principal, resource: str) -> ProgramVersion:
        """The plan's program, after auditing that `by` read the plan (as `resource`)."""
        await self.uow.audit_log.record(
            by, "read", resource, plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id
        )
        return await self.catalog.program(plan.program_id, plan.program_version)

    async def change(self, plan_id: str, by: Principal, resource: str, mutate: Mutation) -> tuple[Plan, ProgramVersion]:
        """Load, refuse if read-only (ended or in transfer: 409), mutate, save with the events `mutate`
        returns; retried whole on a concurrent change."""

        async def work(tx: Transaction) -> tuple[Plan, ProgramVersion]:
            ownership, plan = await self.load(plan_id, by, tx.session)
            ownership.require_writable()
            program = await self.catalog.program(plan.program_id, plan.program_version)
            produced = mutate(plan, program, tx.clock.now())
            await self.commit(tx, plan, ownership, produced, by=by, resource=resource)
            return plan, program

        return await self.uow.run(work)

    async def commit(
        self,
        tx: Transaction,
        plan: Plan,
        ownership: PlanOwnership | None,
        produced: Sequence[Event],
        *,
        by: Principal | None,
        resource: str,
        reason: str = "",
    ) -> None:
        """Save the changed plan, its ownership copy if that changed, its events and the audit record
        (`by` None: the system), all in `tx`."""
        await self.plans.save(plan, tx.session)
        updated = plan.ownership(version=ownership.version if ownership else 1)
        if updated != ownership:
            await self.ownership.save(updated, tx.session)
        tx.publish(*produced)
        tx.audit(
            by, "update", resource, plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id, reason=reason
        )
