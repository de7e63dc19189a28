"""A plan: one program version started for one patient at one unit, and the rules for changing it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from services.plans.domain.flags import Flag
from services.plans.domain.program import ProgramVersion
from shared.kernel.errors import Conflict, NotFound

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


class Contact(BaseModel):
    id: str
    name: str
    role_title: str = ""
    phone: str = ""
    responsible: bool = False
    created_by: str
    created_by_name: str = ""
    created_at: datetime
    updated_at: datetime | None = None


class PlanningEntry(BaseModel):
    id: str
    text: str
    exact_date: date | None = None
    approximate: str | None = Field(default=None, description="e.g. 'början av april' when no exact date")
    month: str | None = Field(default=None, description="YYYY-MM the approximate entry sorts under")
    created_by: str
    created_by_name: str = ""
    created_by_kind: Literal["staff", "patient"]
    created_at: datetime


class PageComment(BaseModel):
    id: str
    page_id: str = Field(description="The module or section the comment is shown on.")
    text: str
    created_by: str
    created_by_name: str = ""
    created_at: datetime


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
    ended_by: str | None = None
    end_reason: str | None = None
    modules: list[PlanModule]
    step_visibility: dict[str, bool]
    welcome_text: str | None = None
    contacts: list[Contact] = []
    planning: list[PlanningEntry] = []
    comments: list[PageComment] = []
    last_active_at: datetime | None = None
    flags: list[Flag] = []

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
            id=str(uuid.uuid4()),
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
                PlanModule(
                    id=m.id,
                    state=ModuleState.CURRENT if m.current_at_start else ModuleState.UPCOMING,
                    state_changed_at=now,
                )
                for m in program.modules
            ],
            step_visibility={
                s.id: s.visible_at_start for m in program.modules for sec in m.sections for s in sec.steps
            },
        )

    @property
    def active(self) -> bool:
        return self.status is PlanStatus.ACTIVE

    def _require_active(self) -> None:
        if not self.active:
            raise Conflict("the plan has ended and can no longer be changed")

    def module(self, module_id: str) -> PlanModule:
        found = next((m for m in self.modules if m.id == module_id), None)
        if found is None:
            raise NotFound(f"no module {module_id!r} in this plan", field="module_id")
        return found

    def set_module_state(self, module_id: str, state: ModuleState, now: datetime) -> ModuleState:
        """Move a module; returns its previous state. Illegal moves are a Conflict."""
        self._require_active()
        module = self.module(module_id)
        previous = module.state
        if state not in ALLOWED_TRANSITIONS[previous]:
            raise Conflict(f"module {module_id!r} cannot go from {previous} to {state}", field="state")
        module.state = state
        module.state_changed_at = now
        return previous

    def set_step_visibility(self, step_id: str, visible: bool) -> bool:
        """Show or hide a step; returns whether anything changed."""
        self._require_active()
        if step_id not in self.step_visibility:
            raise NotFound(f"no step {step_id!r} in this plan", field="step_id")
        changed = self.step_visibility[step_id] != visible
        self.step_visibility[step_id] = visible
        return changed

    def days_since_start(self, now: datetime) -> int:
        return max(0, (now - self.started_at).days)

    def end(self, *, by: str, reason: str, now: datetime) -> None:
        self._require_active()
        self.status = PlanStatus.ENDED
        self.ended_at = now
        self.ended_by = by
        self.end_reason = reason

    def add_contact(self, contact: Contact) -> None:
        self._require_active()
        if contact.responsible:
            for other in self.contacts:
                other.responsible = False
        self.contacts.append(contact)

    def contact(self, contact_id: str) -> Contact:
        found = next((c for c in self.contacts if c.id == contact_id), None)
        if found is None:
            raise NotFound(f"no contact {contact_id!r} on this plan", field="contact_id")
        return found

    def change_contact(self, contact_id: str, changes: dict[str, object], now: datetime) -> Contact:
        self._require_active()
        contact = self.contact(contact_id)
        if changes.get("responsible"):
            for other in self.contacts:
                other.responsible = False
        for name, value in changes.items():
            setattr(contact, name, value)
        contact.updated_at = now
        return contact

    def remove_contact(self, contact_id: str) -> None:
        self._require_active()
        self.contacts.remove(self.contact(contact_id))

    def add_planning(self, entry: PlanningEntry) -> None:
        self._require_active()
        self.planning.append(entry)
        self.planning.sort(key=lambda e: e.exact_date.isoformat() if e.exact_date else (e.month or "9999"))

    def remove_planning(self, entry_id: str) -> None:
        self._require_active()
        entry = next((e for e in self.planning if e.id == entry_id), None)
        if entry is None:
            raise NotFound(f"no planning entry {entry_id!r} on this plan", field="entry_id")
        self.planning.remove(entry)

    def add_comment(self, comment: PageComment, program: ProgramVersion) -> None:
        self._require_active()
        pages = {m.id for m in program.modules} | {s.id for m in program.modules for s in m.sections}
        if comment.page_id not in pages:
            raise NotFound(f"no module or section {comment.page_id!r} in this plan", field="page_id")
        self.comments.append(comment)
