"""Keeps a service's copy of plans' ownership up to date from the plans service's events."""

from __future__ import annotations

from typing import Any

from shared.contracts import plans as contract
from shared.contracts.transfer import TransferAppliedBase, TransferOutcome
from shared.messaging.consumer import Subscription
from shared.messaging.events import ReceivedEvent
from shared.ownership.model import OwnershipState, PlanOwnership
from shared.ownership.repository import OwnershipRepository
from shared.ownership.transfer import take_settled, take_transferring


class OwnershipProjector:
    """Applies `plan.started`, `plan.ended`, `plan.responsible_changed` and a handover's ownership
    steps (`plan.ownership_transferring`, `_transferred`, `_transfer_reverted`) idempotently:
    replaying the topic from the start ends in the same state.

    `confirm` is the service's own `TransferApplied` event (its contract's): the projector answers
    every transfer and reversal with it, in the same transaction as the change of the copy, so
    the handover saga knows when every copy has moved. Without it (tests, tools) nothing is answered.
    """

    def __init__(self, repository: OwnershipRepository, confirm: type[TransferAppliedBase] | None = None) -> None:
        self.repository = repository
        self.confirm = confirm

    def subscriptions(self) -> list[Subscription]:
        """To put first in the service's consumer of the plans topic (same transaction, same order)."""
        return [
            Subscription(contract.PlanStarted.ce_type, contract.PlanStarted, self.on_plan_started),
            Subscription(contract.PlanEnded.ce_type, contract.PlanEnded, self.on_plan_ended),
            Subscription(contract.ResponsibleChanged.ce_type, contract.ResponsibleChanged, self.on_responsible_changed),
            Subscription(contract.OwnershipTransferring.ce_type, contract.OwnershipTransferring, self.on_transferring),
            Subscription(contract.OwnershipTransferred.ce_type, contract.OwnershipTransferred, self.on_settled),
            Subscription(
                contract.OwnershipTransferReverted.ce_type, contract.OwnershipTransferReverted, self.on_settled
            ),
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

    async def on_transferring(self, event: contract.OwnershipTransferring, _: ReceivedEvent | None, tx: Any) -> None:
        """The receiving unit holds the plan from now on (read-only until the handover completes)."""
        moved, outcome, reason = take_transferring(await self.repository.get(event.plan_id, tx.session), event)
        if moved is not None:
            await self.repository.save(moved, tx.session)
        if outcome is not None:
            self._answer(tx, event.plan_id, event.handover_id, event.ownership_version, outcome, reason)

    async def on_settled(
        self,
        event: contract.OwnershipTransferred | contract.OwnershipTransferReverted,
        _: ReceivedEvent | None,
        tx: Any,
    ) -> None:
        """The handover completed (the receiving unit acts) or was compensated (the old holder is back)."""
        settled = take_settled(await self.repository.get(event.plan_id, tx.session), event)
        if settled is None:
            return
        await self.repository.save(settled, tx.session)
        if isinstance(event, contract.OwnershipTransferReverted):
            self._answer(tx, event.plan_id, event.handover_id, event.ownership_version, TransferOutcome.REVERTED, "")

    def _answer(
        self, tx: Any, plan_id: str, handover_id: str, version: int, outcome: TransferOutcome, reason: str
    ) -> None:
        if self.confirm is None:
            return
        service = self.confirm.ce_type.split(".")[2]  # se.careplan.<service>.transfer_applied.v1
        tx.publish(
            self.confirm(
                plan_id=plan_id,
                handover_id=handover_id,
                service=service,
                ownership_version=version,
                outcome=outcome,
                reason=reason,
                at=tx.clock.now(),
            )
        )
