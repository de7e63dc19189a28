"""MongoDB repositories of the messaging service (the ports in `service_layer/ports.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.messaging.domain.model import Conversation, Message
from shared.storage.documents import from_document, to_document

M = TypeVar("M", bound=BaseModel)
OPEN_SLA_STATES = ["open", "due_soon", "overdue"]


async def _all(cls: type[M], cursor: AsyncIterable[dict[str, Any]]) -> list[M]:
    found = []
    async for doc in cursor:
        model = from_document(cls, doc)
        assert model is not None  # a document from a cursor is never None
        found.append(model)
    return found


class MongoConversationRepository:
    """Conversations (collection `conversations`)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db["conversations"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("plan_id", ASCENDING), ("last_message_at", DESCENDING)])

    async def get(self, conversation_id: str, session: Any = None) -> Conversation | None:
        return from_document(Conversation, await self._collection.find_one({"_id": conversation_id}, session=session))

    async def add(self, conversation: Conversation, session: Any = None) -> None:
        await self._collection.insert_one(to_document(conversation), session=session)

    async def save(self, conversation: Conversation, session: Any = None) -> None:
        await self._collection.replace_one({"_id": conversation.id}, to_document(conversation), session=session)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Conversation]:
        cursor = self._collection.find({"plan_id": plan_id, "deleted_at": None}, session=session)
        return await _all(Conversation, cursor.sort("last_message_at", DESCENDING))


class MongoMessageRepository:
    """Messages and drafts (collection `messages`)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db["messages"]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("conversation_id", ASCENDING), ("created_at", ASCENDING)])
        await self._collection.create_index(
            [("conversation_id", ASCENDING), ("sender_kind", ASCENDING), ("sla.state", ASCENDING)]
        )
        await self._collection.create_index([("sla.state", ASCENDING)])  # the open-SLA gauges count by state
        await self._collection.create_index(
            [("plan_id", ASCENDING), ("sender_kind", ASCENDING), ("sla.state", ASCENDING)]
        )

    async def get(self, message_id: str, session: Any = None) -> Message | None:
        return from_document(Message, await self._collection.find_one({"_id": message_id}, session=session))

    async def save(self, message: Message, session: Any = None) -> None:
        await self._collection.replace_one({"_id": message.id}, to_document(message), upsert=True, session=session)

    async def delete(self, message_id: str, session: Any = None) -> None:
        await self._collection.delete_one({"_id": message_id}, session=session)

    async def of_conversation(self, conversation_id: str, session: Any = None) -> list[Message]:
        cursor = self._collection.find({"conversation_id": conversation_id}, session=session)
        return await _all(Message, cursor.sort("created_at", ASCENDING))

    async def unanswered_in(self, conversation_id: str, session: Any = None) -> list[Message]:
        return await self._unanswered({"conversation_id": conversation_id}, session)

    async def unanswered_of_plan(self, plan_id: str, session: Any = None) -> list[Message]:
        return await self._unanswered({"plan_id": plan_id}, session)

    async def _unanswered(self, scope: dict[str, str], session: Any) -> list[Message]:
        query = {**scope, "sender_kind": "patient", "status": "sent", "sla.state": {"$in": OPEN_SLA_STATES}}
        return await _all(Message, self._collection.find(query, session=session))
