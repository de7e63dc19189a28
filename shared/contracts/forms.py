"""Events the forms service publishes (topic `careplan.forms.v1`, keyed by plan id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.contracts.transfer import TransferAppliedBase, transfer_applied_type
from shared.crypto.personal import Personal
from shared.messaging.events import Event, Topic, declare_topic

FORMS_TOPIC = declare_topic(
    Topic(
        name="careplan.forms.v1",
        partitions=6,
        description="Form submissions, results, flags and patient notifications, keyed by plan id.",
    )
)


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
    label: Personal[str]
    """The interpretation of the patient's result (health data): sealed with the plan's key on Kafka."""


class FlagRaised(FormsEvent):
    """A flag for the unit's lists, until a therapist handles it."""

    ce_type: ClassVar[str] = "se.careplan.forms.flag_raised.v1"
    flag_id: str
    kind: Literal["result", "inactivity", "missed_activity", "outside_target", "what_matters"]
    raised_at: datetime


class FlagHandled(FormsEvent):
    ce_type: ClassVar[str] = "se.careplan.forms.flag_handled.v1"
    flag_id: str
    handled_by: str


class WhatMattersAnswered(FormsEvent):
    """The patient's "What matters to me?" answer, for a journal system to record (personal data)."""

    ce_type: ClassVar[str] = "se.careplan.forms.what_matters_answered.v1"
    response_id: str
    answer: Personal[str]
    answered_at: datetime


class PatientNotificationDue(FormsEvent):
    """Notify the patient (notifications service): a form module became current a day ago, or a form is due."""

    ce_type: ClassVar[str] = "se.careplan.forms.patient_notification_due.v1"
    notification_id: str
    reason: Literal["form_module", "form_due", "reminder"]
    form_ids: list[str]


class MeasurementDue(FormsEvent):
    """A battery's occasion started: its forms are open for the patient until each is submitted."""

    ce_type: ClassVar[str] = "se.careplan.forms.measurement_due.v1"
    battery_id: str
    occasion: int
    trigger: Literal["plan_start", "now", "module_start", "schedule"]
    form_ids: list[str]
    due_at: datetime


class MeasurementCompleted(FormsEvent):
    """The patient submitted every form of a battery's occasion."""

    ce_type: ClassVar[str] = "se.careplan.forms.measurement_completed.v1"
    battery_id: str
    occasion: int
    completed_at: datetime


class BatteryStopped(FormsEvent):
    ce_type: ClassVar[str] = "se.careplan.forms.battery_stopped.v1"
    battery_id: str
    stopped_at: datetime


class ActivityPlanSaved(FormsEvent):
    """An activity plan was created or changed (its schedule and settings live in the forms service)."""

    ce_type: ClassVar[str] = "se.careplan.forms.activity_plan_saved.v1"
    activity_plan_id: str
    revision: int
    enabled: bool


class ActivityRegistered(FormsEvent):
    """The patient registered an occasion of an activity plan (done or skipped; no values here)."""

    ce_type: ClassVar[str] = "se.careplan.forms.activity_registered.v1"
    activity_plan_id: str
    occasion: datetime
    skipped: bool
    registered_at: datetime


class ActivityMissed(FormsEvent):
    """An occasion's registration window closed without a registration."""

    ce_type: ClassVar[str] = "se.careplan.forms.activity_missed.v1"
    activity_plan_id: str
    occasion: datetime


class PurgeReceipt(PurgeReceiptBase):
    """The forms service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("forms")
    topic: ClassVar[Topic] = FORMS_TOPIC


class ExportPart(ExportPartBase):
    """The forms service's part of a plan's export for the journal (an answer to `export_requested`)."""

    ce_type: ClassVar[str] = export_part_type("forms")
    topic: ClassVar[Topic] = FORMS_TOPIC


class TransferApplied(TransferAppliedBase):
    """The forms service's ownership copy followed a handover's transfer (or its reversal)."""

    ce_type: ClassVar[str] = transfer_applied_type("forms")
    topic: ClassVar[Topic] = FORMS_TOPIC
