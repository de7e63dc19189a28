"""Conversations and messages on a plan, and who may see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.observability.workflow import WorkflowRef

CONVERSATION_NOT_FOUND = "no such conversation"
PLAN_NOT_FOUND = "no such plan"
SenderKind = Literal["patient", "staff"]


class PlanAccess(BaseModel):
    """What messaging knows of a plan (from the plans service's events): who may see it."""

    plan_id: str
    unit_id: str
    patient_personnummer: str
    responsible_hsa_id: str
    active: bool = True

    def visible_to(self, principal: Principal) -> bool:
        if isinstance(principal, Staff):
            return principal.unit_id == self.unit_id
        return isinstance(principal, Patient) and principal.personnummer == self.patient_personnummer

    def require_visible(self, principal: Principal) -> None:
        if not self.visible_to(principal):
            raise NotFound(PLAN_NOT_FOUND)

    def require_active(self) -> None:
        if not self.active:
            raise Conflict("the plan has ended: no new messages")


class Sla(BaseModel):
    """The reply SLA of one patient message."""

    due_soon_at: datetime
    deadline: datetime
    state: Literal["open", "due_soon", "overdue", "met"] = "open"
    answered_at: datetime | None = None
    workflow: WorkflowRef


class Message(BaseModel):
    id: str
    conversation_id: str
    plan_id: str
    unit_id: str
    sender_kind: SenderKind
    sender_ref: str
    sender_name: str = ""
    text: str
    status: Literal["draft", "sent"]
    created_at: datetime
    sent_at: datetime | None = None
    notify_inbox: Literal["direct", "none"] = "none"
    sla: Sla | None = None

    @classmethod
    def new(
        cls,
        conversation: Conversation,
        by: Principal,
        text: str,
        *,
        draft: bool,
        notify_inbox: Literal["direct", "none"],
        now: datetime,
    ) -> Message:
        kind, ref, name = sender(by)
        return cls(
            id=str(uuid.uuid4()),
            conversation_id=conversation.id,
            plan_id=conversation.plan_id,
            unit_id=conversation.unit_id,
            sender_kind=kind,
            sender_ref=ref,
            sender_name=name,
            text=text,
            status="draft" if draft else "sent",
            created_at=now,
            sent_at=None if draft else now,
            notify_inbox=notify_inbox,
        )

    def owned_by(self, principal: Principal) -> bool:
        kind, ref, _ = sender(principal)
        return self.sender_kind == kind and self.sender_ref == ref


class Conversation(BaseModel):
    id: str
    plan_id: str
    unit_id: str
    subject: str
    created_at: datetime
    created_by_kind: SenderKind
    last_message_at: datetime | None = None
    unread_for_staff: int = 0
    unread_for_patient: int = 0
    deleted_at: datetime | None = None
    deleted_by: str | None = None

    def require_not_deleted(self) -> None:
        if self.deleted_at is not None:
            raise NotFound(CONVERSATION_NOT_FOUND)


def sender(principal: Principal) -> tuple[SenderKind, str, str]:
    """(kind, reference, display name) of a message's author."""
    if isinstance(principal, Staff):
        return "staff", principal.hsa_id, principal.name
    return "patient", "patient", ""


class PlanStartedView(BaseModel):
    """The fields of `se.careplan.plan.started.v1` messaging needs (a tolerant reader)."""

    plan_id: str
    unit_id: str
    patient_personnummer: str
    responsible_hsa_id: str


class PlanEndedView(BaseModel):
    plan_id: str


class ResponsibleChangedView(BaseModel):
    plan_id: str
    responsible_hsa_id: str
