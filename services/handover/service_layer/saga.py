"""The handover saga's coordinator: count every service's confirmation that its copy of the plan's
ownership moved, complete the handover when all are in, compensate when one refuses or the
confirmations do not come in time; and keep the units' program versions the plans service announces."""

from __future__ import annotations

from pydantic import BaseModel

from services.handover.domain.handover import Handover
from services.handover.domain.rules import UnitPrograms
from services.handover.service_layer.ports import Stores, timeout_key
from services.handover.service_layer.requests import audit, in_step
from shared.contracts import plans
from shared.contracts.handover import HandoverCompensated, HandoverCompleted
from shared.contracts.transfer import TransferOutcome
from shared.messaging.events import ReceivedEvent
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction


class TransferAppliedView(BaseModel):
    """Any service's `se.careplan.<service>.transfer_applied.v1`, read with one tolerant reader."""

    plan_id: str
    handover_id: str
    service: str
    ownership_version: int
    outcome: TransferOutcome
    reason: str = ""


class HandoverSaga:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    async def on_transferring(
        self, event: plans.OwnershipTransferring, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        """The plans service moved the plan: its confirmation, and the version every copy must reach."""
        handover = await self.stores.handovers.get(event.handover_id, tx.session)
        if handover is None or handover.transfer_version is not None:
            return  # unknown here, or a replay
        settled = handover.plans_moved(event.ownership_version, tx.clock.now())
        await self._record(tx, handover, settled, "plans moved the plan")

    async def on_refused(self, event: plans.OwnershipTransferRefused, _: ReceivedEvent | None, tx: Transaction) -> None:
        """The plans service could not start the transfer: nothing moved, the handover is compensated."""
        handover = await self.stores.handovers.get(event.handover_id, tx.session)
        if handover is None:
            return
        settled = handover.compensate(f"plans: {event.reason}", tx.clock.now())
        if settled is not None:  # a replayed refusal of a settled handover changes nothing
            await self._record(tx, handover, settled, "plans refused the transfer")

    async def on_confirmation(self, event: TransferAppliedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """A service's copy moved (or could not, or moved back)."""
        handover = await self.stores.handovers.get(event.handover_id, tx.session)
        if handover is None or handover.plan_id != event.plan_id:
            return
        before = (len(handover.confirmed), len(handover.restored), handover.state)
        settled = handover.confirm(event.service, event.ownership_version, event.outcome, event.reason, tx.clock.now())
        if (len(handover.confirmed), len(handover.restored), handover.state) == before:
            return  # a duplicate, a late or a foreign answer
        await self._record(tx, handover, settled, f"{event.service} {event.outcome.value}")

    async def on_timeout_timer(self, timer: Timer, tx: Transaction) -> None:
        """The confirmations did not all come in time: compensate."""
        handover = await self.stores.handovers.get(timer.payload["handover_id"], tx.session)
        if handover is None:
            return
        settled = handover.time_out(tx.clock.now())
        if settled is not None:
            await self._record(tx, handover, settled, "timed out")

    async def _record(
        self, tx: Transaction, handover: Handover, settled: HandoverCompleted | HandoverCompensated | None, step: str
    ) -> None:
        await self.stores.handovers.save(handover, tx.session)
        with in_step(handover, step):
            pass
        if settled is None:
            return
        with in_step(handover, handover.state.value):  # completed/compensated travel in the handover's trace
            tx.publish(settled)
        await self.stores.timers.cancel(timeout_key(handover.id), session=tx.session)
        ownership = await self.stores.ownership.get(handover.plan_id, tx.session)
        audit(tx, None, handover, ownership, f"handover {handover.id} {handover.state.value}")

    async def on_unit_programs_declared(
        self, event: plans.UnitProgramsDeclared, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        """Keep the newest declaration of each unit (a replayed older one changes nothing)."""
        known = await self.stores.units.get(event.unit_id, tx.session)
        if known is not None and known.revision >= event.revision:
            return
        units = UnitPrograms(unit_id=event.unit_id, programs=list(event.programs), revision=event.revision)
        await self.stores.units.save(units, tx.session)
