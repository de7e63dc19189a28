"""Tolerant readers of the events that feed and trigger notifications: only the fields used here
(pydantic ignores the rest). Subscriptions name the events by their contract classes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.contracts.handover import HandoverCompleted

HANDOVER_COMPLETED = HandoverCompleted.ce_type


class PlanRef(BaseModel):
    """`plans.PlanEnded`."""

    plan_id: str


class MessageSentView(BaseModel):
    """`messaging.MessageSent`."""

    plan_id: str
    message_id: str
    sender_kind: Literal["patient", "staff"]
    notify_inbox: Literal["direct", "none"] = "none"


class ReplyEscalatedView(BaseModel):
    """`messaging.ReplyEscalated`."""

    plan_id: str
    message_id: str


class PatientNotificationDueView(BaseModel):
    """`forms.PatientNotificationDue`: a form module became current a day ago, or a form is due."""

    plan_id: str
    notification_id: str
    reason: Literal["form_module", "form_due", "reminder"]


class PurgeReminderView(BaseModel):
    """`retention.PurgeReminderDue`."""

    plan_id: str
    days_left: int


class HandoverCompletedView(BaseModel):
    """`se.careplan.handover.completed.v1`: the plan now belongs to `to_unit_id`."""

    plan_id: str
    to_unit_id: str
    responsible_hsa_id: str = ""
    """The receiving unit's responsible therapist (e-mailed)."""
