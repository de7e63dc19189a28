"""Retention as one of the six purge participants: it answers its own `purge_requested` like any
other service, deleting what it holds of the plan and publishing its receipt."""

from __future__ import annotations

from pydantic import BaseModel

from services.retention.service_layer.stores import PLAN_TIMER_KINDS, Stores
from shared.contracts.retention import PurgeReceipt
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction

SERVICE = "retention"


class PurgeRequestedView(BaseModel):
    """The fields of `se.careplan.retention.purge_requested.v1` a participant needs."""

    plan_id: str
    purge_id: str
    services: list[str]


class PurgeParticipant:
    """Deletes retention's personal data of a plan: its schedule, its timers and its ownership copy
    (the saga's own purge record and the tombstone are the coordinator's, and hold no personal data)."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    async def on_purge_requested(self, event: PurgeRequestedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Delete the plan's schedule, its timers (the documents, so none can fire) and its ownership copy."""
        if SERVICE not in event.services:
            return  # a re-request for the others: our receipt is in
        plan_id = event.plan_id
        deleted = {"schedules": await self.stores.schedules.delete(plan_id, tx.session)}
        deleted |= await self.stores.eraser.erase(plan_id, PLAN_TIMER_KINDS, tx.session)
        tx.publish(
            PurgeReceipt(
                plan_id=plan_id, purge_id=event.purge_id, service=SERVICE, deleted=deleted, purged_at=tx.clock.now()
            )
        )
