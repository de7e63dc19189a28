"""Results over time: a table with the intervals' explanations, and a chart of one result (both audited).
Staff see every result; the patient only those shown to patients. Reads work for ended plans too."""

from __future__ import annotations

from datetime import datetime

from services.forms.adapters.chart import rule_chart
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Response
from services.forms.domain.views import ResultsTable
from services.forms.service_layer.access import PlanAccess
from services.forms.service_layer.definitions import DefinitionService
from services.forms.service_layer.ports import Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Patient, Principal


class ResultService:
    def __init__(self, stores: Stores, access: PlanAccess, definitions: DefinitionService) -> None:
        self.responses = stores.responses
        self.access = access
        self.definitions = definitions

    async def _submitted(self, plan_id: str, form_id: str, by: Principal) -> tuple[FormDefinition, list[Response]]:
        """The form and the plan's submitted responses to it, as the caller may see them; audited."""
        ownership = await self.access.readable(plan_id, by)
        form = await self.definitions.form(form_id)
        responses = [r for r in await self.responses.of_plan(plan_id, form_id) if r.status == "submitted"]
        if isinstance(by, Patient):
            if not any(rule.visible_to_patient for rule in form.results):
                raise NotFound("this form's results are for staff")
            responses = [r.visible_to_patient() for r in responses]
        await self.access.audit_read(by, ownership, f"form_results.{form_id}", plan_id)
        return form, responses

    async def table(self, plan_id: str, form_id: str, by: Principal) -> ResultsTable:
        form, responses = await self._submitted(plan_id, form_id, by)
        return ResultsTable.of(form, responses, for_patient=isinstance(by, Patient))

    async def chart(self, plan_id: str, form_id: str, result_id: str, by: Principal) -> str:
        """One result over time (SVG) with its intervals as coloured bands."""
        form, responses = await self._submitted(plan_id, form_id, by)
        rule = next((r for r in form.results if r.id == result_id), None)
        if rule is None or (isinstance(by, Patient) and not rule.visible_to_patient):
            raise NotFound(f"no result {result_id!r} for this form", field="result_id")
        points: list[tuple[datetime, float]] = [
            (r.submitted_at, x.value)
            for r in responses
            for x in r.results
            if x.result_id == result_id and x.value is not None and r.submitted_at is not None
        ]
        return rule_chart(rule, points)
