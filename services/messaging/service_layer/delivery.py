"""Storing a message someone wrote: a draft as it is; a sent one with its unread count, SLA and event."""

from __future__ import annotations

from services.messaging.domain.model import Conversation, Message
from services.messaging.service_layer.access import audit
from services.messaging.service_layer.ports import ConversationRepository, MessageRepository
from services.messaging.service_layer.sla import ReplySla, open_workflow
from shared.kernel.principals import Principal
from shared.ownership import PlanOwnership
from shared.storage.unit_of_work import Transaction


class Delivery:
    def __init__(self, conversations: ConversationRepository, messages: MessageRepository, sla: ReplySla) -> None:
        self.conversations = conversations
        self.messages = messages
        self.sla = sla

    async def store(
        self,
        message: Message,
        conversation: Conversation,
        ownership: PlanOwnership,
        by: Principal,
        tx: Transaction,
        *,
        draft: bool,
    ) -> None:
        if not draft:
            await self.send(message, conversation, ownership, by, tx)
            return
        await self.messages.save(message, tx.session)
        audit(tx, ownership, by, "create", "message.draft", message.id)

    async def send(
        self, message: Message, conversation: Conversation, ownership: PlanOwnership, by: Principal, tx: Transaction
    ) -> None:
        """A patient message starts its SLA; a staff message meets the open ones of the conversation."""
        sent = message.send(ownership.unit_id, tx.clock.now(), open_workflow)
        conversation.record_sent(message)
        if message.sla is not None:
            await self.sla.start(message, tx)
        else:
            await self.sla.meet(conversation, ownership.unit_id, tx)
        await self.messages.save(message, tx.session)
        await self.conversations.save(conversation, tx.session)
        tx.publish(sent)
        audit(tx, ownership, by, "create", "message", message.id)
