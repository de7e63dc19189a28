"""A handover: one plan moving from the unit holding it to a receiving unit, and the saga that moves
it in every service.

States: pending (the receiving unit's patient admins decide) → accepted (the transfer is in flight:
the plan is read-only at both units) → completed or compensated; or pending → declined, withdrawn
or expired. Each change is a method that checks the rules and returns the event it raises.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from services.handover.domain.rules import require_initiating, require_receiving_admin
from shared.contracts import handover as events
from shared.contracts.transfer import TRANSFER_PARTICIPANTS, TransferOutcome
from shared.kernel.errors import Conflict
from shared.kernel.principals import Staff
from shared.kernel.workflow_ref import WorkflowRef

PLANS = "plans"
SYSTEM = "system"
PLAN_ENDED = "the plan ended"
CONFIRMING: tuple[str, ...] = (PLANS, *TRANSFER_PARTICIPANTS)
"""Every service whose copy must have moved before the handover completes (plans moves first)."""


class HandoverState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    COMPENSATED = "compensated"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


OPEN_STATES = frozenset({HandoverState.PENDING, HandoverState.ACCEPTED})
"""At most one handover of a plan is in one of these at a time."""


class Handover(BaseModel):
    """One handover and the saga's state. `revision` grows with every save (optimistic concurrency)."""

    id: str
    plan_id: str
    from_unit_id: str
    to_unit_id: str
    program_id: str
    program_version: str
    requested_by: str
    requested_at: datetime
    consent: events.Consent
    expires_at: datetime
    ownership_version: int
    """The plan's ownership version when the handover was requested (and accepted)."""
    state: HandoverState = HandoverState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decline_reason: str | None = None
    responsible_hsa_id: str | None = None
    transfer_version: int | None = None
    """The ownership version the transfer produced (plans' `ownership_transferring`)."""
    confirmed: list[str] = []
    restored: list[str] = []
    settled_at: datetime | None = None
    outcome_reason: str | None = None
    workflow: WorkflowRef | None = None
    revision: int = 0

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def _base(self) -> dict[str, str]:
        return {
            "handover_id": self.id,
            "plan_id": self.plan_id,
            "unit_id": self.from_unit_id,
            "to_unit_id": self.to_unit_id,
        }

    def requested(self) -> events.HandoverRequested:
        return events.HandoverRequested(
            **self._base(),
            program_id=self.program_id,
            program_version=self.program_version,
            requested_by=self.requested_by,
            requested_at=self.requested_at,
            consent=self.consent,
            expires_at=self.expires_at,
        )

    # -- the receiving unit's decision, the initiating unit's withdrawal, the expiry ---------------

    def accept(self, by: Staff, responsible_hsa_id: str, now: datetime) -> events.HandoverAccepted | None:
        """Start the saga; a second accept of the same handover (a double click) changes nothing."""
        require_receiving_admin(self.from_unit_id, self.to_unit_id, by, "accept")
        if self.state in (HandoverState.ACCEPTED, HandoverState.COMPLETED):
            return None
        self._require_pending("accepted")
        self.state, self.decided_by, self.decided_at = HandoverState.ACCEPTED, by.hsa_id, now
        self.responsible_hsa_id = responsible_hsa_id
        return events.HandoverAccepted(
            **self._base(),
            accepted_by=by.hsa_id,
            accepted_at=now,
            responsible_hsa_id=responsible_hsa_id,
            ownership_version=self.ownership_version,
        )

    def decline(self, by: Staff, reason: str, now: datetime) -> events.HandoverDeclined | None:
        require_receiving_admin(self.from_unit_id, self.to_unit_id, by, "decline")
        if self.state is HandoverState.DECLINED:
            return None
        self._require_pending("declined")
        self.state, self.decided_by, self.decided_at = HandoverState.DECLINED, by.hsa_id, now
        self.decline_reason, self.settled_at = reason, now
        return events.HandoverDeclined(**self._base(), declined_by=by.hsa_id, declined_at=now, reason=reason)

    def withdraw(self, by: Staff, now: datetime) -> events.HandoverWithdrawn | None:
        require_initiating(self.from_unit_id, self.to_unit_id, by)
        if self.state is HandoverState.WITHDRAWN:
            return None
        self._require_pending("withdrawn")
        self.state, self.decided_by, self.decided_at, self.settled_at = HandoverState.WITHDRAWN, by.hsa_id, now, now
        return events.HandoverWithdrawn(**self._base(), withdrawn_by=by.hsa_id, withdrawn_at=now)

    def withdraw_as_plan_ended(self, now: datetime) -> events.HandoverWithdrawn | None:
        """The plan ended while the handover waited for an answer: nothing is left to hand over.
        (A transfer already in flight is the saga's: it completes or compensates on its own.)"""
        if self.state is not HandoverState.PENDING:
            return None
        self.state, self.decided_by, self.decided_at, self.settled_at = HandoverState.WITHDRAWN, SYSTEM, now, now
        self.outcome_reason = PLAN_ENDED
        return events.HandoverWithdrawn(**self._base(), withdrawn_by=SYSTEM, withdrawn_at=now, reason=PLAN_ENDED)

    def expire(self, now: datetime) -> events.HandoverExpired | None:
        """Nobody answered in time (a stale timer of a decided handover changes nothing)."""
        if self.state is not HandoverState.PENDING or now < self.expires_at:
            return None
        self.state, self.settled_at = HandoverState.EXPIRED, now
        return events.HandoverExpired(**self._base(), expired_at=now)

    def _require_pending(self, wanted: str) -> None:
        if self.state is not HandoverState.PENDING:
            raise Conflict(f"the handover is {self.state.value}: it cannot be {wanted}", field="handover_id")

    # -- the saga ----------------------------------------------------------------------------------

    def plans_moved(self, version: int, now: datetime) -> events.HandoverCompleted | events.HandoverCompensated | None:
        """The plans service moved the plan (its own copy included): its confirmation, and the version."""
        if self.state is not HandoverState.ACCEPTED or self.transfer_version is not None:
            return None
        self.transfer_version = version
        return self.confirm(PLANS, version, TransferOutcome.APPLIED, "", now)

    def confirm(
        self, service: str, version: int, outcome: TransferOutcome, reason: str, now: datetime
    ) -> events.HandoverCompleted | events.HandoverCompensated | None:
        """Count a service's answer once; the last one completes the handover, a refusal compensates it.
        Duplicates, late answers and answers about another version change nothing. A participant's
        answer may come before plans' own word (another topic): a handover has one transfer, so it
        counts, and plans' word, which completes the count, checks the version."""
        if outcome is TransferOutcome.REVERTED:
            if self.state is HandoverState.COMPENSATED and service not in self.restored:
                self.restored.append(service)
            return None
        if self.state is not HandoverState.ACCEPTED or service not in CONFIRMING or service in self.confirmed:
            return None
        if self.transfer_version is not None and version != self.transfer_version:
            return None
        if outcome is TransferOutcome.REFUSED:
            return self.compensate(f"{service}: {reason or 'refused'}", now)
        self.confirmed.append(service)
        if self.missing():
            return None
        self.state, self.settled_at = HandoverState.COMPLETED, now
        return events.HandoverCompleted(
            **self._base(),
            completed_at=now,
            responsible_hsa_id=self.responsible_hsa_id or "",
            ownership_version=self.transfer_version or version,
        )

    def missing(self) -> list[str]:
        return [s for s in CONFIRMING if s not in self.confirmed]

    def compensate(self, reason: str, now: datetime) -> events.HandoverCompensated | None:
        """Undo the transfer everywhere (plans gives the plan back; every copy follows)."""
        if self.state is not HandoverState.ACCEPTED:
            return None
        self.state, self.settled_at, self.outcome_reason = HandoverState.COMPENSATED, now, reason
        return events.HandoverCompensated(**self._base(), compensated_at=now, reason=reason)

    def time_out(self, now: datetime) -> events.HandoverCompensated | None:
        """The transfer did not complete in time: compensate, naming who has not answered."""
        return self.compensate(f"no confirmation in time from: {', '.join(self.missing())}", now)


def expiry_of(requested_at: datetime, pending_for: timedelta) -> datetime:
    return requested_at + pending_for
