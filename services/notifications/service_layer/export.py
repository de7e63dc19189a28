"""The notifications service's answer to retention's export request: its part of the plan's export
for the journal (`shared.contracts.notifications.ExportPart`), ended plans included."""

from __future__ import annotations

from typing import Any, Protocol

from services.notifications.domain.export import audited_ids, notifications_part
from services.notifications.domain.model import Delivery
from shared.audit import AuditReader
from shared.contracts.export import AuditSummary
from shared.contracts.notifications import ExportPart
from shared.contracts.retention import ExportRequested
from shared.messaging.events import ReceivedEvent
from shared.ownership import OwnershipRepository
from shared.storage.unit_of_work import Transaction

SERVICE = "notifications"


class PlanDeliveries(Protocol):
    """The delivery ledger's entries about one plan."""

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Delivery]: ...


class NotificationsExport:
    def __init__(self, ownership: OwnershipRepository, deliveries: PlanDeliveries, audit: AuditReader) -> None:
        self.ownership = ownership
        self.deliveries = deliveries
        self.audit = audit

    async def on_export_requested(self, request: ExportRequested, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Consumer handler: publish what was sent about the plan (an empty part when nothing was); a
        request naming only other services publishes nothing."""
        if SERVICE not in request.services:
            return
        plan_id = request.plan_id
        deliveries = await self.deliveries.of_plan(plan_id, tx.session)
        ownership = await self.ownership.get(plan_id, tx.session)
        patient = ownership.patient_personnummer if ownership else None
        records = await self.audit.about(audited_ids(plan_id, deliveries), patient=patient, session=tx.session)
        part = notifications_part(deliveries, AuditSummary.of(records))
        tx.publish(ExportPart.answering(plan_id, request.export_id, SERVICE, part, tx.clock.now()))
        if ownership is not None:
            tx.audit(
                None,
                "export",
                "notification.deliveries",
                plan_id,
                patient=ownership.patient_personnummer,
                unit_id=ownership.unit_id,
                reason=f"journal export {request.export_id}",
            )
