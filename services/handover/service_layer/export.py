"""The handover service's answer to retention's export request: its part of the plan's export for
the journal (`shared.contracts.handover.ExportPart`)."""

from __future__ import annotations

from typing import Any, Protocol

from services.handover.domain.export import handover_part
from shared.audit import AuditReader
from shared.contracts.export import AuditSummary
from shared.contracts.handover import ExportPart
from shared.contracts.retention import ExportRequested
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction

SERVICE = "handover"


class HandoverHistory(Protocol):
    """The plan's handovers, oldest first, each as the journal should read it."""

    async def of_plan(self, plan_id: str, session: Any = None) -> list[dict[str, Any]]: ...


class NoHandovers:
    """The history until the handover domain lands: no plan has been handed over."""

    async def of_plan(self, plan_id: str, session: Any = None) -> list[dict[str, Any]]:
        return []


class HandoverExport:
    def __init__(self, history: HandoverHistory, audit: AuditReader) -> None:
        self.history = history
        self.audit = audit

    async def on_export_requested(self, request: ExportRequested, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Consumer handler: publish the plan's handover history (an empty part for a plan never handed
        over); a request naming only other services publishes nothing."""
        if SERVICE not in request.services:
            return
        handovers = await self.history.of_plan(request.plan_id, tx.session)
        records = await self.audit.about([request.plan_id], session=tx.session)
        part = handover_part(handovers, AuditSummary.of(records))
        tx.publish(ExportPart.answering(request.plan_id, request.export_id, SERVICE, part, tx.clock.now()))
