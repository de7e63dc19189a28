"""HTTP routes of the retention service: parse, require a role, dispatch to the service layer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

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
