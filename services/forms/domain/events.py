"""Events the forms service publishes (topic `careplan.forms.v1`, keyed by plan id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from shared.events import Event, Topic, declare_topic

FORMS_TOPIC = declare_topic(Topic(name="careplan.forms.v1", partitions=6,
                                  description="Form submissions, results, flags and patient notifications, keyed by plan id."))


class FormsEvent(Event):
    topic: ClassVar[Topic] = FORMS_TOPIC
    plan_id: str
    unit_id: str


class FormSubmitted(FormsEvent):
    """A patient submitted a form (no answers in this event)."""

    ce_type: ClassVar[str] = "se.careplan.forms.form_submitted.v1"
    form_id: str
    form_version: int
    response_id: str
    submitted_at: datetime


class ResultFlagged(FormsEvent):
    ce_type: ClassVar[str] = "se.careplan.forms.result_flagged.v1"
    response_id: str
    form_id: str
    result_id: str
    label: str


class FlagRaised(FormsEvent):
    """A flag for the unit's lists, until a therapist handles it."""

    ce_type: ClassVar[str] = "se.careplan.forms.flag_raised.v1"
    flag_id: str
    kind: Literal["result", "inactivity", "missed_activity", "what_matters"]
    raised_at: datetime


class FlagHandled(FormsEvent):
    ce_type: ClassVar[str] = "se.careplan.forms.flag_handled.v1"
    flag_id: str
    handled_by: str


class WhatMattersAnswered(FormsEvent):
    """The patient's "What matters to me?" answer, for a journal system to record (personal data)."""

    ce_type: ClassVar[str] = "se.careplan.forms.what_matters_answered.v1"
    response_id: str
    answer: str
    answered_at: datetime


class PatientNotificationDue(FormsEvent):
    """Notify the patient (notifications service): a form module became current a day ago, or a form is due."""

    ce_type: ClassVar[str] = "se.careplan.forms.patient_notification_due.v1"
    notification_id: str
    reason: Literal["form_module", "form_due", "reminder"]
    form_ids: list[str]
