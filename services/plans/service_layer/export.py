"""The plans service's answer to retention's export request: its part of the plan's export for the
journal (`shared.contracts.plans.ExportPart`), ended plans included (they are read-only, not gone)."""

from __future__ import annotations

from services.plans.domain.export import plan_part
from services.plans.service_layer.access import PlanAccess
from shared.audit import AuditReader
from shared.contracts.export import AuditSummary
from shared.contracts.plans import ExportPart
from shared.contracts.retention import ExportRequested
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction

SERVICE = "plans"


class PlanExport:
    def __init__(self, access: PlanAccess, audit: AuditReader) -> None:
        self.access = access
        self.audit = audit

    async def on_export_requested(self, request: ExportRequested, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Consumer handler: publish the plan's part, audited as an export by the system. A request for
        other services (a re-request of missing parts), or for a plan unknown here, publishes nothing."""
        if SERVICE not in request.services:
            return
        plan = await self.access.plans.get(request.plan_id, tx.session)
        if plan is None:
            return
        program = await self.access.catalog.program(plan.program_id, plan.program_version)
        records = await self.audit.about([plan.id], session=tx.session)
        part = plan_part(plan, program, AuditSummary.of(records))
        tx.publish(ExportPart.answering(plan.id, request.export_id, SERVICE, part, tx.clock.now()))
        tx.audit(
            None,
            "export",
            "plan",
            plan.id,
            patient=plan.patient_personnummer,
            unit_id=plan.unit_id,
            reason=f"journal export {request.export_id}",
        )
