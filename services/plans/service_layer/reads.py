"""Use cases that read plans: the staff view, the patient's view, the patient's plans, the unit lists
and the FHIR export. Every read of patient data is audited; ended plans stay readable."""

from __future__ import annotations

from typing import Any

from services.plans.adapters.fhir import care_plan
from services.plans.domain.lists import ListFilter, PlanPage, UnitList, row
from services.plans.domain.plan import Plan, PlanStatus
from services.plans.domain.views import PatientPlanView, StaffPlanView, patient_view, staff_view
from services.plans.service_layer.access import PlanAccess
from services.plans.service_layer.ports import FlagRepository
from shared.kernel.principals import Patient, Principal, Staff
from shared.ownership.model import authorize


class PlanReads:
    def __init__(self, access: PlanAccess, flags: FlagRepository) -> None:
        self.access = access
        self.uow = access.uow
        self.flags = flags

    async def staff_view(self, plan_id: str, by: Staff) -> StaffPlanView:
        plan, program = await self.access.read(plan_id, by, "plan")
        return staff_view(plan, program, self.uow.clock.now())

    async def patient_view(self, plan_id: str, by: Principal) -> PatientPlanView:
        """The patient's own view (their reading counts as activity), or staff previewing it."""
        plan, program = await self.access.read(plan_id, by, "plan.patient_view")
        if isinstance(by, Patient):
            await self.flags.touch(plan.id, self.uow.clock.now())
        return patient_view(plan, program, self.uow.clock.now())

    async def patient_plans(self, patient: Patient) -> list[PatientPlanView]:
        """The calling patient's active plans, newest first (at every unit)."""
        now, views = self.uow.clock.now(), []
        for plan in await self._active_plans_of(patient):
            program = await self.access.opened(plan, patient, "plan.patient_view")
            await self.flags.touch(plan.id, now)
            views.append(patient_view(plan, program, now))
        return views

    async def _active_plans_of(self, patient: Patient) -> list[Plan]:
        owned = [authorize(o, patient) for o in await self.access.ownership.of_patient(patient.personnummer)]
        plans = [await self.access.plans.get(o.plan_id) for o in owned if o.active]
        return sorted((p for p in plans if p is not None), key=lambda p: p.started_at, reverse=True)

    async def unit_list(self, which: UnitList, filters: ListFilter, page: int, page_size: int, by: Staff) -> PlanPage:
        """'Mine', 'All' or 'Ended' at the caller's unit; every therapist sees every plan of the unit."""
        status = PlanStatus.ENDED if which is UnitList.ENDED else PlanStatus.ACTIVE
        if which is UnitList.MINE:
            filters = filters.model_copy(update={"responsible_hsa_id": by.hsa_id})
        plans, total = await self.access.plans.for_unit(
            by.unit_id, status=status, filters=filters, skip=(page - 1) * page_size, limit=page_size
        )
        audit = self.uow.audit_log
        await audit.write(
            [
                audit.build(by, "read", "plan.list_row", p.id, patient=p.patient_personnummer, unit_id=p.unit_id)
                for p in plans
            ]
        )
        return PlanPage(list=which, total=total, page=page, page_size=page_size, items=[row(p) for p in plans])

    async def fhir_care_plan(self, plan_id: str, by: Staff) -> dict[str, Any]:
        plan, program = await self.access.read(plan_id, by, "plan.fhir")
        return care_plan(plan, program)
