"""The messaging service's part of a plan's export for the journal: every conversation with its sent
messages (drafts were never sent: they are not part of it). A conversation staff deleted is there
with its `deleted_at`: it was hidden, not unwritten, and the journal decides how to show it."""

from __future__ import annotations

from services.messaging.domain.model import Conversation, Message
from shared.contracts.export import AuditSummary, ConversationPart, MessagePart, MessagingPart


def messaging_part(conversations: list[Conversation], messages: list[Message], audit: AuditSummary) -> MessagingPart:
    """Conversations oldest first, each with its sent messages in the order they were sent."""
    sent = sorted(
        (m for m in messages if m.status == "sent" and m.sent_at is not None), key=lambda m: m.sent_at or m.created_at
    )
    return MessagingPart(
        conversations=[
            ConversationPart(
                conversation_id=c.id,
                subject=c.subject,
                started_at=c.created_at,
                deleted_at=c.deleted_at,
                messages=[_message(m) for m in sent if m.conversation_id == c.id],
            )
            for c in sorted(conversations, key=lambda c: c.created_at)
        ],
        audit=audit,
    )


def audited_ids(plan_id: str, conversations: list[Conversation], messages: list[Message]) -> set[str]:
    """What the service's audit records of this plan name: the plan, its conversations and messages."""
    return {plan_id, *(c.id for c in conversations), *(m.id for m in messages)}


def _message(message: Message) -> MessagePart:
    assert message.sent_at is not None  # only sent messages are exported
    staff = message.sender_kind == "staff"
    return MessagePart(
        author_kind=message.sender_kind,
        author_hsa_id=message.sender_ref if staff else None,
        author_name=message.sender_name if staff else "",
        sent_at=message.sent_at,
        text=message.text,
    )
