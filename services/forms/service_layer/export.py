"""The forms service's answer to retention's export request: its part of the plan's export for the
journal (`shared.contracts.forms.ExportPart`), ended plans included (read-only, not gone)."""

from __future__ import annotations

from typing import Any, Protocol

from services.forms.domain.definition import FormDefinition
from services.forms.domain.export import FormKey, audited_ids, forms_part
from services.forms.domain.model import Response
from services.forms.service_layer.ports import Stores
from shared.audit import AuditReader
from shared.contracts.export import AuditSummary
from shared.contracts.forms import ExportPart
from shared.contracts.retention import ExportRequested
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction

SERVICE = "forms"


class PlanResponses(Protocol):
    """Every response of one plan, of every form (drafts included: the export picks)."""

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Response]: ...


class FormsExport:
    def __init__(self, stores: Stores, responses: PlanResponses, audit: AuditReader) -> None:
        self.stores = stores
        self.responses = responses
        self.audit = audit

    async def on_export_requested(self, request: ExportRequested, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Consumer handler: publish the plan's answers, results, flags, batteries, activity plans and
        registrations (an empty part for a plan without any); a request naming only other services
        publishes nothing."""
        if SERVICE not in request.services:
            return
        plan_id, stores = request.plan_id, self.stores
        responses = await self.responses.of_plan(plan_id, tx.session)
        flags = await stores.flags.of_plan(plan_id)
        batteries = await stores.batteries.of_plan(plan_id, tx.session)
        activities = await stores.activities.of_plan(plan_id)
        registrations = [r for a in activities for r in await stores.activities.registrations(a.id)]
        ownership = await stores.ownership.get(plan_id, tx.session)
        ids = audited_ids(plan_id, responses, flags, batteries, activities, registrations)
        patient = ownership.patient_personnummer if ownership else None
        records = await self.audit.about(ids, patient=patient, session=tx.session)
        forms = await self._definitions(responses)
        part = forms_part(responses, forms, flags, batteries, activities, registrations, AuditSummary.of(records))
        tx.publish(ExportPart.answering(plan_id, request.export_id, SERVICE, part, tx.clock.now()))
        if ownership is not None:
            tx.audit(
                None,
                "export",
                "forms",
                plan_id,
                patient=ownership.patient_personnummer,
                unit_id=ownership.unit_id,
                reason=f"journal export {request.export_id}",
            )

    async def _definitions(self, responses: list[Response]) -> dict[FormKey, FormDefinition]:
        """The published form versions the responses were scored with (each read once)."""
        found: dict[FormKey, FormDefinition] = {}
        for key in {(r.form_id, r.form_version) for r in responses}:
            form = await self.stores.forms.version(*key)
            if form is not None:
                found[key] = form
        return found
