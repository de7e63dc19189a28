"""A plan's ownership and the access rule every service applies to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient, Principal, Staff

PLAN_NOT_FOUND = "no such plan"


class OwnershipState(StrEnum):
    ACTIVE = "active"
    """The holding unit's staff and the patient may read and change the plan."""
    TRANSFERRING = "transferring"
    """A handover is being applied: readable, but read-only at both units until it completes."""
    ENDED = "ended"
    """Read-only everywhere until purged."""


class PlanOwnership(BaseModel):
    """Who holds a plan now. `version` grows by one at every change of holder (a handover), so a
    late event about an older holder can be recognised and ignored."""

    plan_id: str
    unit_id: str
    patient_personnummer: str
    protected_identity: bool = False
    responsible_hsa_id: str = ""
    program_id: str = ""
    program_version: str = ""
    state: OwnershipState = OwnershipState.ACTIVE
    version: int = 1
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def visible_to(self, principal: Principal) -> bool:
        """Staff of the holding unit, and the patient themself."""
        if isinstance(principal, Staff):
            return principal.unit_id == self.unit_id
        if isinstance(principal, Patient):
            return principal.personnummer == self.patient_personnummer
        return False

    @property
    def active(self) -> bool:
        return self.state is OwnershipState.ACTIVE

    def require_writable(self) -> None:
        """Refuse a change to a plan that has ended or is being handed over (409, naming why)."""
        if self.state is OwnershipState.ENDED:
            raise Conflict("the plan has ended and is read-only", field="plan_id")
        if self.state is OwnershipState.TRANSFERRING:
            raise Conflict(
                "the plan is being handed over to another unit and is read-only until that completes", field="plan_id"
            )


def authorize(
    ownership: PlanOwnership | None, principal: Principal, *, not_found: str = PLAN_NOT_FOUND
) -> PlanOwnership:
    """The ownership, if `principal` may see the plan; otherwise the very answer a missing plan gets."""
    if ownership is None or not ownership.visible_to(principal):
        raise NotFound(not_found)
    return ownership
