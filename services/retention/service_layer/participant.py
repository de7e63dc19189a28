"""Retention as one of the six purge participants: it answers its own `purge_requested` like any
other service, deleting what it holds of the plan and publishing its receipt."""

from __future__ import annotations

from pydantic import BaseModel

from services.retention.service_layer.stores import PLAN_TIMER_KINDS, Stores
from shared.contracts.retention import PurgeReceipt
from shared.messaging.events import ReceivedEvent
from shared.purge.participant import PURGE_DELETED, participant_span
from shared.storage.unit_of_work import Transaction

SERVICE = "retention"


class PurgeRequestedView(BaseModel):
    """The fields of `se.careplan.retention.purge_requested.v1` a participant needs."""

    plan_id: str
    purge_id: str
    services: list[str]
    attempt: int = 1


class PurgeParticipant:
    """Deletes retention's personal data of a plan: its schedule, its timers, its ownership copy and
    its exports for the journal with any parts received (the saga's own purge record and the tombstone
    are the coordinator's, and hold no personal data)."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    async def on_purge_requested(self, event: PurgeRequestedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Delete the plan's schedule, its timers (the documents, so none can fire), its ownership copy
        and its exports."""
        if SERVICE not in event.services:
            return  # a re-request for the others: our receipt is in
        plan_id = event.plan_id
        with participant_span(SERVICE, event.purge_id, event.attempt) as span:  # in the purge's trace
            deleted = {"schedules": await self.stores.schedules.delete(plan_id, tx.session)}
            deleted |= await self.stores.eraser.erase(plan_id, PLAN_TIMER_KINDS, tx.session)
            deleted |= {  # the journal exports: the plan's content, rendered, and parts still arriving
                "exports": await self.stores.exports.delete_of_plan(plan_id, tx.session),
                "export_parts": await self.stores.export_parts.delete_of_plan(plan_id, tx.session),
            }
            span.set_attribute(PURGE_DELETED, sum(deleted.values()))
            tx.publish(
                PurgeReceipt(
                    plan_id=plan_id, purge_id=event.purge_id, service=SERVICE, deleted=deleted, purged_at=tx.clock.now()
                )
            )
