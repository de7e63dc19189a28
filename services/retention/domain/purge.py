"""The purge saga's state, owned by retention: one `Purge` per plan, from the request until every
service's receipt is in; then a `PurgedPlan` tombstone (no personal data) that outlives it.

The saga decides: who may be purged (an ended plan; an exported one unless forced with a reason),
which receipts count (one per service in `PURGING_SERVICES`, for this purge id, idempotently), when
it is complete (`PlanPurged`), and when the missing services are asked again (exponential backoff).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import PlanPurged, PurgeRequested
from shared.kernel.errors import Conflict, Invalid
from shared.kernel.workflow_ref import WorkflowRef
from shared.ownership.model import OwnershipState, PlanOwnership

SYSTEM = "system"
"""`requested_by` of an automatic purge (at the 730-day limit)."""

PurgeState = Literal["requested", "completed"]


class RetryPolicy(BaseModel):
    """How long to wait before asking the missing services again: `first`, doubling, at most `cap`."""

    first: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th request (1 → first, 2 → twice that, …, never over cap)."""
        doublings = min(max(attempt - 1, 0), 30)
        wait: timedelta = self.first * (1 << doublings)
        return min(wait, self.cap)


class PurgeReceiptView(BaseModel):
    """The fields of any service's `se.careplan.<service>.purge_receipt.v1` retention reads."""

    plan_id: str
    purge_id: str
    service: str
    deleted: dict[str, int] = {}
    purged_at: datetime


class PurgedPlan(BaseModel):
    """The tombstone of a purged plan: ids, times and counts only, kept for good so that a late event
    about the plan cannot bring it back, and so that the purge can still be shown."""

    plan_id: str
    purge_id: str
    unit_id: str
    """The unit that held the plan when it was purged (an ended plan cannot change hands)."""
    requested_at: datetime
    purged_at: datetime
    forced: bool
    attempts: int
    receipts: dict[str, dict[str, int]]


class Purge(BaseModel):
    """A purge in progress (or just completed): the saga's state."""

    plan_id: str
    purge_id: str
    unit_id: str
    """The holding unit when the purge was requested; the plan is ended, so it cannot change any more."""
    requested_by: str = Field(description="HSA-id of the data admin, or 'system' at the limit.")
    requested_at: datetime
    forced: bool = False
    reason: str = ""
    export_id: str | None = None
    receipts: dict[str, dict[str, int]] = {}
    attempts: int = 1
    last_requested_at: datetime
    state: PurgeState = "requested"
    purged_at: datetime | None = None
    workflow: WorkflowRef | None = None
    version: int = 0
    """Optimistic concurrency: grows by one at every save."""

    @classmethod
    def request(
        cls,
        ownership: PlanOwnership,
        *,
        purge_id: str,
        requested_by: str,
        now: datetime,
        export_id: str | None,
        force: bool = False,
        reason: str = "",
    ) -> tuple[Purge, PurgeRequested]:
        """Start purging an ended plan; refuse an active one, and an unexported one unless forced."""
        refuse_unless_purgeable(ownership, export_id, force, reason)
        purge = cls(
            plan_id=ownership.plan_id,
            purge_id=purge_id,
            unit_id=ownership.unit_id,
            requested_by=requested_by,
            requested_at=now,
            forced=force,
            reason=reason.strip() if force else "",
            export_id=export_id,
            last_requested_at=now,
        )
        return purge, purge.requested_event(purge.missing())

    def requested_event(self, services: list[str]) -> PurgeRequested:
        return PurgeRequested(
            plan_id=self.plan_id,
            purge_id=self.purge_id,
            requested_at=self.last_requested_at,
            attempt=self.attempts,
            services=services,
        )

    def missing(self) -> list[str]:
        """The services whose receipt is not in yet, in the platform's order."""
        return [s for s in PURGING_SERVICES if s not in self.receipts]

    def record_receipt(self, receipt: PurgeReceiptView, now: datetime) -> PlanPurged | None:
        """Count a service's receipt once; `PlanPurged` when it is the last one missing. A duplicate, a
        receipt of another purge or of a service that is not a participant changes nothing."""
        if (
            self.state == "completed"
            or receipt.plan_id != self.plan_id
            or receipt.purge_id != self.purge_id
            or receipt.service not in PURGING_SERVICES
            or receipt.service in self.receipts
        ):
            return None
        self.receipts[receipt.service] = dict(receipt.deleted)
        if self.missing():
            return None
        self.state, self.purged_at = "completed", now
        return PlanPurged(plan_id=self.plan_id, purge_id=self.purge_id, purged_at=now, forced=self.forced)

    def next_request_at(self, policy: RetryPolicy) -> datetime:
        """When the missing services are asked again if their receipts have not come by then."""
        return self.last_requested_at + policy.delay(self.attempts)

    def re_request(self, now: datetime) -> PurgeRequested | None:
        """Ask the services whose receipt is missing again (same purge id, next attempt)."""
        if self.state == "completed" or not self.missing():
            return None
        self.attempts += 1
        self.last_requested_at = now
        return self.requested_event(self.missing())

    def tombstone(self) -> PurgedPlan:
        if self.state != "completed" or self.purged_at is None:
            raise ValueError("only a completed purge leaves a tombstone")
        return PurgedPlan(
            plan_id=self.plan_id,
            purge_id=self.purge_id,
            unit_id=self.unit_id,
            requested_at=self.requested_at,
            purged_at=self.purged_at,
            forced=self.forced,
            attempts=self.attempts,
            receipts=self.receipts,
        )


def refuse_unless_purgeable(ownership: PlanOwnership, export_id: str | None, force: bool, reason: str) -> None:
    """The rules of §10 and issue 11: only an ended plan is purged, and only after its export,
    unless a data admin forces it and says why."""
    if ownership.state is OwnershipState.ACTIVE:
        raise Conflict("the plan is active: end it before it can be purged", field="plan_id")
    if ownership.state is OwnershipState.TRANSFERRING:
        raise Conflict("the plan is being handed over to another unit: it cannot be purged now", field="plan_id")
    if force and not reason.strip():
        raise Invalid("a forced purge needs a reason", field="reason")
    if export_id is None and not force:
        raise Conflict(
            "the plan has not been exported for the journal: export it first, or force the purge with a reason",
            field="force",
        )


def holder_of(plan_id: str, unit_id: str) -> PlanOwnership:
    """A purged (or purging) plan's holder, for the one access rule once the ownership copy is gone:
    staff of the unit that held it may see its purge; nobody else, and no patient (no identity is kept)."""
    return PlanOwnership(plan_id=plan_id, unit_id=unit_id, patient_personnummer="", state=OwnershipState.ENDED)
