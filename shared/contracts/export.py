"""The export saga's shared vocabulary: when a plan ends, retention asks every service holding plan
data for its part of the journal export (`se.careplan.retention.export_requested.v1`); each answers
with `se.careplan.<service>.export_part.v1` on its own topic, carrying its part as `content`.

A part is personal data (texts, answers, names): its `content` is sealed with the plan's key on
Kafka (crypto-shredding, `shared.messaging.sealing`), so the purge that destroys the key leaves
nothing readable on the topics. The part models below are what retention renders into the FHIR
Bundle and the PDF; each service fills in its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol, Self

from pydantic import BaseModel, Field

from shared.crypto.personal import Personal
from shared.messaging.events import Event

EXPORTING_SERVICES: tuple[str, ...] = ("plans", "messaging", "forms", "notifications", "handover")
"""Every service that supplies a part of a plan's export (retention assembles them)."""


def export_part_type(service: str) -> str:
    """The ce_type of a service's export part."""
    return f"se.careplan.{service}.export_part.v1"


class AuditFact(Protocol):
    """What a summary reads of an audit record (`shared.audit.AuditRecord` is one)."""

    @property
    def action(self) -> str: ...

    @property
    def resource(self) -> str: ...

    @property
    def at(self) -> datetime: ...


class AuditSummary(BaseModel):
    """How often the plan's data was read or changed in one service, by action and resource
    (no identities: who did it stays in the audit trail itself)."""

    counts: dict[str, int] = Field(default={}, description='"action resource" → number of audit records')
    first_at: datetime | None = None
    last_at: datetime | None = None

    @classmethod
    def of(cls, records: Iterable[AuditFact]) -> AuditSummary:
        """Counts by "action resource" (sorted by key), and the first and last record's time."""
        counts: dict[str, int] = {}
        times: list[datetime] = []
        for record in records:
            key = f"{record.action} {record.resource}"
            counts[key] = counts.get(key, 0) + 1
            times.append(record.at)
        return cls(
            counts=dict(sorted(counts.items())),
            first_at=min(times, default=None),
            last_at=max(times, default=None),
        )


class PlanModulePart(BaseModel):
    module_id: str
    title: str
    state: str
    visible_steps: list[dict[str, Any]] = Field(
        default=[],
        description="Each step's id, title and visible text: id, section_id, section_title, title, text "
        "(Markdown), links, media, form_ref.",
    )
    state_changed_at: datetime | None = None


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
    protected_identity: bool = Field(default=False, description="The patient has a protected identity.")
    responsible_hsa_id: str = ""
    started_by: str = Field(default="", description="HSA-id of the staff member who started the plan.")
    ended_by: dict[str, Any] | None = Field(
        default=None, description="Who ended the plan: kind (staff or system), hsa_id and name."
    )


class MessagePart(BaseModel):
    author_kind: str = Field(description="patient or staff")
    author_hsa_id: str | None = None
    sent_at: datetime
    text: str
    author_name: str = Field(default="", description="The staff member's name as it was shown (patients: empty).")


class ConversationPart(BaseModel):
    conversation_id: str
    subject: str
    started_at: datetime
    messages: list[MessagePart] = []
    deleted_at: datetime | None = Field(
        default=None, description="Staff deleted (hid) the conversation then; it was kept for the audit trail."
    )


class MessagingPart(BaseModel):
    """The messaging service's part: every conversation and message."""

    conversations: list[ConversationPart] = []
    audit: AuditSummary = AuditSummary()


class FormResponsePart(BaseModel):
    response_id: str
    form_id: str
    form_title: str = ""
    submitted_at: datetime
    answers: list[dict[str, Any]] = Field(
        default=[],
        description="Each question's id, text and answer: question_id, text, answer (as stored), "
        "answer_text (option labels, or the value with its unit).",
    )
    result: dict[str, Any] | None = Field(
        default=None, description="Score, interpretation, flags, rule version: the first of `results`."
    )
    results: list[dict[str, Any]] = Field(
        default=[], description="Every result (subscale): value, label, flag, rule_version, visible_to_patient…"
    )
    form_version: int | None = Field(default=None, description="The form version the results were scored with.")
    rescored_at: datetime | None = None


class FormsPart(BaseModel):
    """The forms service's part: every answer and result, activity plans and registrations."""

    responses: list[FormResponsePart] = []
    activity_plans: list[dict[str, Any]] = []
    registrations: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    audit: AuditSummary = AuditSummary()
    batteries: list[dict[str, Any]] = Field(default=[], description="Measurement batteries started for the plan.")


class NotificationPart(BaseModel):
    trigger_kind: str
    channel: str
    state: str
    created_at: datetime
    sent_at: datetime | None = None
    recipient_kind: str | None = Field(default=None, description="patient or staff (never who, nor the address)")
    attempts: int = 0


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
    content: Personal[dict[str, Any]] = Field(
        description="The service's part (see `PART_MODELS`); personal data, sealed with the plan's key on Kafka."
    )

    @classmethod
    def answering(cls, plan_id: str, export_id: str, service: str, part: BaseModel, now: datetime) -> Self:
        """This service's answer to an export request: `part` (one of `PART_MODELS`) as JSON."""
        return cls(
            plan_id=plan_id, export_id=export_id, service=service, produced_at=now, content=part.model_dump(mode="json")
        )
