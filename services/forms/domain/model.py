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
    active: bool = True
    current_forms: dict[str, list[str]] = {}
    """module id (or "start") → form ids the module references, while it is current."""

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


class Flag(BaseModel):
    id: str
    plan_id: str
    unit_id: str
    kind: Literal["result", "inactivity", "missed_activity", "what_matters"]
    response_id: str | None = None
    label: str = ""
    raised_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None


class PlanStartedView(BaseModel):
    plan_id: str
    unit_id: str
    patient_personnummer: str
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
