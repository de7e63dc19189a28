"""The plans service's part in handovers: units declare the program versions they run, and a plan's
ownership moves here (every other service's copy follows the events published here).

Consumer handlers of the handover topic: `handover.accepted` starts the transfer (or refuses it),
`handover.completed` lets the receiving unit act, `handover.compensated` gives the plan back."""

from __future__ import annotations

from typing import Any, Protocol

from services.plans.domain import transfer
from services.plans.domain.plan import Plan
from services.plans.domain.units import DeclarePrograms, UnitPrograms
from services.plans.service_layer.access import PlanAccess
from shared.contracts import handover as requests
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import Event, ReceivedEvent
from shared.ownership.model import PlanOwnership
from shared.storage.unit_of_work import Transaction

HANDOVER_RESOURCE = "plan.ownership"


class UnitProgramsRepository(Protocol):
    async def get(self, unit_id: str, session: Any = None) -> UnitPrograms | None: ...

    async def save(self, units: UnitPrograms, session: Any = None) -> None: ...


class ActiveKeys(Protocol):
    """'One active plan per patient, program and unit', as the plan changes unit."""

    async def move(self, plan: Plan, from_unit_id: str, session: Any = None) -> bool:
        """Take the key of `plan` at its (new) unit and release the one at `from_unit_id`; False if
        the patient has another active plan of the program at the new unit (nothing changed)."""


class UnitCatalog:
    """Use cases of a unit's program versions."""

    def __init__(self, access: PlanAccess, units: UnitProgramsRepository) -> None:
        self.access = access
        self.units = units

    async def declare(self, command: DeclarePrograms, by: Staff) -> UnitPrograms:
        """Replace the caller's unit's list; every version must be published (404 naming it)."""
        for i, ref in enumerate(command.programs):
            try:
                await self.access.catalog.program(ref.program_id, ref.version)
            except NotFound as missing:
                raise NotFound(missing.message, field=f"programs.{i}.version") from None

        async def work(tx: Transaction) -> UnitPrograms:
            units = await self.units.get(by.unit_id, tx.session) or UnitPrograms(unit_id=by.unit_id)
            tx.publish(units.declare(command, by.hsa_id, tx.clock.now()))
            await self.units.save(units, tx.session)
            return units

        return await self.access.uow.run(work)

    async def of_unit(self, unit_id: str) -> UnitPrograms:
        return await self.units.get(unit_id) or UnitPrograms(unit_id=unit_id)


class PlanTransfers:
    """Where a plan's ownership moves during a handover (consumer handlers, one transaction each)."""

    def __init__(self, access: PlanAccess, units: UnitProgramsRepository, keys: ActiveKeys) -> None:
        self.access = access
        self.units = units
        self.keys = keys

    async def on_accepted(self, accepted: requests.HandoverAccepted, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Move the plan to the receiving unit (read-only until settled), or say why it cannot move."""
        plan = await self.access.plans.get(accepted.plan_id, tx.session)
        ownership = await self.access.ownership.get(accepted.plan_id, tx.session)
        if plan is not None and transfer.in_flight(plan, accepted.handover_id):
            return  # this handover's transfer started before (a replay)
        receiving = await self.units.get(accepted.to_unit_id, tx.session)
        runs = plan is not None and receiving is not None and receiving.runs(plan.program_id, plan.program_version)
        reason = transfer.refusal(plan, ownership, accepted, runs)
        if reason is None and plan is not None and ownership is not None:
            moving = transfer.start(plan, accepted, ownership.version + 1, tx.clock.now())
            if await self.keys.move(plan, moving.from_unit_id, tx.session):
                await self._commit(tx, plan, ownership, moving, f"handover {accepted.handover_id}: transferring")
                return
            reason = "the patient already has an active plan of this program at the receiving unit"
        tx.publish(transfer.refused(accepted.plan_id, accepted, reason or "refused"))

    async def on_completed(
        self, completed: requests.HandoverCompleted, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        """Every service moved: the receiving unit may act."""
        plan = await self.access.plans.get(completed.plan_id, tx.session)
        ownership = await self.access.ownership.get(completed.plan_id, tx.session)
        if plan is None or ownership is None or transfer.in_flight(plan, completed.handover_id) is None:
            return  # settled before, or never started here
        settled = transfer.complete(plan, ownership.version + 1)
        await self._commit(tx, plan, ownership, settled, f"handover {completed.handover_id}: completed")

    async def on_compensated(
        self, compensated: requests.HandoverCompensated, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        """Undo: the handing-over unit holds the plan again, in every service."""
        plan = await self.access.plans.get(compensated.plan_id, tx.session)
        ownership = await self.access.ownership.get(compensated.plan_id, tx.session)
        if plan is None or ownership is None or transfer.in_flight(plan, compensated.handover_id) is None:
            return  # nothing moved here (refused), or undone before
        receiving = plan.unit_id
        reverted = transfer.revert(plan, ownership.version + 1)
        await self.keys.move(plan, receiving, tx.session)
        await self._commit(tx, plan, ownership, reverted, f"handover {compensated.handover_id}: compensated")

    async def _commit(self, tx: Transaction, plan: Plan, ownership: PlanOwnership, event: Event, why: str) -> None:
        """The plan, its ownership copy at the next version, the event and the audit record, together."""
        await self.access.plans.save(plan, tx.session)
        await self.access.ownership.save(plan.ownership(version=ownership.version + 1), tx.session)
        tx.publish(event)
        patient, unit = plan.patient_personnummer, plan.unit_id
        tx.audit(None, "update", HANDOVER_RESOURCE, plan.id, patient=patient, unit_id=unit, reason=why)
