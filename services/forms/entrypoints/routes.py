"""HTTP routes for forms, responses, results and flags: parse the request, dispatch to the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import JSONResponse
from fastapi.responses import Response as RawResponse
from pydantic import BaseModel

from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag
from services.forms.domain.model import Response as FormResponse
from services.forms.domain.views import Published, ResultsTable
from services.forms.service_layer.service import FormsService
from shared.kernel.principals import Principal, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import PatientCaller, get_principal, get_service, require_staff

router = APIRouter()
Service = Annotated[FormsService, Depends(get_service)]
Caller = Annotated[Principal, Depends(get_principal)]
Designer = Annotated[Staff, require_staff(Role.DESIGNER)]
AnyStaff = Annotated[Staff, require_staff()]
SVG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/svg+xml": {}}}}


class FhirJson(JSONResponse):
    media_type = "application/fhir+json"


class Answers(BaseModel):
    answers: dict[str, Any]
    draft: bool = False


def _created_or_ok(published: Published, response: Response) -> Published:
    if not published.created:
        response.status_code = status.HTTP_200_OK
    return published


@router.post(
    "/forms",
    tags=["forms"],
    status_code=201,
    response_model=Published,
    summary="Publish a form version (designer); 200 if this very version is published already",
)
async def publish(form: FormDefinition, svc: Service, response: Response, by: Designer) -> Published:
    return _created_or_ok(await svc.definitions.publish(form, by), response)


@router.get("/forms/{form_id}", tags=["forms"], response_model=FormDefinition, summary="The latest version")
async def get_form(form_id: str, svc: Service, _: Caller) -> FormDefinition:
    return await svc.definitions.form(form_id)


@router.post(
    "/forms/fhir",
    tags=["fhir"],
    status_code=201,
    response_model=Published,
    summary="Import a FHIR R4 Questionnaire as a form version (designer)",
)
async def import_questionnaire(
    resource: dict[str, Any],
    svc: Service,
    response: Response,
    by: Designer,
    form_id: str | None = None,
    version: int | None = None,
) -> Published:
    return _created_or_ok(await svc.definitions.import_questionnaire(resource, form_id, version, by), response)


@router.get(
    "/forms/{form_id}/fhir",
    tags=["fhir"],
    response_class=FhirJson,
    response_model=dict[str, Any],
    summary="The latest version as a FHIR R4 Questionnaire",
)
async def export_questionnaire(form_id: str, svc: Service, _: Caller) -> FhirJson:
    return FhirJson(await svc.definitions.export_questionnaire(form_id))


@router.get(
    "/plans/{plan_id}/forms/{form_id}/responses/{response_id}/fhir",
    tags=["fhir"],
    response_class=FhirJson,
    response_model=dict[str, Any],
    summary="A response as a FHIR R4 QuestionnaireResponse (audited)",
)
async def export_response(plan_id: str, form_id: str, response_id: str, svc: Service, by: Caller) -> FhirJson:
    return FhirJson(await svc.responses.as_fhir(plan_id, form_id, response_id, by))


@router.post(
    "/plans/{plan_id}/forms/{form_id}/responses",
    tags=["responses"],
    status_code=201,
    response_model=FormResponse,
    summary="Submit (or save as a draft) an answer to a form",
)
async def respond(plan_id: str, form_id: str, body: Answers, svc: Service, by: PatientCaller) -> FormResponse:
    return await svc.responses.respond(plan_id, form_id, body.answers, draft=body.draft, by=by)


@router.get(
    "/plans/{plan_id}/forms/{form_id}/results",
    tags=["results"],
    response_model=ResultsTable,
    summary="Results over time as a table, with the intervals' explanations (audited)",
)
async def results(plan_id: str, form_id: str, svc: Service, by: Caller) -> ResultsTable:
    return await svc.results.table(plan_id, form_id, by)


@router.get(
    "/plans/{plan_id}/forms/{form_id}/results/{result_id}/chart.svg",
    tags=["results"],
    response_class=RawResponse,
    responses=SVG,
    summary="Values over time with the interval bands coloured (audited)",
)
async def chart(plan_id: str, form_id: str, result_id: str, svc: Service, by: Caller) -> RawResponse:
    return RawResponse(await svc.results.chart(plan_id, form_id, result_id, by), media_type="image/svg+xml")


@router.post(
    "/plans/{plan_id}/forms/{form_id}/rescore",
    tags=["results"],
    response_model=list[FormResponse],
    summary="Recompute the plan's results with the form's latest rules (after a rule fix; audited)",
)
async def rescore(
    plan_id: str, form_id: str, svc: Service, by: Annotated[Staff, require_staff(Role.THERAPIST, Role.DESIGNER)]
) -> list[FormResponse]:
    return await svc.responses.rescore(plan_id, form_id, by)


@router.get("/plans/{plan_id}/flags", tags=["flags"], response_model=list[Flag], summary="The plan's flags (audited)")
async def flags(plan_id: str, svc: Service, by: AnyStaff) -> list[Flag]:
    return await svc.flags.of_plan(plan_id, by)


@router.post(
    "/flags/{flag_id}/handled",
    tags=["flags"],
    response_model=Flag,
    summary="Acknowledge a flag (e.g. a 'What matters to me?' answer was read)",
)
async def handle(flag_id: str, svc: Service, by: AnyStaff) -> Flag:
    return await svc.flags.handle(flag_id, by)
