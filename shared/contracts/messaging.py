"""Events the messaging service publishes (topic `careplan.messaging.v1`, keyed by plan id).

No message text is ever in an event: subscribers learn that something happened, not what was said.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.contracts.transfer import TransferAppliedBase, transfer_applied_type
from shared.messaging.events import Event, Topic, declare_topic

MESSAGING_TOPIC = declare_topic(
    Topic(
        name="careplan.messaging.v1",
        partitions=6,
        description="Messages, reads and reply-SLA events, keyed by plan id.",
    )
)


class MessagingEvent(Event):
    topic: ClassVar[Topic] = MESSAGING_TOPIC
    plan_id: str
    unit_id: str
    conversation_id: str


class MessageSent(MessagingEvent):
    """A message was sent; staff messages say whether the patient is notified to the inbox at once."""

    ce_type: ClassVar[str] = "se.careplan.messaging.message_sent.v1"
    message_id: str
    sender_kind: Literal["patient", "staff"]
    sent_at: datetime
    notify_inbox: Literal["direct", "none"]
    reply_deadline: datetime | None = None


class ConversationRead(MessagingEvent):
    ce_type: ClassVar[str] = "se.careplan.messaging.conversation_read.v1"
    reader_kind: Literal["patient", "staff"]
    read_at: datetime


class ReplyDueSoon(MessagingEvent):
    """The deadline's working day has begun and the patient's message is still unanswered."""

    ce_type: ClassVar[str] = "se.careplan.messaging.reply_due_soon.v1"
    message_id: str
    deadline: datetime


class ReplyOverdue(MessagingEvent):
    """The deadline passed with the patient's message unanswered."""

    ce_type: ClassVar[str] = "se.careplan.messaging.reply_overdue.v1"
    message_id: str
    deadline: datetime


class ReplyEscalated(MessagingEvent):
    """For the unit's patient admins: an overdue reply needs someone to act."""

    ce_type: ClassVar[str] = "se.careplan.messaging.reply_escalated.v1"
    message_id: str
    deadline: datetime
    audience: Literal["patient_admins"] = "patient_admins"


class SlaMet(MessagingEvent):
    """A staff reply answered every earlier unanswered patient message of the conversation."""

    ce_type: ClassVar[str] = "se.careplan.messaging.sla_met.v1"
    message_ids: list[str]
    replied_at: datetime
    seconds_to_reply: float
    breached: bool


class ConversationDeleted(MessagingEvent):
    ce_type: ClassVar[str] = "se.careplan.messaging.conversation_deleted.v1"
    deleted_at: datetime


class PurgeReceipt(PurgeReceiptBase):
    """The messaging service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("messaging")
    topic: ClassVar[Topic] = MESSAGING_TOPIC


class ExportPart(ExportPartBase):
    """The messaging service's part of a plan's export for the journal (an answer to `export_requested`)."""

    ce_type: ClassVar[str] = export_part_type("messaging")
    topic: ClassVar[Topic] = MESSAGING_TOPIC


class TransferApplied(TransferAppliedBase):
    """The messaging service's ownership copy followed a handover's transfer (or its reversal)."""

    ce_type: ClassVar[str] = transfer_applied_type("messaging")
    topic: ClassVar[Topic] = MESSAGING_TOPIC
