"""Use cases of a handover before the saga: initiate, accept, decline, withdraw, and expiry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.handover.domain.commands import AcceptHandover, DeclineHandover, InitiateHandover
from services.handover.domain.handover import Handover, expiry_of
from services.handover.domain.rules import HANDOVER_NOT_FOUND, refuse_unless_transferable
from services.handover.domain.views import HandoverView
from services.handover.service_layer.ports import (
    EXPIRY_TIMER,
    TRANSFER_TIMEOUT_TIMER,
    HandoverPolicy,
    Stores,
    expiry_key,
    timeout_key,
)
from shared.contracts import plans
from shared.contracts.handover import Consent
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import start_workflow, workflow_step
from shared.ownership import OwnershipState, PlanOwnership, authorize
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

HANDOVER_WORKFLOW = "handover"
RESOURCE = "plan.handover"


def audit(tx: Transaction, by: Staff | None, handover: Handover, ownership: PlanOwnership | None, why: str) -> None:
    patient = ownership.patient_personnummer if ownership else None
    tx.audit(by, "update", RESOURCE, handover.plan_id, patient=patient, unit_id=handover.from_unit_id, reason=why)


class HandoverRequests:
    def __init__(self, uow: UnitOfWork, stores: Stores, policy: HandoverPolicy) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy

    async def initiate(self, plan_id: str, command: InitiateHandover, by: Staff) -> HandoverView:
        """A handover of a plan the caller's unit holds, with the patient's consent, refused with a
        reason when the plan cannot go there; one pending handover per plan."""

        async def work(tx: Transaction) -> Handover:
            ownership = authorize(await self.stores.ownership.get(plan_id, tx.session), by)
            receiving = await self.stores.units.get(command.to_unit_id, tx.session)
            refuse_unless_transferable(ownership, command.to_unit_id, receiving)
            now = tx.clock.now()
            handover = Handover(
                id=str(uuid.uuid4()),
                plan_id=plan_id,
                from_unit_id=ownership.unit_id,
                to_unit_id=command.to_unit_id,
                program_id=ownership.program_id,
                program_version=ownership.program_version,
                requested_by=by.hsa_id,
                requested_at=now,
                consent=self._consent(command, by, tx),
                expires_at=expiry_of(now, self.policy.pending_for),
                ownership_version=ownership.version,
            )
            handover.workflow = start_workflow(HANDOVER_WORKFLOW, handover.id)
            await self.stores.handovers.add(handover, tx.session)
            payload = {"plan_id": plan_id, "handover_id": handover.id}
            await self.stores.timers.schedule(
                expiry_key(handover.id), EXPIRY_TIMER, handover.expires_at, payload, session=tx.session
            )
            tx.publish(handover.requested())
            audit(tx, by, handover, ownership, f"handover {handover.id} to {handover.to_unit_id} requested")
            return handover

        return HandoverView.of(await self.uow.run(work))

    @staticmethod
    def _consent(command: InitiateHandover, by: Staff, tx: Transaction) -> Consent:
        if command.consent is None:
            raise Invalid("the patient's consent is required: record how the patient agreed", field="consent")
        recorded_at = command.consent.recorded_at or tx.clock.now()
        if recorded_at > tx.clock.now():
            raise Invalid("consent cannot be recorded in the future", field="consent.recorded_at")
        recorded_by = command.consent.recorded_by or by.hsa_id
        return Consent(method=command.consent.method, recorded_by=recorded_by, recorded_at=recorded_at)

    async def _load(self, handover_id: str, session: Any) -> Handover:
        handover = await self.stores.handovers.get(handover_id, session)
        if handover is None:
            raise NotFound(HANDOVER_NOT_FOUND)
        return handover

    async def accept(self, handover_id: str, command: AcceptHandover, by: Staff) -> HandoverView:
        """The receiving unit takes the plan: the saga starts (a second accept changes nothing)."""

        async def work(tx: Transaction) -> Handover:
            handover = await self._load(handover_id, tx.session)
            ownership = await self.stores.ownership.get(handover.plan_id, tx.session)
            accepted = handover.accept(by, command.responsible_hsa_id, tx.clock.now())
            if accepted is None:
                return handover
            self._require_unchanged(handover, ownership)
            await self.stores.handovers.save(handover, tx.session)
            await self.stores.timers.cancel(expiry_key(handover.id), session=tx.session)
            due = tx.clock.now() + self.policy.transfer_timeout
            payload = {"plan_id": handover.plan_id, "handover_id": handover.id}
            await self.stores.timers.schedule(
                timeout_key(handover.id), TRANSFER_TIMEOUT_TIMER, due, payload, session=tx.session
            )
            with in_step(handover, "accepted"):  # the saga's events travel in the handover's trace
                tx.publish(accepted)
            audit(tx, by, handover, ownership, f"handover {handover.id} accepted")
            return handover

        return HandoverView.of(await self.uow.run(work))

    @staticmethod
    def _require_unchanged(handover: Handover, ownership: PlanOwnership | None) -> None:
        """The plan is still where it was when the handover was requested."""
        if ownership is None or ownership.state is OwnershipState.ENDED:
            raise Conflict("the plan has ended: it cannot be handed over", field="handover_id")
        if ownership.unit_id != handover.from_unit_id or ownership.version != handover.ownership_version:
            raise Conflict("the plan changed hands since the handover was requested", field="handover_id")

    async def decline(self, handover_id: str, command: DeclineHandover, by: Staff) -> HandoverView:
        async def work(tx: Transaction) -> Handover:
            handover = await self._load(handover_id, tx.session)
            declined = handover.decline(by, command.reason, tx.clock.now())
            if declined is not None:
                await self._settle(tx, handover, declined)
                audit(tx, by, handover, None, f"handover {handover.id} declined")
            return handover

        return HandoverView.of(await self.uow.run(work))

    async def withdraw(self, handover_id: str, by: Staff) -> HandoverView:
        async def work(tx: Transaction) -> Handover:
            handover = await self._load(handover_id, tx.session)
            withdrawn = handover.withdraw(by, tx.clock.now())
            if withdrawn is not None:
                await self._settle(tx, handover, withdrawn)
                audit(tx, by, handover, None, f"handover {handover.id} withdrawn")
            return handover

        return HandoverView.of(await self.uow.run(work))

    async def on_expiry_timer(self, timer: Timer, tx: Transaction) -> None:
        """Nobody at the receiving unit answered in time."""
        handover = await self.stores.handovers.get(timer.payload["handover_id"], tx.session)
        expired = handover.expire(tx.clock.now()) if handover else None
        if handover is not None and expired is not None:
            await self._settle(tx, handover, expired)
            audit(tx, None, handover, None, f"handover {handover.id} expired")

    async def on_plan_ended(self, event: plans.PlanEnded, _: ReceivedEvent | None, tx: Transaction) -> None:
        """A plan that ended is no longer handed over: its pending handover is withdrawn."""
        for handover in await self.stores.handovers.history(event.plan_id, tx.session):
            withdrawn = handover.withdraw_as_plan_ended(tx.clock.now())
            if withdrawn is not None:
                await self._settle(tx, handover, withdrawn)
                audit(tx, None, handover, None, f"handover {handover.id} withdrawn: the plan ended")

    async def _settle(self, tx: Transaction, handover: Handover, event: Any) -> None:
        await self.stores.handovers.save(handover, tx.session)
        await self.stores.timers.cancel(expiry_key(handover.id), session=tx.session)
        with in_step(handover, handover.state.value):
            tx.publish(event)


@contextmanager
def in_step(handover: Handover, step: str) -> Iterator[None]:
    """A step of the handover's workflow: what is published inside travels in the handover's trace
    (and links to the request or timer that took the step)."""
    if handover.workflow is None:  # a handover stored before workflows were traced
        yield
        return
    with workflow_step(handover.workflow, step, link_current=True):
        yield
