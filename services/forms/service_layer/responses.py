"""The patient's answers: drafts and submissions (scored, flagged, counted for open measurements),
re-scoring after a rule fix, and one response as a FHIR QuestionnaireResponse."""

from __future__ import annotations

from typing import Any

from services.forms.adapters import fhir
from services.forms.domain import flagging
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import PlanForms, Response
from services.forms.service_layer.access import PlanAccess
from services.forms.service_layer.definitions import DefinitionService
from services.forms.service_layer.flags import FlagService
from services.forms.service_layer.ports import Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.ownership import OwnershipState
from shared.storage.unit_of_work import Transaction, UnitOfWork


class ResponseService:
    def __init__(
        self, uow: UnitOfWork, stores: Stores, access: PlanAccess, definitions: DefinitionService, flags: FlagService
    ) -> None:
        self.uow = uow
        self.responses = stores.responses
        self.plans = stores.plans
        self.access = access
        self.definitions = definitions
        self.flags = flags

    async def open_forms(self, plan_id: str, by: Principal) -> dict[str, list[str]]:
        """The forms the patient may fill in now, by what opened them (none once the plan has ended)."""
        ownership = await self.access.readable(plan_id, by)
        plan = await self.access.forms(plan_id)
        await self.access.audit_read(by, ownership, "open_forms", plan_id)
        return {} if ownership.state is OwnershipState.ENDED else plan.open_forms()

    async def respond(
        self, plan_id: str, form_id: str, answers: dict[str, Any], *, draft: bool, by: Patient
    ) -> Response:
        """Save a draft, or submit (scored; flags raised; open measurements counted). 409 if the form is
        not open or the plan is read-only, 422 naming the first question at fault."""
        form = await self.definitions.form(form_id)

        async def work(tx: Transaction) -> Response:
            ownership = await self.access.writable(plan_id, by, tx.session)
            plan = await self.access.forms(plan_id, tx.session)
            plan.require_open(form)
            now = tx.clock.now()
            response = Response.answer(form, plan_id, ownership.unit_id, answers, draft=draft, now=now)
            await self.responses.save(response, tx.session)
            if not draft:
                await self._submitted(form, response, plan, ownership.unit_id, tx)
            await self.flags.note_activity(plan, ownership.unit_id, now, tx)
            await self.plans.save(plan, tx.session)
            patient, unit = ownership.patient_personnummer, ownership.unit_id
            tx.audit(by, "create", f"form_response.{form_id}", response.id, patient=patient, unit_id=unit)
            return response

        return await self.uow.run(work)

    async def _submitted(
        self, form: FormDefinition, response: Response, plan: PlanForms, unit_id: str, tx: Transaction
    ) -> None:
        tx.publish(response.submitted_event(unit_id))
        if form.kind == "what_matters":
            flag, answered = flagging.what_matters(response, unit_id)
            await self.flags.raise_flag(flag, tx)
            tx.publish(answered)
        await self.flags.flag_results(response, unit_id, tx)
        tx.publish(*plan.submitted(form.form_id, unit_id, tx.clock.now()))

    async def rescore(self, plan_id: str, form_id: str, by: Staff) -> list[Response]:
        """Recompute a plan's results with the form's latest rules (after a rule fix); audited."""
        form = await self.definitions.form(form_id)

        async def work(tx: Transaction) -> list[Response]:
            ownership = await self.access.writable(plan_id, by, tx.session)
            changed = [r for r in await self.responses.of_plan(plan_id, form_id, tx.session) if r.status == "submitted"]
            for response in changed:
                response.rescore(form, tx.clock.now())
                await self.responses.save(response, tx.session)
            tx.audit(
                by,
                "update",
                f"form_results.{form_id}",
                plan_id,
                patient=ownership.patient_personnummer,
                unit_id=ownership.unit_id,
                reason=f"re-scored with version {form.version}",
            )
            return changed

        return await self.uow.run(work)

    async def as_fhir(self, plan_id: str, form_id: str, response_id: str, by: Principal) -> dict[str, Any]:
        """One response as a QuestionnaireResponse, for the plan's staff or patient; audited."""
        ownership = await self.access.readable(plan_id, by)
        response = await self.responses.get(response_id)
        if response is None or response.plan_id != plan_id or response.form_id != form_id:
            raise NotFound("no such response", field="response_id")
        form = await self.definitions.version(form_id, response.form_version)
        await self.access.audit_read(by, ownership, f"form_response.{form_id}", response_id)
        return fhir.to_questionnaire_response(form, response, ownership.patient_personnummer)
