"""HTTP routes of the retention service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from services.retention.domain.model import RetentionSchedule
from services.retention.service_layer.handlers import RetentionService
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.web.dependencies import require_staff

router = APIRouter()


@router.get(
    "/plans/{plan_id}/retention",
    tags=["retention"],
    response_model=RetentionSchedule,
    summary="When a plan must be ended and purged (730 days after its start)",
)
async def get_schedule(plan_id: str, request: Request, by: Annotated[Staff, require_staff()]) -> RetentionSchedule:
    service: RetentionService = request.app.state.service
    schedule = await service.schedules.get(plan_id)
    if schedule is None or schedule.unit_id != by.unit_id:
        raise NotFound("no such plan")
    return schedule
