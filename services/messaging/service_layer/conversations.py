"""Use cases on conversations: start one, write in it, list and read them, unread counts, delete."""

from __future__ import annotations

from services.messaging.domain.commands import SendMessage, StartConversation
from services.messaging.domain.model import Conversation, Message, side
from services.messaging.domain.rules import notify_setting, require_may_write
from services.messaging.service_layer.access import PlanGate, audit, audit_read
from services.messaging.service_layer.delivery import Delivery
from services.messaging.service_layer.ports import ConversationRepository, MessageRepository
from services.messaging.service_layer.sla import ReplySla
from shared.kernel.principals import Principal, Staff
from shared.storage.unit_of_work import Transaction, UnitOfWork


class Conversations:
    def __init__(
        self,
        uow: UnitOfWork,
        gate: PlanGate,
        conversations: ConversationRepository,
        messages: MessageRepository,
        sla: ReplySla,
    ) -> None:
        self.uow = uow
        self.gate = gate
        self.conversations = conversations
        self.messages = messages
        self.sla = sla
        self.delivery = Delivery(conversations, messages, sla)

    async def start(self, plan_id: str, command: StartConversation, by: Principal) -> Message:
        """A new conversation with its first message (or a draft of it)."""
        require_may_write(by)
        notify = notify_setting(command.notify_inbox, by)

        async def work(tx: Transaction) -> Message:
            ownership = await self.gate.plan(plan_id, by, tx.session)
            ownership.require_writable()
            conversation = Conversation.start(plan_id, command.subject, by, tx.clock.now())
            await self.conversations.add(conversation, tx.session)
            message = Message.write(conversation, by, command.text, notify_inbox=notify, now=tx.clock.now())
            await self.delivery.store(message, conversation, ownership, by, tx, draft=command.draft)
            return message

        return await self.uow.run(work)

    async def send(self, conversation_id: str, command: SendMessage, by: Principal) -> Message:
        """A message (or a draft) in an existing conversation."""
        require_may_write(by)
        notify = notify_setting(command.notify_inbox, by)

        async def work(tx: Transaction) -> Message:
            conversation, ownership = await self.gate.conversation(conversation_id, by, tx.session)
            ownership.require_writable()
            message = Message.write(conversation, by, command.text, notify_inbox=notify, now=tx.clock.now())
            await self.delivery.store(message, conversation, ownership, by, tx, draft=command.draft)
            return message

        return await self.uow.run(work)

    async def of_plan(self, plan_id: str, by: Principal) -> list[Conversation]:
        ownership = await self.gate.plan(plan_id, by)
        await audit_read(self.uow, ownership, by, "conversations", plan_id)
        return await self.conversations.of_plan(plan_id)

    async def read(self, conversation_id: str, by: Principal) -> tuple[Conversation, list[Message]]:
        """The sent messages and the caller's own drafts. Marks the conversation read for the caller's
        side while the plan is active (an ended plan is read-only: reading it changes nothing)."""

        async def work(tx: Transaction) -> Conversation:
            conversation, ownership = await self.gate.conversation(conversation_id, by, tx.session)
            if ownership.active and (read := conversation.mark_read(side(by), ownership.unit_id, tx.clock.now())):
                await self.conversations.save(conversation, tx.session)
                tx.publish(read)
            audit(tx, ownership, by, "read", "conversation", conversation_id)
            return conversation

        conversation = await self.uow.run(work)
        messages = [m for m in await self.messages.of_conversation(conversation_id) if m.visible_to(by)]
        return conversation, messages

    async def unread(self, plan_id: str, by: Principal) -> dict[str, int]:
        """Unread counts for the caller's side: the plan's total and one per conversation."""
        ownership = await self.gate.plan(plan_id, by)
        await audit_read(self.uow, ownership, by, "unread_counts", plan_id)
        counts = {c.id: c.unread_for(side(by)) for c in await self.conversations.of_plan(plan_id)}
        return {"total": sum(counts.values()), **counts}

    async def delete(self, conversation_id: str, by: Staff) -> None:
        """Soft delete (staff): hidden from both sides, its SLAs stopped, kept until the plan is purged."""
        require_may_write(by)

        async def work(tx: Transaction) -> None:
            conversation, ownership = await self.gate.conversation(conversation_id, by, tx.session)
            ownership.require_writable()
            deleted = conversation.delete(by, ownership.unit_id, tx.clock.now())
            await self.conversations.save(conversation, tx.session)
            await self.sla.stop_in_conversation(conversation_id, tx)
            tx.publish(deleted)
            audit(tx, ownership, by, "delete", "conversation", conversation_id)

        await self.uow.run(work)
