"""Conversations and messages on a plan, and the reply SLA of a patient's message.

The objects change their own state and return the events a change raises; the service layer loads,
calls and saves. Events carry the unit that holds the plan *now* (from its ownership), never a unit
remembered in a document.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from services.messaging.domain.sla import reply_deadline
from shared.contracts import messaging as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Principal, Staff
from shared.kernel.workflow_ref import WorkflowRef
from shared.messaging.events import Event

CONVERSATION_NOT_FOUND = "no such conversation"
DRAFT_NOT_FOUND = "no such draft"
SENT_IS_FINAL = "a sent message cannot be changed"
SenderKind = Literal["patient", "staff"]
NotifyInbox = Literal["direct", "none"]
Flag = Literal["due_soon", "overdue"]
FLAGS: tuple[Flag, ...] = ("due_soon", "overdue")
"""The SLA's flags in the order they are raised."""
StartWorkflow = Callable[[str], WorkflowRef]
"""Opens the reply SLA's workflow trace for a message id (an observability concern, passed in)."""


class Sla(BaseModel):
    """The reply SLA of one patient message."""

    due_soon_at: datetime
    deadline: datetime
    state: Literal["open", "due_soon", "overdue", "met"] = "open"
    answered_at: datetime | None = None
    workflow: WorkflowRef

    @property
    def overdue_at(self) -> datetime:
        """The first instant after the deadline second."""
        return self.deadline + timedelta(seconds=1)

    @property
    def answered(self) -> bool:
        return self.state == "met"

    def flags_up_to(self, flag: Flag) -> list[Flag]:
        """The flags still to raise when `flag`'s moment has come, in order: flags only move forward,
        and an overdue one raised before the due-soon one (a clock jump) raises the due-soon one first."""
        if self.state == "met":
            return []
        raised = FLAGS.index(self.state) + 1 if self.state in FLAGS else 0
        return list(FLAGS[raised : FLAGS.index(flag) + 1])


class Message(BaseModel):
    id: str
    conversation_id: str
    plan_id: str
    sender_kind: SenderKind
    sender_ref: str
    sender_name: str = ""
    text: str
    status: Literal["draft", "sent"]
    created_at: datetime
    sent_at: datetime | None = None
    notify_inbox: NotifyInbox = "none"
    sla: Sla | None = None

    @classmethod
    def write(
        cls, conversation: Conversation, by: Principal, text: str, *, notify_inbox: NotifyInbox, now: datetime
    ) -> Message:
        """A new message as a draft of `by` (`send` sends it)."""
        kind, ref, name = sender(by)
        return cls(
            id=str(uuid.uuid4()),
            conversation_id=conversation.id,
            plan_id=conversation.plan_id,
            sender_kind=kind,
            sender_ref=ref,
            sender_name=name,
            text=text,
            status="draft",
            created_at=now,
            notify_inbox=notify_inbox,
        )

    def owned_by(self, principal: Principal) -> bool:
        kind, ref, _ = sender(principal)
        return self.sender_kind == kind and self.sender_ref == ref

    def visible_to(self, principal: Principal) -> bool:
        """A sent message is there for both sides; a draft only for its author."""
        return self.status == "sent" or self.owned_by(principal)

    def edit(self, text: str) -> None:
        if self.status != "draft":
            raise Forbidden(SENT_IS_FINAL)
        self.text = text

    def send(self, unit_id: str, now: datetime, start_workflow: StartWorkflow) -> events.MessageSent:
        """Send a draft; a patient's message starts its reply SLA."""
        if self.status != "draft":
            raise Forbidden(SENT_IS_FINAL)
        self.status, self.sent_at = "sent", now
        if self.sender_kind == "patient":
            deadline = reply_deadline(now)
            self.sla = Sla(
                due_soon_at=deadline.due_soon_at, deadline=deadline.deadline, workflow=start_workflow(self.id)
            )
        return events.MessageSent(
            plan_id=self.plan_id,
            unit_id=unit_id,
            conversation_id=self.conversation_id,
            message_id=self.id,
            sender_kind=self.sender_kind,
            sent_at=now,
            notify_inbox=self.notify_inbox,
            reply_deadline=self.sla.deadline if self.sla else None,
        )

    def raise_flag(self, flag: Flag, unit_id: str) -> list[Event]:
        """Raise one SLA flag (call in `Sla.flags_up_to` order); overdue also escalates to patient admins."""
        assert self.sla is not None and self.sla.flags_up_to(flag)[:1] == [flag], "flags are raised in order"
        self.sla.state = flag
        common = {
            "plan_id": self.plan_id,
            "unit_id": unit_id,
            "conversation_id": self.conversation_id,
            "message_id": self.id,
            "deadline": self.sla.deadline,
        }
        if flag == "due_soon":
            return [events.ReplyDueSoon(**common)]
        return [events.ReplyOverdue(**common), events.ReplyEscalated(**common)]

    def seconds_waited(self, now: datetime) -> float:
        assert self.sent_at is not None
        return (now - self.sent_at).total_seconds()


