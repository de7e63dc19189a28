"""How an ownership copy follows a handover: the rules every service applies, in one place.

Each step names the ownership version it produces; a copy takes a step only when that version is
newer than its own, so a redelivered or replayed event changes nothing, and a late event about an
older holder cannot bring that holder back.
"""

from __future__ import annotations

from shared.contracts import plans as contract
from shared.contracts.transfer import TransferOutcome
from shared.ownership.model import OwnershipState, PlanOwnership

PLAN_UNKNOWN = "the plan is not known in this service"
PLAN_ENDED = "the plan has ended in this service"


def take_transferring(
    ownership: PlanOwnership | None, event: contract.OwnershipTransferring
) -> tuple[PlanOwnership | None, TransferOutcome | None, str]:
    """The copy after `event` (None: unchanged), and the answer to give (None: none, a stale event).

    The receiving unit becomes the holder, read-only (state transferring) until the handover
    completes: from here on the handing-over unit gets what a missing plan gets."""
    if ownership is None:
        return None, TransferOutcome.REFUSED, PLAN_UNKNOWN
    if ownership.version > event.ownership_version:
        return None, None, ""  # a later step is in already: this one is stale
    if ownership.version == event.ownership_version:
        return None, TransferOutcome.APPLIED, ""  # a replay: answer again, change nothing
    if ownership.state is OwnershipState.ENDED:
        return None, TransferOutcome.REFUSED, PLAN_ENDED
    moved = ownership.model_copy(
        update={
            "unit_id": event.unit_id,
            "responsible_hsa_id": event.responsible_hsa_id,
            "state": OwnershipState.TRANSFERRING,
            "version": event.ownership_version,
        }
    )
    return moved, TransferOutcome.APPLIED, ""


def take_settled(
    ownership: PlanOwnership | None,
    event: contract.OwnershipTransferred | contract.OwnershipTransferReverted,
) -> PlanOwnership | None:
    """The copy after the handover settled (completed: the receiving unit acts; reverted: the
    handing-over unit holds it again), or None when the event is stale or the plan unknown here."""
    if ownership is None or ownership.version >= event.ownership_version:
        return None
    update: dict[str, object] = {
        "unit_id": event.unit_id,
        "state": OwnershipState(event.state),
        "version": event.ownership_version,
    }
    if isinstance(event, contract.OwnershipTransferReverted):
        update["responsible_hsa_id"] = event.responsible_hsa_id
    return ownership.model_copy(update=update)
