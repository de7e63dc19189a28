"""HTTP routes of the forms service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import JSONResponse
from fastapi.responses import Response as RawResponse
from pydantic import BaseModel

from services.forms.adapters import fhir
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag
from services.forms.domain.model import Response as FormResponse
from services.forms.service_layer.handlers import FormsService
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_principal, get_service, require_patient, require_staff

router = APIRouter()
Service = Annotated[FormsService, Depends(get_service)]
Caller = Annotated[Principal, Depends(get_principal)]


class FhirJson(JSONResponse):
    media_type = "application/fhir+json"


class Answers(BaseModel):
    answers: dict[str, Any]
    draft: bool = False


@router.post("/forms", tags=["forms"], status_code=201, summary="Publish a form version (designer)")
async def publish(
    form: FormDefinition, svc: Service, response: Response, by: Annotated[Staff, require_staff(Role.DESIGNER)]
) -> dict[str, Any]:
    created = await svc.publish(form, by)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"form_id": form.form_id, "version": form.version, "created": created}


@router.get("/forms/{form_id}", tags=["forms"], response_model=FormDefinition, summary="The latest version")
async def get_form(form_id: str, svc: Service, _: Caller) -> FormDefinition:
    return await svc.form(form_id)


@router.post(
    "/forms/fhir", tags=["fhir"], status_code=201, summary="Import a FHIR R4 Questionnaire as a form version (designer)"
)
async def import_questionnaire(
    resource: dict[str, Any],
    svc: Service,
    response: Response,
    by: Annotated[Staff, require_staff(Role.DESIGNER)],
    form_id: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    form, created = await svc.import_questionnaire(resource, form_id, version, by)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"form_id": form.form_id, "version": form.version, "created": created}


@router.get(
    "/forms/{form_id}/fhir",
    tags=["fhir"],
    response_class=FhirJson,
    summary="The latest version as a FHIR R4 Questionnaire",
)
async def export_questionnaire(form_id: str, svc: Service, _: Caller) -> FhirJson:
    return FhirJson(fhir.to_questionnaire(await svc.form(form_id)))


@router.get(
    "/plans/{plan_id}/forms/{form_id}/responses/{response_id}/fhir",
    tags=["fhir"],
    response_class=FhirJson,
    summary="A response as a FHIR R4 QuestionnaireResponse (audited)",
)
async def export_response(plan_id: str, form_id: str, response_id: str, svc: Service, by: Caller) -> FhirJson:
    return FhirJson(await svc.response_as_fhir(plan_id, form_id, response_id, by))


@router.post(
    "/plans/{plan_id}/forms/{form_id}/responses",
    tags=["responses"],
    status_code=201,
    response_model=FormResponse,
    summary="Submit (or save as a draft) an answer to a form",
)
async def respond(
    plan_id: str, form_id: str, body: Answers, svc: Service, by: Annotated[Patient, Depends(require_patient)]
) -> FormResponse:
    return await svc.respond(plan_id, form_id, body.answers, draft=body.draft, by=by)


@router.get(
    "/plans/{plan_id}/forms/{form_id}/results",
    tags=["results"],
    summary="Results over time as a table, with the intervals' explanations",
)
async def results(plan_id: str, form_id: str, svc: Service, by: Caller) -> dict[str, Any]:
    form, responses = await svc.results(plan_id, form_id, by)
    rules = [r for r in form.results if isinstance(by, Staff) or r.visible_to_patient]
    return {
        "form_id": form.form_id,
        "title": form.title,
        "results": [
            {"result_id": r.id, "title": r.title, "intervals": [i.model_dump() for i in r.intervals]} for r in rules
        ],
        "rows": [
            {"response_id": x.id, "submitted_at": x.submitted_at, "results": [y.model_dump() for y in x.results]}
            for x in responses
        ],
    }


@router.get(
    "/plans/{plan_id}/forms/{form_id}/results/{result_id}/chart.svg",
    tags=["results"],
    response_class=RawResponse,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="Values over time with the interval bands coloured",
)
async def chart(plan_id: str, form_id: str, result_id: str, svc: Service, by: Caller) -> RawResponse:
    return RawResponse(await svc.chart(plan_id, form_id, result_id, by), media_type="image/svg+xml")


@router.post(
    "/plans/{plan_id}/forms/{form_id}/rescore",
    tags=["results"],
    response_model=list[FormResponse],
    summary="Recompute the plan's results with the form's latest rules (after a rule fix; audited)",
)
async def rescore(
    plan_id: str, form_id: str, svc: Service, by: Annotated[Staff, require_staff(Role.THERAPIST, Role.DESIGNER)]
) -> list[FormResponse]:
    return await svc.rescore(plan_id, form_id, by)


@router.get("/plans/{plan_id}/flags", tags=["flags"], response_model=list[Flag])
async def flags(plan_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> list[Flag]:
    return await svc.flags_of_plan(plan_id, by)


@router.post(
    "/flags/{flag_id}/handled",
    tags=["flags"],
    response_model=Flag,
    summary="Acknowledge a flag (e.g. a 'What matters to me?' answer was read)",
)
async def handle(flag_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> Flag:
    return await svc.flags.handle(flag_id, by)
