"""Use cases of the forms service."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from services.forms.adapters import fhir
from services.forms.adapters.chart import rule_chart
from services.forms.adapters.repository import FormsRepository
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import (
    Flag,
    ModuleStateChangedView,
    PatientMessageView,
    PlanEndedView,
    PlanForms,
    PlanStartedView,
    Response,
)
from services.forms.domain.scoring import score, validate_answers
from services.forms.service_layer.activities import ActivityService
from services.forms.service_layer.batteries import BatteryService
from services.forms.service_layer.flags import FlagService
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.messaging.consumer import DependencyNotReady
from shared.messaging.events import ReceivedEvent
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

MODULE_NOTIFY_TIMER = "forms.form_module_notify"
NOTIFY_AFTER = timedelta(days=1)
PLAN_NOT_FOUND = "no such plan"


class FormsService:
    """Forms and responses; owns the flag, battery and activity-plan use cases as attributes."""

    def __init__(self, uow: UnitOfWork, repo: FormsRepository, timers: TimerStore) -> None:
        self.uow = uow
        self.repo = repo
        self.timers = timers
        self.flags = FlagService(uow, repo, timers)
        self.batteries = BatteryService(uow, repo, timers)
        self.activities = ActivityService(uow, repo, timers, self.flags)

    # -- definitions ---------------------------------------------------------------------------
    async def publish(self, form: FormDefinition, by: Staff) -> bool:
        digest = hashlib.sha256(json.dumps(form.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()

        async def work(tx: Transaction) -> bool:
            existing = await self.repo.form_digest(form.form_id, form.version, tx.session)
            if existing == digest:
                return False
            if existing is not None:
                raise Conflict(
                    f"{form.form_id} version {form.version} is published with other content; publish a new version",
                    field="version",
                )
            await self.repo.add_form(form, digest, by.hsa_id, tx.session)
            return True

        return await self.uow.run(work)

    async def import_questionnaire(
        self, resource: dict[str, Any], form_id: str | None, version: int | None, by: Staff
    ) -> tuple[FormDefinition, bool]:
        """Publish a FHIR R4 Questionnaire as a form; 422 naming the item that can not be imported."""
        try:
            form = fhir.from_questionnaire(resource, form_id, version)
        except fhir.FhirImportError as exc:
            raise Invalid(str(exc), field=exc.field) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(
                f"the Questionnaire does not make a valid form: {first['msg']}",
                field=".".join(str(x) for x in first["loc"]) or "item",
            ) from exc
        return form, await self.publish(form, by)

    async def response_as_fhir(self, plan_id: str, form_id: str, response_id: str, by: Principal) -> dict[str, Any]:
        """One response as a QuestionnaireResponse, for the plan's staff or patient; audited."""
        plan = await self.plan_for(plan_id, by)
        response = await self.repo.response(response_id)
        if response is None or response.plan_id != plan_id or response.form_id != form_id:
            raise NotFound("no such response", field="response_id")
        form = await self.repo.form(form_id, response.form_version) or await self.form(form_id)
        await self.uow.audit_log.record(
            by, "read", f"form_response.{form_id}", response_id, patient=plan.patient_personnummer, unit_id=plan.unit_id
        )
        return fhir.to_questionnaire_response(form, response, plan.patient_personnummer)

    async def form(self, form_id: str) -> FormDefinition:
        form = await self.repo.latest_form(form_id)
        if form is None:
            raise NotFound(f"no form {form_id!r}", field="form_id")
        return form

    # -- plans and form modules (from the plans service's events) ------------------------------
    async def on_plan_started(self, event: PlanStartedView, _: ReceivedEvent, tx: Transaction) -> None:
        if await self.repo.plan(event.plan_id, tx.session) is not None:
            return
        plan = PlanForms(
            plan_id=event.plan_id,
            unit_id=event.unit_id,
            program_id=event.program_id,
            patient_personnummer=event.patient_personnummer,
            current_forms={"start": event.current_form_refs},
        )
        await self.flags.note_activity(plan, event.started_at or tx.clock.now(), tx)
        await self.batteries.on_plan_started(plan, tx)
        await self.repo.save_plan(plan, tx.session)

    async def on_patient_message(self, event: PatientMessageView, _: ReceivedEvent, tx: Transaction) -> None:
        plan = await self.repo.plan(event.plan_id, tx.session)
        if plan is not None and event.sender_kind == "patient":
            await self.flags.note_activity(plan, event.sent_at, tx)
            await self.repo.save_plan(plan, tx.session)

    async def on_plan_ended(self, event: PlanEndedView, _: ReceivedEvent, tx: Transaction) -> None:
        plan = await self.repo.plan(event.plan_id, tx.session)
        if plan:
            await self.repo.save_plan(plan.model_copy(update={"active": False}), tx.session)

    async def on_module_state_changed(self, event: ModuleStateChangedView, _: ReceivedEvent, tx: Transaction) -> None:
        plan = await self.repo.plan(event.plan_id, tx.session)
        if plan is None:
            raise DependencyNotReady("plan not known yet")
        if event.state == "current":
            plan.current_forms[event.module_id] = event.form_refs
            await self.batteries.on_module_started(plan, event.module_id, tx)
        else:  # also out of the forms that were open from the start
            plan.current_forms.pop(event.module_id, None)
            plan.current_forms["start"] = [f for f in plan.current_forms.get("start", []) if f not in event.form_refs]
        await self.repo.save_plan(plan, tx.session)
        if event.form_module and event.state == "current":
            # set completed and current again → notified again a day later: the key holds the moment
            await self.timers.schedule(
                f"{MODULE_NOTIFY_TIMER}:{event.plan_id}:{event.module_id}:{event.changed_at.isoformat()}",
                MODULE_NOTIFY_TIMER,
                event.changed_at + NOTIFY_AFTER,
                {"plan_id": event.plan_id, "module_id": event.module_id, "form_ids": event.form_refs},
                session=tx.session,
            )

    async def on_module_notify_timer(self, timer: Timer, tx: Transaction) -> None:
        plan = await self.repo.plan(timer.payload["plan_id"], tx.session)
        if plan is None or not plan.active or timer.payload["module_id"] not in plan.current_forms:
            return  # ended, or the module is no longer current: nothing to fill in
        tx.publish(
            events.PatientNotificationDue(
                plan_id=plan.plan_id,
                unit_id=plan.unit_id,
                notification_id=timer.key,
                reason="form_module",
                form_ids=timer.payload["form_ids"],
            )
        )

    # -- responses -----------------------------------------------------------------------------
    async def plan_for(self, plan_id: str, by: Principal, session: Any = None) -> PlanForms:
        """The plan, if the caller may see it: staff of its unit, or its patient; else 404."""
        plan = await self.repo.plan(plan_id, session)
        visible = plan is not None and (
            (isinstance(by, Staff) and by.unit_id == plan.unit_id)
            or (isinstance(by, Patient) and by.personnummer == plan.patient_personnummer)
        )
        if not visible:
            raise NotFound(PLAN_NOT_FOUND)
        return plan  # type: ignore[return-value]

    async def respond(
        self, plan_id: str, form_id: str, answers: dict[str, Any], *, draft: bool, by: Patient
    ) -> Response:
        form = await self.form(form_id)

        async def work(tx: Transaction) -> Response:
            plan = await self.plan_for(plan_id, by, tx.session)
            if not plan.available(form_id, always_open=form.kind == "what_matters"):
                raise Conflict(
                    f"form {form_id!r} is not open for this plan now (no current module or measurement asks for it)",
                    field="form_id",
                )
            errors = validate_answers(form, answers, complete=not draft)
            if errors:
                raise Invalid("; ".join(f"question {e.question}: {e.rule}" for e in errors), field=errors[0].question)
            now = tx.clock.now()
            response = Response(
                id=str(uuid.uuid4()),
                plan_id=plan_id,
                unit_id=plan.unit_id,
                form_id=form_id,
                form_version=form.version,
                answers=answers,
                status="draft" if draft else "submitted",
                created_at=now,
                submitted_at=None if draft else now,
                results=[] if draft else score(form, answers),
            )
            await self.repo.save_response(response, tx.session)
            if not draft:
                await self._after_submit(form, response, plan, tx)
                self.batteries.on_submitted(plan, form_id, tx)
            await self.flags.note_activity(plan, now, tx)
            await self.repo.save_plan(plan, tx.session)
            tx.audit(
                by,
                "create",
                f"form_response.{form_id}",
                response.id,
                patient=plan.patient_personnummer,
                unit_id=plan.unit_id,
            )
            return response

        return await self.uow.run(work)

    async def _after_submit(self, form: FormDefinition, response: Response, plan: PlanForms, tx: Transaction) -> None:
        common = {"plan_id": plan.plan_id, "unit_id": plan.unit_id}
        assert response.submitted_at is not None
        tx.publish(
            events.FormSubmitted(
                **common,
                form_id=form.form_id,
                form_version=form.version,
                response_id=response.id,
                submitted_at=response.submitted_at,
            )
        )
        if form.kind == "what_matters":
            answer = str(next(iter(response.answers.values()), ""))
            await self.flags.raise_flag(
                Flag(
                    id=f"what_matters:{response.id}",
                    kind="what_matters",
                    response_id=response.id,
                    raised_at=response.submitted_at,
                    **common,
                ),
                tx,
            )
            tx.publish(
                events.WhatMattersAnswered(
                    **common, response_id=response.id, answer=answer, answered_at=response.submitted_at
                )
            )
        await self.flags.flag_results(response, plan, tx)

    async def flags_of_plan(self, plan_id: str, by: Staff) -> list[Flag]:
        await self.plan_for(plan_id, by)
        return await self.repo.flags_of(plan_id)

    async def rescore(self, plan_id: str, form_id: str, by: Staff) -> list[Response]:
        """Recompute a plan's results with the form's latest rules (after a rule fix); audited."""
        form = await self.form(form_id)

        async def work(tx: Transaction) -> list[Response]:
            plan = await self.plan_for(plan_id, by, tx.session)
            changed = []
            for response in await self.repo.responses_of(plan_id, form_id):
                if response.status != "submitted":
                    continue
                response.results, response.rescored_at = score(form, response.answers), tx.clock.now()
                response.form_version = form.version
                await self.repo.save_response(response, tx.session)
                changed.append(response)
            tx.audit(
                by,
                "update",
                f"form_results.{form_id}",
                plan_id,
                patient=plan.patient_personnummer,
                unit_id=plan.unit_id,
                reason=f"re-scored with version {form.version}",
            )
            return changed

        return await self.uow.run(work)

    # -- results over time ---------------------------------------------------------------------
    async def results(self, plan_id: str, form_id: str, by: Principal) -> tuple[FormDefinition, list[Response]]:
        plan = await self.plan_for(plan_id, by)
        form = await self.form(form_id)
        responses = [r for r in await self.repo.responses_of(plan_id, form_id) if r.status == "submitted"]
        if isinstance(by, Patient):
            responses = [
                r.model_copy(update={"results": [x for x in r.results if x.visible_to_patient]}) for r in responses
            ]
            if not any(rule.visible_to_patient for rule in form.results):
                raise NotFound("this form's results are for staff")
        await self.uow.audit_log.record(
            by, "read", f"form_results.{form_id}", plan_id, patient=plan.patient_personnummer, unit_id=plan.unit_id
        )
        return form, responses

    async def chart(self, plan_id: str, form_id: str, result_id: str, by: Principal) -> str:
        form, responses = await self.results(plan_id, form_id, by)
        rule = next((r for r in form.results if r.id == result_id), None)
        if rule is None or (isinstance(by, Patient) and not rule.visible_to_patient):
            raise NotFound(f"no result {result_id!r} for this form", field="result_id")
        points = [
            (r.submitted_at, x.value)
            for r in responses
            for x in r.results
            if x.result_id == result_id and x.value is not None and r.submitted_at
        ]
        return rule_chart(rule, points)  # type: ignore[arg-type]
