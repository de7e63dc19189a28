"""What the retention service's callers send and see about purges (no personal data in any of it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.retention.domain.purge import Purge, PurgedPlan, PurgeState, RetryPolicy
from shared.contracts.purge import PURGING_SERVICES


class PurgeCommand(BaseModel):
    """A data admin's purge request. `force` purges a plan without an export; it needs a reason,
    which is kept in the audit trail."""

    force: bool = False
    reason: str = Field(default="", max_length=500)


class PurgeView(BaseModel):
    """Where a plan's purge stands: which services have confirmed, which are still asked."""

    plan_id: str
    purge_id: str
    state: PurgeState
    requested_by: str | None = Field(description="HSA-id or 'system'; not kept once the purge completed.")
    requested_at: datetime
    forced: bool
    attempts: int
    receipts: dict[str, dict[str, int]] = Field(description="Counts deleted, by service and collection.")
    received: list[str]
    missing: list[str]
    next_request_at: datetime | None = None
    purged_at: datetime | None = None

    @classmethod
    def of_purge(cls, purge: Purge, policy: RetryPolicy) -> PurgeView:
        missing = purge.missing()
        return cls(
            plan_id=purge.plan_id,
            purge_id=purge.purge_id,
            state=purge.state,
            requested_by=purge.requested_by,
            requested_at=purge.requested_at,
            forced=purge.forced,
            attempts=purge.attempts,
            receipts=purge.receipts,
            received=[s for s in PURGING_SERVICES if s in purge.receipts],
            missing=missing,
            next_request_at=purge.next_request_at(policy) if missing and purge.state == "requested" else None,
            purged_at=purge.purged_at,
        )

    @classmethod
    def of_tombstone(cls, tombstone: PurgedPlan) -> PurgeView:
        return cls(
            plan_id=tombstone.plan_id,
            purge_id=tombstone.purge_id,
            state="completed",
            requested_by=None,
            requested_at=tombstone.requested_at,
            forced=tombstone.forced,
            attempts=tombstone.attempts,
            receipts=tombstone.receipts,
            received=[s for s in PURGING_SERVICES if s in tombstone.receipts],
            missing=[],
            purged_at=tombstone.purged_at,
        )


class EndedPlan(BaseModel):
    """One ended plan of a unit, for bulk purges: its id and dates only."""

    plan_id: str
    ended_at: datetime
    started_at: datetime | None = None


class EndedPlansPage(BaseModel):
    items: list[EndedPlan]
    page: int
    page_size: int
    next_page: int | None = Field(description="The next page's number, or null on the last page.")
