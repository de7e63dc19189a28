"""What the messaging use cases need from storage (MongoDB in `adapters`, in-memory fakes in the tests).

Plans' ownership comes through `shared.ownership.OwnershipRepository`; durable timers through
`shared.storage.timers.TimerScheduler`. Every method takes the transaction's `session` (None outside one).
"""

from __future__ import annotations

from typing import Any, Protocol

from services.messaging.domain.model import Conversation, Message


class ConversationRepository(Protocol):
    async def get(self, conversation_id: str, session: Any = None) -> Conversation | None: ...

    async def add(self, conversation: Conversation, session: Any = None) -> None: ...

    async def save(self, conversation: Conversation, session: Any = None) -> None: ...

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Conversation]:
        """The plan's conversations that are not deleted, the latest message first."""
        ...


class MessageRepository(Protocol):
    async def get(self, message_id: str, session: Any = None) -> Message | None: ...

    async def save(self, message: Message, session: Any = None) -> None: ...

    async def delete(self, message_id: str, session: Any = None) -> None: ...

    async def of_conversation(self, conversation_id: str, session: Any = None) -> list[Message]:
        """Every message and draft of the conversation, oldest first."""
        ...

    async def unanswered_in(self, conversation_id: str, session: Any = None) -> list[Message]:
        """The conversation's sent patient messages whose reply SLA is not met."""
        ...

    async def unanswered_of_plan(self, plan_id: str, session: Any = None) -> list[Message]:
        """The plan's sent patient messages whose reply SLA is not met, in every conversation."""
        ...