def answer(conversation: Conversation, unanswered: list[Message], unit_id: str, now: datetime) -> events.SlaMet | None:
    """A staff reply meets the SLA of every earlier unanswered patient message of the conversation."""
    if not unanswered:
        return None
    breached = any(m.sla is not None and m.sla.state == "overdue" for m in unanswered)
    for message in unanswered:
        assert message.sla is not None
        message.sla.state, message.sla.answered_at = "met", now
    return events.SlaMet(
        plan_id=conversation.plan_id,
        unit_id=unit_id,
        conversation_id=conversation.id,
        message_ids=[m.id for m in unanswered],
        replied_at=now,
        seconds_to_reply=max(m.seconds_waited(now) for m in unanswered),
        breached=breached,
    )


class Conversation(BaseModel):
    id: str
    plan_id: str
    subject: str
    created_at: datetime
    created_by_kind: SenderKind
    last_message_at: datetime | None = None
    unread_for_staff: int = 0
    unread_for_patient: int = 0
    deleted_at: datetime | None = None
    deleted_by: str | None = None

    @classmethod
    def start(cls, plan_id: str, subject: str, by: Principal, now: datetime) -> Conversation:
        return cls(id=str(uuid.uuid4()), plan_id=plan_id, subject=subject, created_at=now, created_by_kind=side(by))

    def require_not_deleted(self) -> None:
        if self.deleted_at is not None:
            raise NotFound(CONVERSATION_NOT_FOUND)

    def unread_for(self, reader: SenderKind) -> int:
        return self.unread_for_staff if reader == "staff" else self.unread_for_patient

    def record_sent(self, message: Message) -> None:
        """A sent message is unread for the other side."""
        if message.sender_kind == "patient":
            self.unread_for_staff += 1
        else:
            self.unread_for_patient += 1
        self.last_message_at = message.sent_at

    def mark_read(self, reader: SenderKind, unit_id: str, now: datetime) -> events.ConversationRead | None:
        """Everything is read for the reader's side; an event only if something was unread."""
        if not self.unread_for(reader):
            return None
        if reader == "staff":
            self.unread_for_staff = 0
        else:
            self.unread_for_patient = 0
        return events.ConversationRead(
            plan_id=self.plan_id, unit_id=unit_id, conversation_id=self.id, reader_kind=reader, read_at=now
        )

    def delete(self, by: Staff, unit_id: str, now: datetime) -> events.ConversationDeleted:
        """Soft delete: hidden from both sides, kept for the audit trail until the plan is purged."""
        self.require_not_deleted()
        self.deleted_at, self.deleted_by = now, by.hsa_id
        return events.ConversationDeleted(
            plan_id=self.plan_id, unit_id=unit_id, conversation_id=self.id, deleted_at=now
        )


def sender(principal: Principal) -> tuple[SenderKind, str, str]:
    """(kind, reference, display name) of a message's author."""
    if isinstance(principal, Staff):
        return "staff", principal.hsa_id, principal.name
    return "patient", "patient", ""


def side(principal: Principal) -> SenderKind:
    """Which side of a conversation a principal is on."""
    return "staff" if isinstance(principal, Staff) else "patient"
