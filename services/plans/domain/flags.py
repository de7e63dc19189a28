"""The flags on a plan, as the unit lists show them: a read model fed by other services' events.

The plans service never asks another service: each flag is raised and cleared by an event, and
its key makes raising and clearing idempotent. The events are read with narrow readers of their
own (tolerant readers of the publishers' contracts: only the fields used here).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel

from shared.contracts import forms, messaging


class FlagKind(StrEnum):
    UNREAD_MESSAGE = "unread_message"
    REPLY_DUE_SOON = "reply_due_soon"
    REPLY_OVERDUE = "reply_overdue"
    RESULT = "result"
    INACTIVITY = "inactivity"
    MISSED_ACTIVITY = "missed_activity"
    OUTSIDE_TARGET = "outside_target"
    WHAT_MATTERS = "what_matters"


class Flag(BaseModel):
    """One raised flag; `key` identifies it at its source (e.g. a conversation or a forms flag id)."""

    key: str
    kind: FlagKind
    raised_at: datetime


# -- readers of the events that feed the read model ---------------------------------------------

FEEDING_TOPICS = [messaging.MESSAGING_TOPIC.name, forms.FORMS_TOPIC.name]


class Reader(BaseModel):
    """A narrow reader of one published event type (`ce_type` from the publisher's contract)."""

    ce_type: ClassVar[str]
    plan_id: str


class MessageSent(Reader):
    ce_type: ClassVar[str] = messaging.MessageSent.ce_type
    conversation_id: str
    sender_kind: Literal["patient", "staff"]
    sent_at: datetime


class ConversationRead(Reader):
    ce_type: ClassVar[str] = messaging.ConversationRead.ce_type
    conversation_id: str
    reader_kind: Literal["patient", "staff"]


class ReplyDeadline(Reader):
    """A patient's message is about to miss, or missed, its reply deadline."""

    conversation_id: str
    message_id: str
    deadline: datetime


class ReplyDueSoon(ReplyDeadline):
    ce_type: ClassVar[str] = messaging.ReplyDueSoon.ce_type


class ReplyOverdue(ReplyDeadline):
    ce_type: ClassVar[str] = messaging.ReplyOverdue.ce_type


class SlaMet(Reader):
    """A staff reply answered the conversation's open messages."""

    ce_type: ClassVar[str] = messaging.SlaMet.ce_type
    conversation_id: str


class ConversationDeleted(Reader):
    """Its flags go with it."""

    ce_type: ClassVar[str] = messaging.ConversationDeleted.ce_type
    conversation_id: str


class FormsFlagRaised(Reader):
    ce_type: ClassVar[str] = forms.FlagRaised.ce_type
    flag_id: str
    kind: Literal["result", "inactivity", "missed_activity", "outside_target", "what_matters"]
    raised_at: datetime


class FormsFlagHandled(Reader):
    ce_type: ClassVar[str] = forms.FlagHandled.ce_type
    flag_id: str


class FormSubmitted(Reader):
    """Counts as patient activity."""

    ce_type: ClassVar[str] = forms.FormSubmitted.ce_type
    submitted_at: datetime


def unread_key(conversation_id: str) -> str:
    return f"messaging:unread:{conversation_id}"


def sla_key(conversation_id: str) -> str:
    return f"messaging:sla:{conversation_id}"


def forms_key(flag_id: str) -> str:
    return f"forms:{flag_id}"
