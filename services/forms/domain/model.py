"""Plans as forms sees them, responses with their results, and flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from services.forms.domain.scoring import Result


class PlanForms(BaseModel):
    """Who may answer what: the plan's patient, its unit, and the forms of its current form modules."""

    plan_id: str
    unit_id: str
    patient_personnummer: str
    program_id: str | None = None
    active: bool = True
    last_activity_at: datetime | None = None
    """The patient's latest activity seen here (plan start, a form, an activity registration, a message)."""
    current_forms: dict[str, list[str]] = {}
    """module id, "start" or a battery occasion key → form ids open for the patient."""

    def available(self, form_id: str, always_open: bool) -> bool:
        return self.active and (always_open or any(form_id in forms for forms in self.current_forms.values()))


class Response(BaseModel):
    id: str
    plan_id: str
    unit_id: str
    form_id: str
    form_version: int
    answers: dict[str, Any]
    status: Literal["draft", "submitted"]
    created_at: datetime
    submitted_at: datetime | None = None
    results: list[Result] = []
    rescored_at: datetime | None = None


FlagKind = Literal["result", "inactivity", "missed_activity", "outside_target", "what_matters"]


class Flag(BaseModel):
    id: str
    plan_id: str
    unit_id: str
    kind: FlagKind
    response_id: str | None = None
    label: str = ""
    raised_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None


class PlanStartedView(BaseModel):
    plan_id: str
    unit_id: str
    patient_personnummer: str
    program_id: str | None = None
    started_at: datetime | None = None
    current_form_refs: list[str] = []


class PlanEndedView(BaseModel):
    plan_id: str


class ModuleStateChangedView(BaseModel):
    plan_id: str
    module_id: str
    form_module: bool
    form_refs: list[str]
    state: Literal["current", "upcoming", "completed"]
    changed_at: datetime


class PatientMessageView(BaseModel):
    """`se.careplan.messaging.message_sent.v1` as forms reads it: only who sent it, and when."""

    plan_id: str
    sender_kind: Literal["patient", "staff"]
    sent_at: datetime
