"""HTTP routes of the retention service: parse, require a role, dispatch to the service layer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse

from services.retention.domain.export import ExportList, ExportSummary
from services.retention.domain.model import RetentionView
from services.retention.domain.views import EndedPlansPage, PurgeCommand, PurgeView
from services.retention.service_layer.services import RetentionServices
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_service, require_staff

router = APIRouter()
Services = Annotated[RetentionServices, Depends(get_service)]
AnyStaff = Annotated[Staff, require_staff()]
DataAdmin = Annotated[Staff, require_staff(Role.DATA_ADMIN)]
PurgeReader = Annotated[Staff, require_staff(Role.DATA_ADMIN, Role.PATIENT_ADMIN)]


@router.get(
    "/plans/{plan_id}/retention",
    tags=["retention"],
    response_model=RetentionView,
    summary="When a plan must be ended and purged (730 days after its start)",
)
async def get_schedule(plan_id: str, svc: Services, by: AnyStaff) -> RetentionView:
    return await svc.schedules.retention_of(plan_id, by)


@router.post(
    "/plans/{plan_id}/purge",
    tags=["purge"],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PurgeView,
    summary="Purge an ended plan from every service (data admin; asking again returns the same purge)",
)
async def request_purge(plan_id: str, svc: Services, by: DataAdmin, command: PurgeCommand | None = None) -> PurgeView:
    return await svc.purges.request_purge(plan_id, command or PurgeCommand(), by)


@router.get(
    "/plans/{plan_id}/purge",
    tags=["purge"],
    response_model=PurgeView,
    summary="Where a plan's purge stands: receipts in, services still asked, attempts",
)
async def get_purge(plan_id: str, svc: Services, by: PurgeReader) -> PurgeView:
    return await svc.purges.purge_of(plan_id, by)


@router.get(
    "/units/me/ended-plans",
    tags=["purge"],
    response_model=EndedPlansPage,
    summary="The caller's unit's plans that ended before a date (ids and dates only, for bulk purges)",
)
async def ended_plans(
    svc: Services,
    by: DataAdmin,
    ended_before: Annotated[date, Query(description="Plans that ended before this day (UTC).")],
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EndedPlansPage:
    return await svc.purges.ended_plans(by, ended_before, page, page_size)


# -- exports for the journal ----------------------------------------------------------------------

ExportReader = Annotated[Staff, require_staff(Role.DATA_ADMIN, Role.PATIENT_ADMIN)]
FHIR_JSON, PDF = "application/fhir+json", "application/pdf"
PDF_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "The PDF"}
}
EXPORT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            FHIR_JSON: {"schema": {"type": "object", "description": "A FHIR R4 Bundle (type collection)"}},
            PDF: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The FHIR Bundle, or the PDF when `Accept: application/pdf` is preferred",
    }
}
PRIVATE = {"Cache-Control": "no-store"}
"""Exports are personal data: no cache keeps a copy."""


class FhirJson(JSONResponse):
    media_type = FHIR_JSON


def prefers_pdf(accept: str | None) -> bool:
    """Whether the Accept header prefers a PDF to JSON (by q-value, then order; JSON when undecided)."""
    ranked: list[tuple[float, int, str]] = []
    for n, item in enumerate((accept or "").split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            ranked.append((-float(q), n, media.lower()))
        except ValueError:
            continue
    for _, _, media in sorted(ranked):
        if media == PDF:
            return True
        if media.endswith("json") or media in ("*/*", "application/*"):
            return False
    return False


@router.get(
    "/plans/{plan_id}/exports",
    tags=["exports"],
    response_model=ExportList,
    summary="A plan's exports for the journal, newest first: state, times, services' parts in and missing",
)
async def list_exports(plan_id: str, svc: Services, by: ExportReader) -> ExportList:
    return await svc.export_reads.exports_of(plan_id, by)


@router.post(
    "/plans/{plan_id}/exports",
    tags=["exports"],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportSummary,
    summary="Export an ended plan for the journal again (each service is asked for its part)",
)
async def request_export(plan_id: str, svc: Services, by: ExportReader) -> ExportSummary:
    return await svc.exports.request_export(plan_id, by)


@router.get(
    "/plans/{plan_id}/exports/{export_id}.pdf",
    tags=["exports"],
    response_class=Response,
    responses=PDF_ANSWER,
    summary="A complete export as a PDF for the journal",
)
async def export_pdf(plan_id: str, export_id: str, svc: Services, by: ExportReader) -> Response:
    return _pdf(export_id, await svc.export_reads.pdf_of(plan_id, export_id, by))


@router.get(
    "/plans/{plan_id}/exports/{export_id}",
    tags=["exports"],
    response_class=FhirJson,
    responses=EXPORT_ANSWERS,
    summary="A complete export as a FHIR R4 Bundle, or as a PDF with `Accept: application/pdf`",
)
async def get_export(
    plan_id: str, export_id: str, svc: Services, by: ExportReader, accept: Annotated[str | None, Header()] = None
) -> Response:
    if prefers_pdf(accept):
        return _pdf(export_id, await svc.export_reads.pdf_of(plan_id, export_id, by))
    bundle = await svc.export_reads.bundle_of(plan_id, export_id, by)
    return FhirJson(bundle, headers=PRIVATE)


def _pdf(export_id: str, pdf: bytes) -> Response:
    """The PDF as a download named by the export's id only (no personal data in a file name)."""
    disposition = f'attachment; filename="careplan-export-{export_id}.pdf"'
    return Response(pdf, media_type=PDF, headers=PRIVATE | {"Content-Disposition": disposition})
