"""Reads: a plan's handover history (the holding unit and the patient), one handover (the units
involved), and the receiving unit's pending incoming handovers (its patient admins). All audited."""

from __future__ import annotations

from services.handover.domain.rules import HANDOVER_NOT_FOUND, may_see
from services.handover.domain.views import HandoverView, IncomingHandover
from services.handover.service_layer.ports import Stores
from services.handover.service_layer.requests import RESOURCE
from shared.kernel.errors import NotFound
from shared.kernel.principals import Principal, Staff
from shared.ownership import authorize
from shared.storage.unit_of_work import UnitOfWork

INCOMING_LIMIT = 200


class HandoverReads:
    def __init__(self, uow: UnitOfWork, stores: Stores) -> None:
        self.uow = uow
        self.stores = stores

    async def history(self, plan_id: str, by: Principal) -> list[HandoverView]:
        """Every handover of the plan, oldest first (unlimited hops): it stays with the plan."""
        ownership = authorize(await self.stores.ownership.get(plan_id), by)
        handovers = await self.stores.handovers.history(plan_id)
        await self.uow.audit_log.record(
            by, "read", RESOURCE, plan_id, patient=ownership.patient_personnummer, unit_id=ownership.unit_id
        )
        return [HandoverView.of(h) for h in handovers]

    async def one(self, handover_id: str, by: Staff) -> HandoverView:
        """A handover, for the staff of the two units it concerns; anyone else gets a 404."""
        handover = await self.stores.handovers.get(handover_id)
        if handover is None or not may_see(handover.from_unit_id, handover.to_unit_id, by):
            raise NotFound(HANDOVER_NOT_FOUND)
        await self.uow.audit_log.record(by, "read", RESOURCE, handover.plan_id, patient=None, unit_id=by.unit_id)
        return HandoverView.of(handover)

    async def incoming(self, by: Staff) -> list[IncomingHandover]:
        """Pending handovers to the caller's unit, oldest first, with the patient to decide on."""
        found: list[IncomingHandover] = []
        for handover in await self.stores.handovers.pending_for(by.unit_id, INCOMING_LIMIT):
            ownership = await self.stores.ownership.get(handover.plan_id)
            if ownership is None:
                continue  # purged since
            found.append(IncomingHandover.incoming(handover, ownership))
            await self.uow.audit_log.record(
                by,
                "read",
                RESOURCE,
                handover.plan_id,
                patient=ownership.patient_personnummer,
                unit_id=by.unit_id,
                reason="incoming handover",
            )
        return found
