"""Who may see what: the plan's current ownership decides (`shared.ownership`), for conversations too."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.model import CONVERSATION_NOT_FOUND, Conversation
from services.messaging.service_layer.ports import ConversationRepository
from shared.kernel.principals import Principal
from shared.ownership import OwnershipRepository, PlanOwnership, authorize
from shared.storage.unit_of_work import Transaction, UnitOfWork


class PlanGate:
    """Loads a plan's ownership or a conversation with it, if the caller may see them; otherwise the
    same NotFound as for something missing."""

    def __init__(self, ownership: OwnershipRepository, conversations: ConversationRepository) -> None:
        self.ownership = ownership
        self.conversations = conversations

    async def plan(self, plan_id: str, by: Principal, session: Any = None) -> PlanOwnership:
        return authorize(await self.ownership.get(plan_id, session), by)

    async def conversation(
        self, conversation_id: str, by: Principal, session: Any = None
    ) -> tuple[Conversation, PlanOwnership]:
        conversation = await self.conversations.get(conversation_id, session)
        ownership = None
        if conversation is not None and conversation.deleted_at is None:
            ownership = await self.ownership.get(conversation.plan_id, session)
        ownership = authorize(ownership, by, not_found=CONVERSATION_NOT_FOUND)
        assert conversation is not None  # authorize refuses when there is none
        return conversation, ownership


def audit(
    tx: Transaction, ownership: PlanOwnership, by: Principal, action: str, resource: str, resource_id: str
) -> None:
    """An audit record of an access to the plan's messages, in the unit of work."""
    tx.audit(by, action, resource, resource_id, patient=ownership.patient_personnummer, unit_id=ownership.unit_id)


async def audit_read(uow: UnitOfWork, ownership: PlanOwnership, by: Principal, resource: str, resource_id: str) -> None:
    """An audit record of a read made outside a unit of work."""
    await uow.audit_log.record(
        by, "read", resource, resource_id, patient=ownership.patient_personnummer, unit_id=ownership.unit_id
    )
