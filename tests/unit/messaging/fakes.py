"""In-memory stand-ins for the messaging service's repositories (`service_layer/ports.py`).

They keep copies, as a database does: what a use case changes counts only once it saves it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.messaging.domain.model import Conversation, Message

NEVER = datetime.min.replace(tzinfo=UTC)


class InMemoryConversations:
    def __init__(self) -> None:
        self.items: dict[str, Conversation] = {}

    async def get(self, conversation_id: str, session: Any = None) -> Conversation | None:
        found = self.items.get(conversation_id)
        return found.model_copy(deep=True) if found else None

    async def add(self, conversation: Conversation, session: Any = None) -> None:
        if conversation.id in self.items:
            raise KeyError(f"duplicate conversation id {conversation.id}")
        self.items[conversation.id] = conversation.model_copy(deep=True)

    async def save(self, conversation: Conversation, session: Any = None) -> None:
        self.items[conversation.id] = conversation.model_copy(deep=True)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Conversation]:
        found = [c for c in self.items.values() if c.plan_id == plan_id and c.deleted_at is None]
        found.sort(key=lambda c: c.last_message_at or NEVER, reverse=True)
        return [c.model_copy(deep=True) for c in found]


class InMemoryMessages:
    def __init__(self) -> None:
        self.items: dict[str, Message] = {}

    async def get(self, message_id: str, session: Any = None) -> Message | None:
        found = self.items.get(message_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, message: Message, session: Any = None) -> None:
        self.items[message.id] = message.model_copy(deep=True)

    async def delete(self, message_id: str, session: Any = None) -> None:
        self.items.pop(message_id, None)

    async def of_conversation(self, conversation_id: str, session: Any = None) -> list[Message]:
        found = sorted((m for m in self.items.values() if m.conversation_id == conversation_id), key=_created)
        return [m.model_copy(deep=True) for m in found]

    async def unanswered_in(self, conversation_id: str, session: Any = None) -> list[Message]:
        return [m.model_copy(deep=True) for m in self.items.values() if _unanswered(m, conversation_id=conversation_id)]

    async def unanswered_of_plan(self, plan_id: str, session: Any = None) -> list[Message]:
        return [m.model_copy(deep=True) for m in self.items.values() if _unanswered(m, plan_id=plan_id)]


def _created(message: Message) -> datetime:
    return message.created_at


def _unanswered(message: Message, **scope: str) -> bool:
    in_scope = all(getattr(message, field) == value for field, value in scope.items())
    open_sla = message.sla is not None and message.sla.state != "met"
    return in_scope and message.sender_kind == "patient" and message.status == "sent" and open_sla
