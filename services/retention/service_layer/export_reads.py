"""Reading a plan's exports: the list, and a complete export as its FHIR Bundle or its PDF, for the
data admin and the patient admin of the unit holding the plan. Every read is audited (which export,
in which format; never its content)."""

from __future__ import annotations

from typing import Any

from services.retention.domain.export import EXPORT_NOT_FOUND, Export, ExportList, ExportSummary
from services.retention.service_layer.stores import RetentionPolicy, Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.ownership import PlanOwnership, authorize
from shared.storage.unit_of_work import UnitOfWork


class ExportReads:
    """The reads of exports; a plan of another unit, and its exports, look missing."""

    def __init__(self, uow: UnitOfWork, stores: Stores, policy: RetentionPolicy) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy

    async def exports_of(self, plan_id: str, by: Staff) -> ExportList:
        """The plan's exports, newest first: state, times, which services' parts are in."""
        ownership = authorize(await self.stores.ownership.get(plan_id), by)
        exports = await self.stores.exports.of_plan(plan_id)
        await self._audit(by, ownership, "plan.exports", "list")
        return ExportList(plan_id=plan_id, items=[ExportSummary.of(e, self.policy.export_retry) for e in exports])

    async def bundle_of(self, plan_id: str, export_id: str, by: Staff) -> dict[str, Any]:
        """The complete export as a FHIR R4 Bundle."""
        ownership, export = await self._complete_export(plan_id, export_id, by)
        bundle = await self.stores.exports.bundle_of(export.export_id)
        if bundle is None:
            raise NotFound(EXPORT_NOT_FOUND)
        await self._audit(by, ownership, "plan.export", f"export {export_id} as FHIR")
        return bundle

    async def pdf_of(self, plan_id: str, export_id: str, by: Staff) -> bytes:
        """The complete export as a PDF for the journal."""
        ownership, export = await self._complete_export(plan_id, export_id, by)
        pdf = await self.stores.exports.pdf_of(export.export_id)
        if pdf is None:
            raise NotFound(EXPORT_NOT_FOUND)
        await self._audit(by, ownership, "plan.export", f"export {export_id} as PDF")
        return pdf

    async def _complete_export(self, plan_id: str, export_id: str, by: Staff) -> tuple[PlanOwnership, Export]:
        ownership = authorize(await self.stores.ownership.get(plan_id), by)
        export = await self.stores.exports.get(export_id)
        if export is None or export.plan_id != plan_id:
            raise NotFound(EXPORT_NOT_FOUND)
        export.require_complete()
        return ownership, export

    async def _audit(self, by: Staff, ownership: PlanOwnership, resource: str, reason: str) -> None:
        await self.uow.audit_log.record(
            by,
            "read",
            resource,
            ownership.plan_id,
            patient=ownership.patient_personnummer,
            unit_id=ownership.unit_id,
            reason=reason,
        )
