"""MongoDB repositories of the messaging service."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.messaging.domain.model import Conversation, Message, PlanAccess
from shared.storage.documents import from_document, to_document

Session = AsyncClientSession | None
OPEN_SLA_STATES = ["open", "due_soon", "overdue"]


class MessagingRepository:
    """Plans (the access read model), conversations and messages."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.plans = db["plans"]
        self.conversations = db["conversations"]
        self.messages = db["messages"]

    async def ensure_indexes(self) -> None:
        await self.conversations.create_index([("plan_id", ASCENDING), ("last_message_at", DESCENDING)])
        await self.messages.create_index([("conversation_id", ASCENDING), ("created_at", ASCENDING)])
        await self.messages.create_index(
            [("conversation_id", ASCENDING), ("sender_kind", ASCENDING), ("sla.state", ASCENDING)]
        )

    # -- plans -------------------------------------------------------------------------------
    async def plan(self, plan_id: str, session: Session = None) -> PlanAccess | None:
        doc = await self.plans.find_one({"_id": plan_id}, session=session)
        return PlanAccess.model_validate(doc) if doc else None

    async def save_plan(self, access: PlanAccess, session: Session) -> None:
        await self.plans.replace_one(
            {"_id": access.plan_id}, {"_id": access.plan_id, **access.model_dump()}, upsert=True, session=session
        )

    # -- conversations -----------------------------------------------------------------------
    async def conversation(self, conversation_id: str, session: Session = None) -> Conversation | None:
        doc = await self.conversations.find_one({"_id": conversation_id}, session=session)
        return from_document(Conversation, doc)

    async def add_conversation(self, conversation: Conversation, session: Session) -> None:
        await self.conversations.insert_one(to_document(conversation), session=session)

    async def conversations_of(self, plan_id: str) -> list[Conversation]:
        cursor = self.conversations.find({"plan_id": plan_id, "deleted_at": None}).sort("last_message_at", DESCENDING)
        return [from_document(Conversation, doc) async for doc in cursor]

    async def update_conversation(self, conversation_id: str, update: dict[str, Any], session: Session) -> None:
        await self.conversations.update_one({"_id": conversation_id}, update, session=session)

    # -- messages ----------------------------------------------------------------------------
    async def message(self, message_id: str, session: Session = None) -> Message | None:
        return from_document(Message, await self.messages.find_one({"_id": message_id}, session=session))

    async def save_message(self, message: Message, session: Session) -> None:
        await self.messages.replace_one({"_id": message.id}, to_document(message), upsert=True, session=session)

    async def delete_message(self, message_id: str, session: Session) -> None:
        await self.messages.delete_one({"_id": message_id}, session=session)

    async def messages_of(self, conversation_id: str) -> list[Message]:
        cursor = self.messages.find({"conversation_id": conversation_id}).sort("created_at", ASCENDING)
        return [from_document(Message, doc) async for doc in cursor]

    async def unanswered_patient_messages(self, conversation_id: str, session: Session) -> list[Message]:
        cursor = self.messages.find(
            {
                "conversation_id": conversation_id,
                "sender_kind": "patient",
                "status": "sent",
                "sla.state": {"$in": OPEN_SLA_STATES},
            },
            session=session,
        )
        return [from_document(Message, doc) async for doc in cursor]
