"""Who may do what with a handover, and when a plan may not be handed over (no I/O)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.contracts.plans import ProgramRef
from shared.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.ownership.model import OwnershipState, PlanOwnership

HANDOVER_NOT_FOUND = "no such handover"


class UnitPrograms(BaseModel):
    """The program versions a unit runs, as the plans service announced them."""

    unit_id: str
    programs: list[ProgramRef] = []
    revision: int = 0

    def runs(self, program_id: str, version: str) -> bool:
        return any(p.program_id == program_id and p.version == version for p in self.programs)


def refuse_unless_transferable(ownership: PlanOwnership, to_unit_id: str, receiving: UnitPrograms | None) -> None:
    """The refusals of issue 12, each naming its reason and the field at fault."""
    if ownership.state is OwnershipState.ENDED:
        raise Conflict("the plan has ended: it cannot be handed over", field="plan_id")
    if ownership.state is OwnershipState.TRANSFERRING:
        raise Conflict("the plan is being handed over right now", field="plan_id")
    if to_unit_id == ownership.unit_id:
        raise Invalid("the receiving unit is the unit holding the plan", field="to_unit_id")
    if receiving is None or not receiving.programs:
        raise Invalid("no unit with this HSA-id runs any program on the platform", field="to_unit_id")
    if not receiving.runs(ownership.program_id, ownership.program_version):
        raise Conflict(
            f"the receiving unit does not run {ownership.program_id} version {ownership.program_version}: "
            "a plan is handed over only between units running the same version",
            field="to_unit_id",
        )


def may_see(from_unit_id: str, to_unit_id: str, by: Staff) -> bool:
    """Staff of the handing-over and of the receiving unit know of the handover; nobody else."""
    return by.unit_id in (from_unit_id, to_unit_id)


def require_receiving_admin(from_unit_id: str, to_unit_id: str, by: Staff, action: str) -> None:
    """Only the receiving unit's patient admins accept or decline; anyone else who knows of the
    handover is refused (403), anyone else gets what a missing handover gets (404)."""
    if not may_see(from_unit_id, to_unit_id, by):
        raise NotFound(HANDOVER_NOT_FOUND)
    if by.unit_id != to_unit_id or not by.has_any(Role.PATIENT_ADMIN):
        raise Forbidden(f"only a patient admin of the receiving unit may {action} the handover")


def require_initiating(from_unit_id: str, to_unit_id: str, by: Staff) -> None:
    """Only the handing-over unit's therapists and patient admins withdraw."""
    if not may_see(from_unit_id, to_unit_id, by):
        raise NotFound(HANDOVER_NOT_FOUND)
    if by.unit_id != from_unit_id or not by.has_any(Role.THERAPIST, Role.PATIENT_ADMIN):
        raise Forbidden("only a therapist or patient admin of the handing-over unit may withdraw the handover")
