"""The messaging service's use cases, built over its ports (routes, consumers and timers reach them here)."""

from __future__ import annotations

from dataclasses import dataclass

from services.messaging.service_layer.access import PlanGate
from services.messaging.service_layer.conversations import Conversations
from services.messaging.service_layer.drafts import Drafts
from services.messaging.service_layer.ports import ConversationRepository, MessageRepository
from services.messaging.service_layer.sla import ReplySla
from shared.ownership import OwnershipRepository
from shared.storage.timers import TimerScheduler
from shared.storage.unit_of_work import UnitOfWork


@dataclass
class MessagingService:
    conversations: Conversations
    drafts: Drafts
    sla: ReplySla
    ownership: OwnershipRepository
    """The service's copy of plans' ownership (kept by `OwnershipProjector` in the plans consumer)."""

    @classmethod
    def create(
        cls,
        uow: UnitOfWork,
        ownership: OwnershipRepository,
        conversations: ConversationRepository,
        messages: MessageRepository,
        timers: TimerScheduler,
    ) -> MessagingService:
        gate = PlanGate(ownership, conversations)
        sla = ReplySla(ownership, messages, timers)
        on_conversations = Conversations(uow, gate, conversations, messages, sla)
        return cls(
            conversations=on_conversations,
            drafts=Drafts(uow, gate, messages, on_conversations.delivery),
            sla=sla,
            ownership=ownership,
        )
