"""One rule for who may act on a plan, in every service.

Each service keeps a copy of every plan's ownership (holding unit, patient, state, ownership
version) in its own database, fed by the plans service's events (`OwnershipProjector`), and asks one
question of it before touching plan data (`authorize`). Authorisation follows current ownership:
never a unit named in a request body or a token's unit claim alone, and never a plan's unit
remembered from earlier. A handover moves ownership in the plans service; every copy follows its
events through the same projector (`transfer.py`: by ownership version, idempotently) and confirms
with the service's own `transfer_applied` event.
"""

from shared.ownership.model import PLAN_NOT_FOUND, OwnershipState, PlanOwnership, authorize
from shared.ownership.projector import OwnershipProjector
from shared.ownership.repository import MongoOwnershipRepository, OwnershipRepository

__all__ = [
    "PLAN_NOT_FOUND",
    "MongoOwnershipRepository",
    "OwnershipProjector",
    "OwnershipRepository",
    "OwnershipState",
    "PlanOwnership",
    "authorize",
]
