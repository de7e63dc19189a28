"""The export saga's coordinator: request a plan's export for the journal (when it ends, on an admin's
request, or at the limit before its purge), collect every service's part, ask the missing ones again
with backoff, and when all five are in, render the FHIR Bundle and the PDF, keep them, and announce
`plan_exported` (a reference without content)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.retention.domain.export import Export, ExportPartView, ExportSummary
from services.retention.domain.export_document import ExportDocument, InvalidPart, read_part
from services.retention.domain.fhir_export import export_bundle
from services.retention.domain.model import PlanEndedView
from services.retention.domain.purge import SYSTEM
from services.retention.service_layer.stores import EXPORT_RETRY_TIMER, RetentionPolicy, Stores, export_retry_key
from shared.contracts.retention import PlanExported
from shared.kernel.errors import Conflict
from shared.kernel.principals import Staff
from shared.messaging.consumer import PermanentFailure
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import start_workflow, workflow_step
from shared.ownership import OwnershipState, PlanOwnership, authorize
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

EXPORT_WORKFLOW = "export"
PdfRenderer = Callable[[ExportDocument], bytes]


class ExportCoordinator:
    """Use cases of the export saga (retention's side as its owner)."""

    def __init__(self, uow: UnitOfWork, stores: Stores, policy: RetentionPolicy, render_pdf: PdfRenderer) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy
        self.render_pdf = render_pdf

    # -- requests -------------------------------------------------------------------------------

    async def request_export(self, plan_id: str, by: Staff) -> ExportSummary:
        """An admin's request for a new export of an ended plan (each request makes a new one)."""

        async def work(tx: Transaction) -> ExportSummary:
            ownership = authorize(await self.stores.ownership.get(plan_id, tx.session), by)
            if await self.stores.purged_or_purging(plan_id, tx.session):
                raise Conflict("the plan is being purged: it can no longer be exported", field="plan_id")
            export = await self.start(tx, ownership, by)
            return ExportSummary.of(export, self.policy.export_retry)

        return await self.uow.run(work)

    async def on_plan_ended(self, event: PlanEndedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """A plan that ends is exported for the journal (once: a replayed end finds its export)."""
        if await self.stores.purged_or_purging(event.plan_id, tx.session):
            return
        ownership = await self.stores.ownership.get(event.plan_id, tx.session)
        if ownership is None or ownership.state is not OwnershipState.ENDED:
            return
        if await self.stores.exports.latest_of(event.plan_id, tx.session) is None:
            await self.start(tx, ownership, None)

    async def export_for_purge(self, ownership: PlanOwnership, tx: Transaction) -> str | None:
        """The automatic purge at the limit needs an export: the id of a complete one if there is one;
        otherwise the one under way asks its missing services again now (or a new one is started)."""
        latest = await self.stores.exports.latest_of(ownership.plan_id, tx.session)
        if latest is not None and latest.state == "completed":
            return latest.export_id
        if latest is None:
            await self.start(tx, ownership, None)
        else:
            await self._ask_again(latest, tx, "re-requested for the purge")
        return None

    async def start(self, tx: Transaction, ownership: PlanOwnership, by: Staff | None) -> Export:
        """A new export of an ended plan: every exporting service is asked for its part."""
        export, requested = Export.request(
            ownership, export_id=str(uuid.uuid4()), requested_by=by.hsa_id if by else SYSTEM, now=tx.clock.now()
        )
        export.workflow = start_workflow(EXPORT_WORKFLOW, export.export_id)
        await self.stores.exports.save(export, tx.session)
        with workflow_step(export.workflow, "requested"):
            tx.publish(requested)
        await self._schedule_retry(export, tx)
        tx.audit(
            by,
            "export",
            "plan",
            ownership.plan_id,
            patient=ownership.patient_personnummer,
            unit_id=ownership.unit_id,
            reason=f"export {export.export_id} requested",
        )
        return export

    # -- the saga -------------------------------------------------------------------------------

    async def on_part(self, part: ExportPartView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Keep a service's part once; the last one completes the export."""
        export = await self.stores.exports.get(part.export_id, tx.session)
        if export is None or not export.counts(part):
            return  # unknown here (or purged), complete, a duplicate, or another export's part
        try:
            content = read_part(part.service, part.content)
        except InvalidPart as exc:
            raise PermanentFailure(str(exc)) from None  # names fields only, never values
        exported = export.record_part(part, tx.clock.now())
        if export.workflow:
            with workflow_step(export.workflow, f"part {part.service}", link_current=True):
                pass
        if exported is None:
            await self.stores.export_parts.put(export, part.service, content, tx.session)
            await self.stores.exports.save(export, tx.session)
            return
        parts = await self.stores.export_parts.of_export(export.export_id, tx.session)
        await self._complete(export, exported, parts | {part.service: content}, tx)

    async def on_retry_timer(self, timer: Timer, tx: Transaction) -> None:
        """Ask the services whose part is still missing again, and wait longer next time."""
        export = await self.stores.exports.get(timer.payload["export_id"], tx.session)
        if export is None or export.attempts != timer.payload["attempt"]:
            return  # purged meanwhile, or a stale timer
        await self._ask_again(export, tx, f"re-requested (attempt {export.attempts + 1})")

    async def _ask_again(self, export: Export, tx: Transaction, step: str) -> None:
        requested = export.re_request(tx.clock.now())
        if requested is None:
            return
        await self.stores.exports.save(export, tx.session)
        if export.workflow:
            with workflow_step(export.workflow, step, link_current=True):
                tx.publish(requested)
        else:
            tx.publish(requested)
        await self._schedule_retry(export, tx)

    async def _schedule_retry(self, export: Export, tx: Transaction) -> None:
        await self.stores.timers.schedule(
            export_retry_key(export.export_id, export.attempts),
            EXPORT_RETRY_TIMER,
            export.next_request_at(self.policy.export_retry),
            {"plan_id": export.plan_id, "export_id": export.export_id, "attempt": export.attempts},
            session=tx.session,
        )

    async def _complete(
        self, export: Export, exported: PlanExported, parts: dict[str, dict[str, Any]], tx: Transaction
    ) -> None:
        """Every part is in: render and keep both renderings, drop the parts, record the plan as
        exported (its purge no longer needs force) and announce it."""
        document = ExportDocument.assemble(export, parts)
        await self.stores.exports.save(export, tx.session)
        await self.stores.exports.save_renderings(
            export.export_id, export_bundle(document), self.render_pdf(document), tx.session
        )
        await self.stores.export_parts.delete_of_export(export.export_id, tx.session)
        await self.stores.timers.cancel(export_retry_key(export.export_id, export.attempts), session=tx.session)
        schedule = await self.stores.schedules.get(export.plan_id, tx.session)
        if schedule is not None:
            schedule.export_id = export.export_id
            await self.stores.schedules.save(schedule, tx.session)
        if export.workflow:
            with workflow_step(export.workflow, "completed", link_current=True):
                tx.publish(exported)
        else:
            tx.publish(exported)
        tx.audit(
            None,
            "export",
            "plan",
            export.plan_id,
            patient=None,
            unit_id=export.unit_id,
            reason=f"export {export.export_id} completed: every service's part is in",
        )
