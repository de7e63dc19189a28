"""Use cases on drafts: only their author sees, edits, sends or deletes them."""

from __future__ import annotations

from services.messaging.domain.commands import EditDraft
from services.messaging.domain.model import DRAFT_NOT_FOUND, SENT_IS_FINAL, Conversation, Message
from services.messaging.domain.rules import require_may_write
from services.messaging.service_layer.access import PlanGate, audit
from services.messaging.service_layer.delivery import Delivery
from services.messaging.service_layer.ports import MessageRepository
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Principal
from shared.ownership import PlanOwnership
from shared.storage.unit_of_work import Transaction, UnitOfWork


class Drafts:
    def __init__(self, uow: UnitOfWork, gate: PlanGate, messages: MessageRepository, delivery: Delivery) -> None:
        self.uow = uow
        self.gate = gate
        self.messages = messages
        self.delivery = delivery

    async def edit(self, conversation_id: str, message_id: str, command: EditDraft, by: Principal) -> Message:
        require_may_write(by)

        async def work(tx: Transaction) -> Message:
            message, _, ownership = await self._draft(conversation_id, message_id, by, tx)
            message.edit(command.text)
            await self.messages.save(message, tx.session)
            audit(tx, ownership, by, "update", "message.draft", message.id)
            return message

        return await self.uow.run(work)

    async def send(self, conversation_id: str, message_id: str, by: Principal) -> Message:
        require_may_write(by)

        async def work(tx: Transaction) -> Message:
            message, conversation, ownership = await self._draft(conversation_id, message_id, by, tx)
            await self.delivery.send(message, conversation, ownership, by, tx)
            return message

        return await self.uow.run(work)

    async def delete(self, conversation_id: str, message_id: str, by: Principal) -> None:
        async def work(tx: Transaction) -> None:
            message, _, ownership = await self._draft(conversation_id, message_id, by, tx)
            await self.messages.delete(message.id, tx.session)
            audit(tx, ownership, by, "delete", "message.draft", message.id)

        await self.uow.run(work)

    async def _draft(
        self, conversation_id: str, message_id: str, by: Principal, tx: Transaction
    ) -> tuple[Message, Conversation, PlanOwnership]:
        """The caller's own draft in a plan that is not read-only."""
        conversation, ownership = await self.gate.conversation(conversation_id, by, tx.session)
        ownership.require_writable()
        message = await self.messages.get(message_id, tx.session)
        if message is None or message.conversation_id != conversation_id or not message.owned_by(by):
            raise NotFound(DRAFT_NOT_FOUND)  # someone else's draft is not there for the caller
        if message.status != "draft":
            raise Forbidden(SENT_IS_FINAL)
        return message, conversation, ownership
