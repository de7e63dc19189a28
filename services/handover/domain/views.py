"""What the handover service answers: one handover (the history is a list of them) and the
receiving unit's pending incoming handovers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.handover.domain.handover import Handover, HandoverState
from shared.contracts.handover import Consent
from shared.kernel.identity import mask_personnummer
from shared.ownership.model import PlanOwnership


class HandoverView(BaseModel):
    """One handover: who, from, to, when, consent, and how it ended."""

    handover_id: str
    plan_id: str
    from_unit_id: str
    to_unit_id: str
    program_id: str
    program_version: str
    state: HandoverState
    requested_by: str
    requested_at: datetime
    consent: Consent
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decline_reason: str | None = None
    responsible_hsa_id: str | None = None
    settled_at: datetime | None = None
    outcome_reason: str | None = None
    confirmed_by: list[str] = []
    """Services whose copy of the plan's ownership had moved (while the saga ran)."""

    @classmethod
    def of(cls, handover: Handover) -> HandoverView:
        return cls(
            handover_id=handover.id,
            confirmed_by=list(handover.confirmed),
            **handover.model_dump(
                include={
                    "plan_id",
                    "from_unit_id",
                    "to_unit_id",
                    "program_id",
                    "program_version",
                    "state",
                    "requested_by",
                    "requested_at",
                    "consent",
                    "expires_at",
                    "decided_by",
                    "decided_at",
                    "decline_reason",
                    "responsible_hsa_id",
                    "settled_at",
                    "outcome_reason",
                }
            ),
        )


class IncomingHandover(HandoverView):
    """A pending handover as the receiving unit's patient admins see it: who the patient is (masked
    for a protected identity), so that they can decide."""

    patient_personnummer: str
    protected_identity: bool

    @classmethod
    def incoming(cls, handover: Handover, ownership: PlanOwnership) -> IncomingHandover:
        shown = ownership.patient_personnummer
        if ownership.protected_identity:
            shown = mask_personnummer(shown)
        return cls(
            **HandoverView.of(handover).model_dump(),
            patient_personnummer=shown,
            protected_identity=ownership.protected_identity,
        )
