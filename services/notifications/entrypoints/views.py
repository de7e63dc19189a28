"""What the HTTP API shows (the stored models carry more than a caller needs, e.g. identities)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class InboxItemView(BaseModel):
    """An item of the patient's 1177 inbox."""

    id: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None = None


class DeliveryView(BaseModel):
    """One delivery of a trigger to one recipient on one channel (no identity, address or text)."""

    id: str
    trigger_kind: str
    recipient_kind: str
    channel: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    plan_id: str | None
    fallback_of: str | None
