"""The export saga's shared vocabulary: when a plan ends, retention asks every service holding plan
data for its part of the journal export (`se.careplan.retention.export_requested.v1`); each answers
with `se.careplan.<service>.export_part.v1` on its own topic, carrying its part as `content`.

A part is personal data (texts, answers, names): its `content` is sealed with the plan's key on
Kafka (crypto-shredding, `shared.messaging.sealing`), so the purge that destroys the key leaves
nothing readable on the topics. The part models below are what retention renders into the FHIR
Bundle and the PDF; each service fills in its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.messaging.events import Event

EXPORTING_SERVICES: tuple[str, ...] = ("plans", "messaging", "forms", "notifications", "handover")
"""Every service that supplies a part of a plan's export (retention assembles them)."""


def export_part_type(service: str) -> str:
    """The ce_type of a service's export part."""
    return f"se.careplan.{service}.export_part.v1"


class AuditSummary(BaseModel):
    """How often the plan's data was read or changed in one service, by action and resource
    (no identities: who did it stays in the audit trail itself)."""

    counts: dict[str, int] = Field(default={}, description='"action resource" → number of audit records')
    first_at: datetime | None = None
    last_at: datetime | None = None


class PlanModulePart(BaseModel):
    module_id: str
    title: str
    state: str
    visible_steps: list[dict[str, Any]] = Field(default=[], description="Each step's id, title and visible text.")


class PlanPart(BaseModel):
    """The plans service's part: the plan itself."""

    program_id: str
    program_version: str
    program_title: str = ""
    unit_id: str
    patient_personnummer: str
    patient_name: str = ""
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    welcome_text: str = ""
    modules: list[PlanModulePart] = []
    contacts: list[dict[str, Any]] = []
    planning: list[dict[str, Any]] = []
    page_comments: list[dict[str, Any]] = []
    audit: AuditSummary = AuditSummary()


class MessagePart(BaseModel):
    author_kind: str = Field(description="patient or staff")
    author_hsa_id: str | None = None
    sent_at: datetime
    text: str


class ConversationPart(BaseModel):
    conversation_id: str
    subject: str
    started_at: datetime
    messages: list[MessagePart] = []


class MessagingPart(BaseModel):
    """The messaging service's part: every conversation and message."""

    conversations: list[ConversationPart] = []
    audit: AuditSummary = AuditSummary()


class FormResponsePart(BaseModel):
    response_id: str
    form_id: str
    form_title: str = ""
    submitted_at: datetime
    answers: list[dict[str, Any]] = Field(default=[], description="Each question's id, text and answer.")
    result: dict[str, Any] | None = Field(default=None, description="Score, interpretation, flags, rule version.")


class FormsPart(BaseModel):
    """The forms service's part: every answer and result, activity plans and registrations."""

    responses: list[FormResponsePart] = []
    activity_plans: list[dict[str, Any]] = []
    registrations: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    audit: AuditSummary = AuditSummary()


class NotificationPart(BaseModel):
    trigger_kind: str
    channel: str
    state: str
    created_at: datetime
    sent_at: datetime | None = None


class NotificationsPart(BaseModel):
    """The notifications service's part: what was sent when (never the addresses)."""

    notifications: list[NotificationPart] = []
    audit: AuditSummary = AuditSummary()


class HandoverPart(BaseModel):
    """The handover service's part: the plan's handovers between units."""

    handovers: list[dict[str, Any]] = []
    audit: AuditSummary = AuditSummary()


PART_MODELS: dict[str, type[BaseModel]] = {
    "plans": PlanPart,
    "messaging": MessagingPart,
    "forms": FormsPart,
    "notifications": NotificationsPart,
    "handover": HandoverPart,
}


class ExportPartBase(Event):
    """A service's part of a plan's export (subclassed per service, on that service's topic)."""

    plan_id: str
    export_id: str
    service: str
    produced_at: datetime
    content: dict[str, Any] = Field(
        description="The service's part (see `PART_MODELS`); personal data, sealed with the plan's key on Kafka."
    )
