"""The purge saga's shared vocabulary: every service that holds plan data answers retention's
`se.careplan.retention.purge_requested.v1` with its own `se.careplan.<service>.purge_receipt.v1`
(declared in that service's contract module, on that service's topic). Receipts carry counts, never
content or identities."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.messaging.events import Event

PURGING_SERVICES: tuple[str, ...] = ("plans", "messaging", "forms", "notifications", "retention", "handover")
"""Every service that must confirm a purge before retention marks the plan purged."""


def receipt_type(service: str) -> str:
    """The ce_type of a service's purge receipt."""
    return f"se.careplan.{service}.purge_receipt.v1"


class PurgeReceiptBase(Event):
    """A service deleted every piece of personal data it held of a plan (subclassed per service)."""

    plan_id: str
    purge_id: str
    service: str
    deleted: dict[str, int] = Field(description="Documents or keys deleted, by collection, key space or topic.")
    purged_at: datetime
