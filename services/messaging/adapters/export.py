"""MongoDB side of messaging's export: a plan's conversations and messages, read by plan id (the
`plan_id` indexes of `MongoConversationRepository` and `MongoMessageRepository` serve both reads)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.messaging.domain.model import Conversation, Message
from shared.storage.documents import from_document


class MongoPlanArchive:
    """Everything of one plan, deleted conversations and drafts included (the export picks)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._conversations = db["conversations"]
        self._messages = db["messages"]

    async def conversations(self, plan_id: str, session: Any = None) -> list[Conversation]:
        cursor = self._conversations.find({"plan_id": plan_id}, session=session)
        return [c async for d in cursor if (c := from_document(Conversation, d)) is not None]

    async def messages(self, plan_id: str, session: Any = None) -> list[Message]:
        cursor = self._messages.find({"plan_id": plan_id}, session=session)
        return [m async for d in cursor if (m := from_document(Message, d)) is not None]
