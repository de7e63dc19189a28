"""A plan changing hands: the plans service is where a plan's ownership moves (every other
service's copy follows its events). The rules of each step of a handover, on the plan itself.

A transfer starts when the receiving unit accepts: the plan is held by the receiving unit at once,
read-only at both units (ownership state transferring). It settles when the handover service says
every service has moved (the receiving unit acts) or that it must be undone (the handing-over unit
holds it again, with its responsible therapist). Each step raises the ownership version by one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from shared.contracts import handover as requests
from shared.contracts import plans as events
from shared.ownership.model import PlanOwnership

if TYPE_CHECKING:
    from services.plans.domain.plan import Plan


class TransferInFlight(BaseModel):
    """The handover being applied to a plan, and what compensation gives back."""

    handover_id: str
    from_unit_id: str
    previous_responsible_hsa_id: str
    started_at: datetime


def refusal(
    plan: Plan | None, ownership: PlanOwnership | None, accepted: requests.HandoverAccepted, runs_version: bool
) -> str | None:
    """Why the accepted handover cannot start here (None: it can). Reasons name no personal data."""
    if plan is None or ownership is None:
        return "the plan is not known to the plans service"
    if plan.transfer is not None:
        return "another handover of the plan is being applied"
    if not plan.active:
        return "the plan has ended"
    if plan.unit_id != accepted.unit_id:
        return "the plan is no longer held by the handing-over unit"
    if ownership.version != accepted.ownership_version:
        return "the plan's ownership changed after the handover was accepted"
    if accepted.to_unit_id == plan.unit_id:
        return "the receiving unit already holds the plan"
    if not runs_version:
        return f"the receiving unit does not run {plan.program_id} version {plan.program_version}"
    return None


def start(plan: Plan, accepted: requests.HandoverAccepted, version: int, now: datetime) -> events.OwnershipTransferring:
    """The receiving unit holds the plan from `version` on, read-only until the handover settles."""
    plan.transfer = TransferInFlight(
        handover_id=accepted.handover_id,
        from_unit_id=plan.unit_id,
        previous_responsible_hsa_id=plan.responsible_hsa_id,
        started_at=now,
    )
    plan.unit_id, plan.responsible_hsa_id = accepted.to_unit_id, accepted.responsible_hsa_id
    return events.OwnershipTransferring(
        plan_id=plan.id,
        unit_id=plan.unit_id,
        handover_id=accepted.handover_id,
        from_unit_id=plan.transfer.from_unit_id,
        responsible_hsa_id=plan.responsible_hsa_id,
        ownership_version=version,
    )


def in_flight(plan: Plan | None, handover_id: str) -> TransferInFlight | None:
    """The plan's transfer if it is this handover's (a settled or foreign one: None)."""
    if plan is None or plan.transfer is None or plan.transfer.handover_id != handover_id:
        return None
    return plan.transfer


def _required(plan: Plan) -> TransferInFlight:
    if plan.transfer is None:
        raise ValueError("no transfer in flight on this plan")
    return plan.transfer


def _state(plan: Plan) -> Literal["active", "ended"]:
    return "active" if plan.active else "ended"


def complete(plan: Plan, version: int) -> events.OwnershipTransferred:
    """Every service moved: the receiving unit may act on the plan."""
    transfer = _required(plan)
    plan.transfer = None
    return events.OwnershipTransferred(
        plan_id=plan.id,
        unit_id=plan.unit_id,
        handover_id=transfer.handover_id,
        from_unit_id=transfer.from_unit_id,
        ownership_version=version,
        state=_state(plan),
    )


def revert(plan: Plan, version: int) -> events.OwnershipTransferReverted:
    """Compensation: the handing-over unit holds the plan again, with its responsible therapist."""
    transfer = _required(plan)
    receiving = plan.unit_id
    plan.transfer = None
    plan.unit_id, plan.responsible_hsa_id = transfer.from_unit_id, transfer.previous_responsible_hsa_id
    return events.OwnershipTransferReverted(
        plan_id=plan.id,
        unit_id=plan.unit_id,
        handover_id=transfer.handover_id,
        to_unit_id=receiving,
        responsible_hsa_id=plan.responsible_hsa_id,
        ownership_version=version,
        state=_state(plan),
    )


def refused(plan_id: str, accepted: requests.HandoverAccepted, reason: str) -> events.OwnershipTransferRefused:
    return events.OwnershipTransferRefused(
        plan_id=plan_id,
        unit_id=accepted.unit_id,
        handover_id=accepted.handover_id,
        to_unit_id=accepted.to_unit_id,
        reason=reason,
    )
