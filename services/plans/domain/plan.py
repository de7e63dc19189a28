"""A plan: one program version started for one patient at one unit, and the rules for changing it.

Every change is a method of `Plan` that checks the rules, changes the plan and returns the events
the change raises (the contract's events: `shared.contracts.plans`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, field_validator

from services.plans.domain.content import Actor, Contact, PageComment, PlanningEntry, new_id
from services.plans.domain.flags import Flag
from services.plans.domain.program import ProgramVersion
from services.plans.domain.transfer import TransferInFlight
from shared.contracts import plans as events
from shared.kernel.errors import Conflict, Forbidden, NotFound
from shared.ownership.model import OwnershipState, PlanOwnership

RETENTION_DAYS = 730


class ModuleState(StrEnum):
    CURRENT = "current"
    UPCOMING = "upcoming"
    COMPLETED = "completed"


ALLOWED_TRANSITIONS: dict[ModuleState, set[ModuleState]] = {
    ModuleState.UPCOMING: {ModuleState.CURRENT},
    ModuleState.CURRENT: {ModuleState.COMPLETED, ModuleState.UPCOMING},
    ModuleState.COMPLETED: {ModuleState.CURRENT, ModuleState.UPCOMING},
}


class PlanStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class PlanModule(BaseModel):
    id: str
    state: ModuleState
    state_changed_at: datetime


class Plan(BaseModel):
    """The plan aggregate. `revision` increases with every change (optimistic concurrency)."""

    id: str
    revision: int = 0
    unit_id: str
    patient_personnummer: str
    patient_name: str
    protected_identity: bool = False
    program_id: str
    program_version: str
    program_title: str
    responsible_hsa_id: str
    started_by: str
    started_at: datetime
    status: PlanStatus = PlanStatus.ACTIVE
    ended_at: datetime | None = None
    ended_by: Actor | None = None
    end_reason: str | None = None
    modules: list[PlanModule]
    step_visibility: dict[str, bool]
    welcome_text: str | None = None
    contacts: list[Contact] = []
    planning: list[PlanningEntry] = []
    comments: list[PageComment] = []
    last_active_at: datetime | None = None
    flags: list[Flag] = []
    transfer: TransferInFlight | None = None
    """A handover being applied: read-only at both units until it settles (`domain.transfer`)."""

    @field_validator("ended_by", mode="before")
    @classmethod
    def _staff_hsa_id_of_older_documents(cls, value: Any) -> Any:
        """Plans ended before the system could end them stored the staff member's HSA-id alone."""
        return Actor.staff(value) if isinstance(value, str) else value

    @classmethod
    def start(
        cls,
        program: ProgramVersion,
        *,
        unit_id: str,
        personnummer: str,
        patient_name: str,
        protected_identity: bool,
        responsible_hsa_id: str,
        started_by: str,
        now: datetime,
    ) -> Plan:
        """A new active plan: modules flagged 'current at start' are current, the rest upcoming."""
        return cls(
            id=new_id(),
            unit_id=unit_id,
            patient_personnummer=personnummer,
            patient_name=patient_name,
            protected_identity=protected_identity,
            program_id=program.program_id,
            program_version=program.version,
            program_title=program.title,
            responsible_hsa_id=responsible_hsa_id,
            started_by=started_by,
            started_at=now,
            modules=[
                PlanModule(id=m.id, state=_initial_state(m.current_at_start), state_changed_at=now)
                for m in program.modules
            ],
            step_visibility={
                s.id: s.visible_at_start for m in program.modules for sec in m.sections for s in sec.steps
            },
        )

    def started(self, program: ProgramVersion) -> events.PlanStarted:
        """The event of this plan's start (the forms of the modules current at start may be filled in at once)."""
        current = [m for m in program.modules if self.module(m.id).state is ModuleState.CURRENT]
        return events.PlanStarted(
            plan_id=self.id,
            unit_id=self.unit_id,
            patient_personnummer=self.patient_personnummer,
            protected_identity=self.protected_identity,
            program_id=self.program_id,
            program_version=self.program_version,
            responsible_hsa_id=self.responsible_hsa_id,
            started_at=self.started_at,
            current_form_refs=[ref for m in current for ref in program.form_refs(m)],
        )

    def ownership(self, version: int = 1) -> PlanOwnership:
        """Who holds this plan, as every service's access rule reads it (`version`: the holder's)."""
        return PlanOwnership(
            plan_id=self.id,
            unit_id=self.unit_id,
            patient_personnummer=self.patient_personnummer,
            protected_identity=self.protected_identity,
            responsible_hsa_id=self.responsible_hsa_id,
            program_id=self.program_id,
            program_version=self.program_version,
            state=OwnershipState.ENDED
            if not self.active
            else OwnershipState.TRANSFERRING
            if self.transfer
            else OwnershipState.ACTIVE,
            version=version,
            started_at=self.started_at,
            ended_at=self.ended_at,
        )

    @property
    def active(self) -> bool:
        return self.status is PlanStatus.ACTIVE

    def _require_active(self) -> None:
        if not self.active:
            raise Conflict("the plan has ended and is read-only", field="plan_id")

    def module(self, module_id: str) -> PlanModule:
        found = next((m for m in self.modules if m.id == module_id), None)
        if found is None:
            raise NotFound(f"no module {module_id!r} in this plan", field="module_id")
        return found

    def days_since_start(self, now: datetime) -> int:
        return max(0, (now - self.started_at).days)

    # -- changes: each returns the events it raises -------------------------------------------

    def set_module_state(
        self, program: ProgramVersion, module_id: str, state: ModuleState, now: datetime
    ) -> events.ModuleStateChanged:
        """Move a module; illegal moves are a Conflict."""
        self._require_active()
        module = self.module(module_id)
        previous = module.state
        if state not in ALLOWED_TRANSITIONS[previous]:
            raise Conflict(f"module {module_id!r} cannot go from {previous} to {state}", field="state")
        module.state, module.state_changed_at = state, now
        template = program.module(module_id)
        return events.ModuleStateChanged(
            plan_id=self.id,
            unit_id=self.unit_id,
            module_id=module_id,
            form_module=bool(template and template.form_module),
            form_refs=program.form_refs(template) if template else [],
            previous_state=previous.value,
            state=state.value,
            changed_at=now,
        )

    def set_step_visibility(self, step_id: str, visible: bool) -> list[events.StepVisibilityChanged]:
        """Show or hide a step; no event when nothing changed."""
        self._require_active()
        if step_id not in self.step_visibility:
            raise NotFound(f"no step {step_id!r} in this plan", field="step_id")
        if self.step_visibility[step_id] == visible:
            return []
        self.step_visibility[step_id] = visible
        return [events.StepVisibilityChanged(plan_id=self.id, unit_id=self.unit_id, step_id=step_id, visible=visible)]

    def set_welcome_text(self, text: str | None) -> events.WelcomeTextChanged:
        """An individual welcome text; None restores the program's."""
        self._require_active()
        self.welcome_text = text
        return events.WelcomeTextChanged(plan_id=self.id, unit_id=self.unit_id)

    def add_contact(self, contact: Contact) -> events.ContactsChanged:
        self._require_active()
        if contact.responsible:
            for other in self.contacts:
                other.responsible = False
        self.contacts.append(contact)
        return self._contacts_changed(contact.id, "added")

    def contact(self, contact_id: str) -> Contact:
        found = next((c for c in self.contacts if c.id == contact_id), None)
        if found is None:
            raise NotFound(f"no contact {contact_id!r} on this plan", field="contact_id")
        return found

    def change_contact(self, contact_id: str, changes: dict[str, object], now: datetime) -> events.ContactsChanged:
        self._require_active()
        contact = self.contact(contact_id)
        if changes.get("responsible"):
            for other in self.contacts:
                other.responsible = False
        for name, value in changes.items():
            setattr(contact, name, value)
        contact.updated_at = now
        return self._contacts_changed(contact_id, "changed")

    def remove_contact(self, contact_id: str) -> events.ContactsChanged:
        self._require_active()
        self.contacts.remove(self.contact(contact_id))
        return self._contacts_changed(contact_id, "removed")

    def _contacts_changed(
        self, contact_id: str, change: Literal["added", "changed", "removed"]
    ) -> events.ContactsChanged:
        return events.ContactsChanged(plan_id=self.id, unit_id=self.unit_id, contact_id=contact_id, change=change)

    def add_planning(self, entry: PlanningEntry) -> events.PlanningChanged:
        self._require_active()
        self.planning.append(entry)
        self.planning.sort(key=PlanningEntry.sort_key)
        return events.PlanningChanged(
            plan_id=self.id, unit_id=self.unit_id, entry_id=entry.id, change="added", by_kind=entry.created_by_kind
        )

    def remove_planning(self, entry_id: str, by: Actor) -> events.PlanningChanged:
        """Staff remove any entry; the patient only their own."""
        self._require_active()
        entry = next((e for e in self.planning if e.id == entry_id), None)
        if entry is None:
            raise NotFound(f"no planning entry {entry_id!r} on this plan", field="entry_id")
        if by.kind != "staff" and entry.created_by_kind != "patient":
            raise Forbidden("a patient may remove only their own planning entries")
        self.planning.remove(entry)
        return events.PlanningChanged(
            plan_id=self.id,
            unit_id=self.unit_id,
            entry_id=entry_id,
            change="removed",
            by_kind="staff" if by.kind == "staff" else "patient",
        )

    def add_comment(self, comment: PageComment, program: ProgramVersion) -> events.PageCommentAdded:
        self._require_active()
        if comment.page_id not in program.page_ids():
            raise NotFound(f"no module or section {comment.page_id!r} in this plan", field="page_id")
        self.comments.append(comment)
        return events.PageCommentAdded(
            plan_id=self.id, unit_id=self.unit_id, comment_id=comment.id, page_id=comment.page_id
        )

    def change_responsible(self, hsa_id: str) -> events.ResponsibleChanged:
        self._require_active()
        previous, self.responsible_hsa_id = self.responsible_hsa_id, hsa_id
        return events.ResponsibleChanged(
            plan_id=self.id, unit_id=self.unit_id, previous_hsa_id=previous, responsible_hsa_id=hsa_id
        )

    def end(self, *, by: Actor, reason: str, now: datetime) -> events.PlanEnded:
        """End the plan (staff, or the system at the retention limit); it is read-only from now on."""
        self._require_active()
        if by.kind == "patient":
            raise Forbidden("a patient cannot end a plan")
        self.status, self.ended_at, self.ended_by, self.end_reason = PlanStatus.ENDED, now, by, reason
        return events.PlanEnded(plan_id=self.id, unit_id=self.unit_id, ended_at=now, reason=reason)


def _initial_state(current_at_start: bool) -> ModuleState:
    return ModuleState.CURRENT if current_at_start else ModuleState.UPCOMING
