"""The flags on a plan, as the unit lists show them: a read model fed by other services' events.

The plans service never asks another service: each flag is raised and cleared by an event, and
its key makes raising and clearing idempotent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel


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


# -- the contracts of the events that feed the read model (tolerant readers) -----------------

MESSAGING_TOPIC = "careplan.messaging.v1"
FORMS_TOPIC = "careplan.forms.v1"


class MessageSent(BaseModel):
    """`se.careplan.messaging.message_sent.v1`"""

    plan_id: str
    conversation_id: str
    sender_kind: Literal["patient", "staff"]
    sent_at: datetime


class ConversationRead(BaseModel):
    """`se.careplan.messaging.conversation_read.v1`"""

    plan_id: str
    conversation_id: str
    reader_kind: Literal["patient", "staff"]


class ReplyDeadline(BaseModel):
    """`se.careplan.messaging.reply_due_soon.v1` and `se.careplan.messaging.reply_overdue.v1`"""

    plan_id: str
    conversation_id: str
    message_id: str
    deadline: datetime


class SlaMet(BaseModel):
    """`se.careplan.messaging.sla_met.v1`: a staff reply answered the conversation's open messages."""

    plan_id: str
    conversation_id: str


class ConversationDeleted(BaseModel):
    """`se.careplan.messaging.conversation_deleted.v1`: its flags go with it."""

    plan_id: str
    conversation_id: str


class FormsFlagRaised(BaseModel):
    """`se.careplan.forms.flag_raised.v1`"""

    plan_id: str
    flag_id: str
    kind: Literal["result", "inactivity", "missed_activity", "outside_target", "what_matters"]
    raised_at: datetime


class FormsFlagHandled(BaseModel):
    """`se.careplan.forms.flag_handled.v1`"""

    plan_id: str
    flag_id: str


class FormSubmitted(BaseModel):
    """`se.careplan.forms.form_submitted.v1`: counts as patient activity."""

    plan_id: str
    submitted_at: datetime


def unread_key(conversation_id: str) -> str:
    return f"messaging:unread:{conversation_id}"


def sla_key(conversation_id: str) -> str:
    return f"messaging:sla:{conversation_id}"


def forms_key(flag_id: str) -> str:
    return f"forms:{flag_id}"
