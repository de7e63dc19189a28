"""Use cases of the plans service: load, call the domain, save with events and audit, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.plans.adapters.fhir import care_plan
from services.plans.adapters.repository import FlagStore, PlanRepository, ProgramRepository
from services.plans.domain import commands
from services.plans.domain.lists import ListFilter, PlanPage, UnitList, row
from services.plans.domain.plan import Contact, PageComment, Plan, PlanningEntry, PlanStatus
from services.plans.domain.program import ProgramVersion
from services.plans.domain.views import PatientPlanView, StaffPlanView, patient_view, staff_view
from shared.contracts import plans as events
from shared.kernel.errors import Conflict, Forbidden, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.messaging.events import Event
from shared.storage.unit_of_work import Transaction, UnitOfWork

PLAN_NOT_FOUND = "no such plan"
PlanView = StaffPlanView | PatientPlanView


class PlansService:
    """Every operation on programs and plans; HTTP routes and consumers call these."""

    def __init__(self, uow: UnitOfWork, programs: ProgramRepository, plans: PlanRepository, flags: FlagStore) -> None:
        self.uow = uow
        self.programs = programs
        self.plans = plans
        self.flags = flags

    # -- programs ---------------------------------------------------------------------------

    async def import_program(self, program: ProgramVersion, by: Staff) -> bool:
        """Publish a program version; True if new, False if this exact content was already published."""

        async def work(tx: Transaction) -> bool:
            existing = await self.programs.digest(program.program_id, program.version, tx.session)
            if existing == program.digest():
                return False
            if existing is not None:
                raise Conflict(
                    f"{program.program_id} version {program.version} is published with other content; "
                    "publish a new version",
                    field="version",
                )
            await self.programs.add(program, published_by=by.hsa_id, now=tx.clock.now(), session=tx.session)
            return True

        return await self.uow.run(work)

    async def program(self, program_id: str, version: str) -> ProgramVersion:
        program = await self.programs.get(program_id, version)
        if program is None:
            raise NotFound(f"no program {program_id!r} version {version!r}", field="program_version")
        return program

    # -- plans ------------------------------------------------------------------------------

    async def start_plan(self, command: commands.StartPlan, by: Staff) -> StaffPlanView:
        program = await self.program(command.program_id, command.program_version)

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
            await self.plans.add(plan, tx.session)
            tx.publish(
                events.PlanStarted(
                    plan_id=plan.id,
                    unit_id=plan.unit_id,
                    patient_personnummer=plan.patient_personnummer,
                    protected_identity=plan.protected_identity,
                    program_id=plan.program_id,
                    program_version=plan.program_version,
                    responsible_hsa_id=plan.responsible_hsa_id,
                    started_at=plan.started_at,
                    current_form_refs=[
                        s.content.form_ref
                        for m in program.modules
                        if m.current_at_start
                        for sec in m.sections
                        for s in sec.steps
                        if s.content.form_ref
                    ],
                )
            )
            tx.audit(by, "create", "plan", plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id)
            return plan

        plan = await self.uow.run(work)
        return staff_view(plan, program, self.uow.clock.now())

    async def _load_for(self, plan_id: str, principal: Principal, session: Any = None) -> Plan:
        """The plan if the caller may see it; otherwise the same NotFound as for a missing plan."""
        plan = await self.plans.get(plan_id, session)
        if plan is None:
            raise NotFound(PLAN_NOT_FOUND)
        if isinstance(principal, Staff) and plan.unit_id != principal.unit_id:
            raise NotFound(PLAN_NOT_FOUND)
        if isinstance(principal, Patient) and plan.patient_personnummer != principal.personnummer:
            raise NotFound(PLAN_NOT_FOUND)
        return plan

    async def staff_view(self, plan_id: str, by: Staff) -> StaffPlanView:
        plan = await self._load_for(plan_id, by)
        program = await self.program(plan.program_id, plan.program_version)
        await self._audit_read(by, plan, "plan")
        return staff_view(plan, program, self.uow.clock.now())

    async def patient_view(self, plan_id: str, by: Principal) -> PatientPlanView:
        """The patient's own view, or staff previewing it."""
        plan = await self._load_for(plan_id, by)
        program = await self.program(plan.program_id, plan.program_version)
        await self._audit_read(by, plan, "plan.patient_view")
        if isinstance(by, Patient):
            await self.flags.touch(plan.id, self.uow.clock.now())
        return patient_view(plan, program, self.uow.clock.now())

    async def patient_plans(self, patient: Patient) -> list[PatientPlanView]:
        plans = [p for p in await self.plans.for_patient(patient.personnummer) if p.status is PlanStatus.ACTIVE]
        views = []
        for plan in plans:
            program = await self.program(plan.program_id, plan.program_version)
            views.append(patient_view(plan, program, self.uow.clock.now()))
            await self._audit_read(patient, plan, "plan.patient_view")
            await self.flags.touch(plan.id, self.uow.clock.now())
        return views

    async def unit_list(self, which: UnitList, filters: ListFilter, page: int, page_size: int, by: Staff) -> PlanPage:
        """'Mine', 'All' or 'Ended' at the caller's unit; every therapist sees every plan of the unit."""
        status = PlanStatus.ENDED if which is UnitList.ENDED else PlanStatus.ACTIVE
        if which is UnitList.MINE:
            filters = filters.model_copy(update={"responsible_hsa_id": by.hsa_id})
        plans, total = await self.plans.for_unit(
            by.unit_id, status=status, filters=filters, skip=(page - 1) * page_size, limit=page_size
        )
        records = [
            self.uow.audit_log.build(
                by, "read", "plan.list_row", p.id, patient=p.patient_personnummer, unit_id=p.unit_id
            )
            for p in plans
        ]
        await self.uow.audit_log.write(records)
        return PlanPage(list=which, total=total, page=page, page_size=page_size, items=[row(p) for p in plans])

    async def fhir_care_plan(self, plan_id: str, by: Staff) -> dict[str, Any]:
        plan = await self._load_for(plan_id, by)
        program = await self.program(plan.program_id, plan.program_version)
        await self._audit_read(by, plan, "plan.fhir")
        return care_plan(plan, program)

    async def _audit_read(self, by: Principal, plan: Plan, resource: str) -> None:
        await self.uow.audit_log.record(
            by, "read", resource, plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id
        )

    async def change(
        self,
        plan_id: str,
        by: Principal,
        resource: str,
        mutate: Callable[[Plan, ProgramVersion, Transaction], list[Event]],
    ) -> PlanView:
        """Load, mutate, save with the events `mutate` returns; retried whole on a concurrent change."""

        async def work(tx: Transaction) -> tuple[Plan, ProgramVersion]:
            plan = await self._load_for(plan_id, by, tx.session)
            program = await self.program(plan.program_id, plan.program_version)
            produced = mutate(plan, program, tx)
            await self.plans.save(plan, tx.session)
            tx.publish(*produced)
            tx.audit(by, "update", resource, plan.id, patient=plan.patient_personnummer, unit_id=plan.unit_id)
            return plan, program

        plan, program = await self.uow.run(work)
        now = self.uow.clock.now()
        return staff_view(plan, program, now) if isinstance(by, Staff) else patient_view(plan, program, now)

    async def set_module_state(
        self, plan_id: str, module_id: str, command: commands.SetModuleState, by: Staff
    ) -> StaffPlanView:
        def mutate(plan: Plan, program: ProgramVersion, tx: Transaction) -> list[Event]:
            now = tx.clock.now()
            previous = plan.set_module_state(module_id, command.state, now)
            module = program.module(module_id)
            assert module is not None
            refs = [s.content.form_ref for sec in module.sections for s in sec.steps if s.content.form_ref]
            return [
                events.ModuleStateChanged(
                    plan_id=plan.id,
                    unit_id=plan.unit_id,
                    module_id=module_id,
                    form_module=module.form_module,
                    form_refs=refs,
                    previous_state=previous.value,
                    state=command.state.value,
                    changed_at=now,
                )
            ]

        return await self.change(plan_id, by, "plan.modules", mutate)

    async def set_step_visibility(
        self, plan_id: str, step_id: str, command: commands.SetStepVisibility, by: Staff
    ) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, __: Transaction) -> list[Event]:
            if not plan.set_step_visibility(step_id, command.visible):
                return []
            return [
                events.StepVisibilityChanged(
                    plan_id=plan.id, unit_id=plan.unit_id, step_id=step_id, visible=command.visible
                )
            ]

        return await self.change(plan_id, by, "plan.steps", mutate)

    async def set_welcome_text(self, plan_id: str, command: commands.SetWelcomeText, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, __: Transaction) -> list[Event]:
            plan.welcome_text = command.text
            return [events.WelcomeTextChanged(plan_id=plan.id, unit_id=plan.unit_id)]

        return await self.change(plan_id, by, "plan.welcome_text", mutate)

    async def add_contact(self, plan_id: str, command: commands.AddContact, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, tx: Transaction) -> list[Event]:
            contact = Contact(
                id=str(uuid.uuid4()),
                created_by=by.hsa_id,
                created_by_name=by.name,
                created_at=tx.clock.now(),
                **command.model_dump(),
            )
            plan.add_contact(contact)
            return [
                events.ContactsChanged(plan_id=plan.id, unit_id=plan.unit_id, contact_id=contact.id, change="added")
            ]

        return await self.change(plan_id, by, "plan.contacts", mutate)

    async def change_contact(
        self, plan_id: str, contact_id: str, command: commands.ChangeContact, by: Staff
    ) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, tx: Transaction) -> list[Event]:
            plan.change_contact(contact_id, command.model_dump(exclude_none=True), tx.clock.now())
            return [
                events.ContactsChanged(plan_id=plan.id, unit_id=plan.unit_id, contact_id=contact_id, change="changed")
            ]

        return await self.change(plan_id, by, "plan.contacts", mutate)

    async def remove_contact(self, plan_id: str, contact_id: str, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, __: Transaction) -> list[Event]:
            plan.remove_contact(contact_id)
            return [
                events.ContactsChanged(plan_id=plan.id, unit_id=plan.unit_id, contact_id=contact_id, change="removed")
            ]

        return await self.change(plan_id, by, "plan.contacts", mutate)

    async def add_planning(self, plan_id: str, command: commands.AddPlanningEntry, by: Principal) -> PlanView:
        def mutate(plan: Plan, _: ProgramVersion, tx: Transaction) -> list[Event]:
            kind = "staff" if isinstance(by, Staff) else "patient"
            author, name = (by.hsa_id, by.name) if isinstance(by, Staff) else ("patient", "")
            entry = PlanningEntry(
                id=str(uuid.uuid4()),
                created_by=author,
                created_by_name=name,
                created_by_kind=kind,
                created_at=tx.clock.now(),
                **command.model_dump(),
            )
            plan.add_planning(entry)
            return [
                events.PlanningChanged(
                    plan_id=plan.id, unit_id=plan.unit_id, entry_id=entry.id, change="added", by_kind=kind
                )
            ]

        return await self.change(plan_id, by, "plan.planning", mutate)

    async def remove_planning(self, plan_id: str, entry_id: str, by: Principal) -> PlanView:
        def mutate(plan: Plan, _: ProgramVersion, __: Transaction) -> list[Event]:
            entry = next((e for e in plan.planning if e.id == entry_id), None)
            if isinstance(by, Patient) and entry is not None and entry.created_by_kind != "patient":
                raise Forbidden("a patient may remove only their own planning entries")
            plan.remove_planning(entry_id)
            kind = "staff" if isinstance(by, Staff) else "patient"
            return [
                events.PlanningChanged(
                    plan_id=plan.id, unit_id=plan.unit_id, entry_id=entry_id, change="removed", by_kind=kind
                )
            ]

        return await self.change(plan_id, by, "plan.planning", mutate)

    async def add_comment(self, plan_id: str, command: commands.AddPageComment, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, program: ProgramVersion, tx: Transaction) -> list[Event]:
            comment = PageComment(
                id=str(uuid.uuid4()),
                page_id=command.page_id,
                text=command.text,
                created_by=by.hsa_id,
                created_by_name=by.name,
                created_at=tx.clock.now(),
            )
            plan.add_comment(comment, program)
            return [
                events.PageCommentAdded(
                    plan_id=plan.id, unit_id=plan.unit_id, comment_id=comment.id, page_id=comment.page_id
                )
            ]

        return await self.change(plan_id, by, "plan.comments", mutate)

    async def change_responsible(self, plan_id: str, command: commands.ChangeResponsible, by: Staff) -> StaffPlanView:
        if not by.has_any(Role.PATIENT_ADMIN):
            raise Forbidden("only a patient admin changes the responsible therapist")

        def mutate(plan: Plan, _: ProgramVersion, __: Transaction) -> list[Event]:
            previous = plan.responsible_hsa_id
            plan.responsible_hsa_id = command.responsible_hsa_id
            return [
                events.ResponsibleChanged(
                    plan_id=plan.id,
                    unit_id=plan.unit_id,
                    previous_hsa_id=previous,
                    responsible_hsa_id=command.responsible_hsa_id,
                )
            ]

        return await self.change(plan_id, by, "plan.responsible", mutate)

    async def end_plan(self, plan_id: str, command: commands.EndPlan, by: Staff) -> StaffPlanView:
        def mutate(plan: Plan, _: ProgramVersion, tx: Transaction) -> list[Event]:
            now = tx.clock.now()
            plan.end(by=by.hsa_id, reason=command.reason, now=now)
            return [events.PlanEnded(plan_id=plan.id, unit_id=plan.unit_id, ended_at=now, reason=command.reason)]

        return await self.change(plan_id, by, "plan", mutate)
