"""Forms' own state of a plan, responses with their results, flags, and the events they raise.

Who may see or change a plan is not here: that is the plan's ownership (`shared.ownership`), kept
from the plans service's events. `PlanForms` holds only what the forms service itself decides: the
forms open to the patient now and the patient's latest activity.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from services.forms.domain.definition import FormDefinition
from services.forms.domain.scoring import Result, score, validate_answers
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid

BATTERY_PREFIX = "battery:"


class PlanForms(BaseModel):
    """The forms open for the patient of one plan, and when the patient was last active."""

    plan_id: str
    last_activity_at: datetime | None = None
    """The patient's latest activity seen here (plan start, a form, an activity registration, a message)."""
    current_forms: dict[str, list[str]] = {}
    """module id, "start" or a battery occasion key → form ids open for the patient."""

    def available(self, form_id: str, always_open: bool) -> bool:
        return always_open or any(form_id in forms for forms in self.current_forms.values())

    def require_open(self, form: FormDefinition) -> None:
        """Conflict unless a current module or measurement asks for the form (or it is always open)."""
        if not self.available(form.form_id, always_open=form.kind == "what_matters"):
            raise Conflict(
                f"form {form.form_id!r} is not open for this plan now (no current module or measurement asks for it)",
                field="form_id",
            )

    def open_forms(self) -> dict[str, list[str]]:
        return {key: forms for key, forms in self.current_forms.items() if forms}

    def module_changed(self, module_id: str, state: str, form_refs: list[str]) -> None:
        """A module became current (its forms open) or stopped being so (they close, also from "start")."""
        if state == "current":
            self.current_forms[module_id] = list(form_refs)
            return
        self.current_forms.pop(module_id, None)
        self.current_forms["start"] = [f for f in self.current_forms.get("start", []) if f not in form_refs]

    def note_activity(self, at: datetime) -> bool:
        """Record the patient's activity at `at`; False if as late an activity is known already."""
        if self.last_activity_at is not None and self.last_activity_at >= at:
            return False
        self.last_activity_at = at
        return True

    def submitted(self, form_id: str, unit_id: str, now: datetime) -> list[events.MeasurementCompleted]:
        """A submitted form counts for every open battery occasion asking for it; a complete one closes."""
        completed = []
        asking = [k for k, forms in self.current_forms.items() if k.startswith(BATTERY_PREFIX) and form_id in forms]
        for key in asking:
            remaining = [f for f in self.current_forms[key] if f != form_id]
            if remaining:
                self.current_forms[key] = remaining
                continue
            del self.current_forms[key]
            battery_id, number = key.removeprefix(BATTERY_PREFIX).rsplit(":", 1)
            completed.append(
                events.MeasurementCompleted(
                    plan_id=self.plan_id, unit_id=unit_id, battery_id=battery_id, occasion=int(number), completed_at=now
                )
            )
        return completed


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

    @classmethod
    def answer(
        cls, form: FormDefinition, plan_id: str, unit_id: str, answers: dict[str, Any], *, draft: bool, now: datetime
    ) -> Response:
        """A draft (questions may be left out) or a scored submission; Invalid naming the first question at fault."""
        errors = validate_answers(form, answers, complete=not draft)
        if errors:
            raise Invalid("; ".join(f"question {e.question}: {e.rule}" for e in errors), field=errors[0].question)
        return cls(
            id=str(uuid.uuid4()),
            plan_id=plan_id,
            unit_id=unit_id,
            form_id=form.form_id,
            form_version=form.version,
            answers=answers,
            status="draft" if draft else "submitted",
            created_at=now,
            submitted_at=None if draft else now,
            results=[] if draft else score(form, answers),
        )

    def rescore(self, form: FormDefinition, now: datetime) -> None:
        """Recompute the results with `form`'s rules (a later version of the same form)."""
        self.results, self.rescored_at, self.form_version = score(form, self.answers), now, form.version

    def submitted_event(self, unit_id: str) -> events.FormSubmitted:
        assert self.submitted_at is not None
        return events.FormSubmitted(
            plan_id=self.plan_id,
            unit_id=unit_id,
            form_id=self.form_id,
            form_version=self.form_version,
            response_id=self.id,
            submitted_at=self.submitted_at,
        )

    def visible_to_patient(self) -> Response:
        """The response with only the results its patient may see."""
        return self.model_copy(update={"results": [x for x in self.results if x.visible_to_patient]})


FlagKind = Literal["result", "inactivity", "missed_activity", "outside_target", "what_matters"]


class Flag(BaseModel):
    id: str
    """Says what raised it, so the same cause never raises it twice."""
    plan_id: str
    unit_id: str
    kind: FlagKind
    response_id: str | None = None
    label: str = ""
    raised_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None

    def raised(self) -> events.FlagRaised:
        return events.FlagRaised(
            plan_id=self.plan_id, unit_id=self.unit_id, flag_id=self.id, kind=self.kind, raised_at=self.raised_at
        )

    def handle(self, by_hsa_id: str, unit_id: str, now: datetime) -> list[events.FlagHandled]:
        """Acknowledged: it leaves the unit's lists (once; handling it again changes nothing)."""
        if self.handled_at is not None:
            return []
        self.handled_at, self.handled_by = now, by_hsa_id
        return [events.FlagHandled(plan_id=self.plan_id, unit_id=unit_id, flag_id=self.id, handled_by=by_hsa_id)]


class PlanStartedView(BaseModel):
    """`plan.started` as forms reads it (who holds the plan is the ownership projector's part)."""

    plan_id: str
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
