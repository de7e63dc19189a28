"""Keeps a service's copy of plans' ownership up to date from the plans service's events."""

from __future__ import annotations

from typing import Any

from shared.contracts import plans as contract
from shared.messaging.consumer import Subscription
from shared.messaging.events import ReceivedEvent
from shared.ownership.model import OwnershipState, PlanOwnership
from shared.ownership.repository import OwnershipRepository


class OwnershipProjector:
    """Applies `plan.started`, `plan.ended` and `plan.responsible_changed` idempotently: replaying
    the topic from the start ends in the same state."""

    def __init__(self, repository: OwnershipRepository) -> None:
        self.repository = repository

    def subscriptions(self) -> list[Subscription]:
        """To put first in the service's consumer of the plans topic (same transaction, same order)."""
        return [
            Subscription(contract.PlanStarted.ce_type, contract.PlanStarted, self.on_plan_started),
            Subscription(contract.PlanEnded.ce_type, contract.PlanEnded, self.on_plan_ended),
            Subscription(contract.ResponsibleChanged.ce_type, contract.ResponsibleChanged, self.on_responsible_changed),
        ]

    async def on_plan_started(self, event: contract.PlanStarted, _: ReceivedEvent | None, tx: Any) -> None:
        if await self.repository.get(event.plan_id, tx.session) is not None:
            return  # a replay: what we hold is as new or newer
        await self.repository.save(
            PlanOwnership(
                plan_id=event.plan_id,
                unit_id=event.unit_id,
                patient_personnummer=event.patient_personnummer,
                protected_identity=event.protected_identity,
                responsible_hsa_id=event.responsible_hsa_id,
                program_id=event.program_id,
                program_version=event.program_version,
                started_at=event.started_at,
            ),
            tx.session,
        )

    async def on_plan_ended(self, event: contract.PlanEnded, _: ReceivedEvent | None, tx: Any) -> None:
        ownership = await self.repository.get(event.plan_id, tx.session)
        if ownership is None or ownership.state is OwnershipState.ENDED:
            return
        ownership.state, ownership.ended_at = OwnershipState.ENDED, event.ended_at
        await self.repository.save(ownership, tx.session)

    async def on_responsible_changed(
        self, event: contract.ResponsibleChanged, _: ReceivedEvent | None, tx: Any
    ) -> None:
        ownership = await self.repository.get(event.plan_id, tx.session)
        if ownership is None:
            return
        ownership.responsible_hsa_id = event.responsible_hsa_id
        await self.repository.save(ownership, tx.session)
