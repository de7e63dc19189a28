"""Commands of the messaging service (validated request bodies)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 10_000


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageText(Command):
    text: str = Field(
        min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=r"\S", description="Plain text; not only white space."
    )


class StartConversation(MessageText):
    subject: str = Field(min_length=1, max_length=200, pattern=r"\S")
    draft: bool = False
    notify_inbox: Literal["direct", "none"] | None = Field(
        default=None, description="Staff only: notify the patient's inbox directly (default) or not."
    )


class SendMessage(MessageText):
    draft: bool = False
    notify_inbox: Literal["direct", "none"] | None = None


class EditDraft(MessageText):
    pass
