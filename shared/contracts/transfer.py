"""The handover saga's shared vocabulary: how a plan's ownership moves between units.

Ownership moves in one place, the plans service (the owner of plan state), and every other
service's copy follows the plans topic through the shared `OwnershipProjector`:

1. the handover service publishes `handover.accepted`;
2. plans moves the plan to the receiving unit in state *transferring* (read-only at both units)
   and publishes `plan.ownership_transferring` (or `plan.ownership_transfer_refused`);
3. every service holding plan data applies it to its ownership copy and confirms with its own
   `se.careplan.<service>.transfer_applied.v1` (declared in that service's contract module, on its
   topic), or says it cannot (`outcome` refused);
4. the handover service publishes `handover.completed` when all have confirmed, or
   `handover.compensated` when one refused or none came in time;
5. plans makes the receiving unit's hold active (`plan.ownership_transferred`) or gives the plan
   back to the handing-over unit (`plan.ownership_transfer_reverted`); every copy follows again.

Every step carries the ownership version it produces; a copy applies only a newer one, so replays
and redeliveries change nothing. Confirmations carry ids and counts, never personal data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shared.messaging.events import Event

TRANSFER_PARTICIPANTS: tuple[str, ...] = ("messaging", "forms", "notifications", "retention", "handover")
"""Services whose ownership copy must have moved before a handover completes (plans, the owner, moves
first and confirms by `plan.ownership_transferring` itself)."""


def transfer_applied_type(service: str) -> str:
    """The ce_type of a service's confirmation of an ownership change."""
    return f"se.careplan.{service}.transfer_applied.v1"


class TransferOutcome(StrEnum):
    APPLIED = "applied"
    """The copy now names the receiving unit, read-only until the handover completes."""
    REVERTED = "reverted"
    """The copy names the handing-over unit again (a compensated handover)."""
    REFUSED = "refused"
    """The copy could not take the transfer (the plan is unknown here or has ended): compensate."""


class TransferAppliedBase(Event):
    """A service's answer to `plan.ownership_transferring` / `plan.ownership_transfer_reverted`
    (subclassed per service, on its own topic)."""

    plan_id: str
    handover_id: str
    service: str
    ownership_version: int = Field(description="The ownership version the answered event produced.")
    outcome: TransferOutcome
    reason: str = Field(default="", description="Why a transfer was refused (no personal data).")
    at: datetime
