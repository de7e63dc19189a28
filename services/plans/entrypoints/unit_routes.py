"""HTTP routes of a unit's program versions (what a handover to the unit requires)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.plans.domain.units import DeclarePrograms, UnitPrograms
from services.plans.service_layer.service import PlansService
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_service, require_staff

router = APIRouter()
Service = Annotated[PlansService, Depends(get_service)]
AnyStaff = Annotated[Staff, require_staff()]
UnitAdmin = Annotated[Staff, require_staff(Role.PATIENT_ADMIN, Role.PERMISSION_ADMIN)]


@router.put(
    "/units/me/programs",
    tags=["units"],
    response_model=UnitPrograms,
    summary="Declare the program versions the caller's unit runs (replaces the list; patient or permission admin)",
)
async def declare_programs(command: DeclarePrograms, svc: Service, by: UnitAdmin) -> UnitPrograms:
    return await svc.units.declare(command, by)


@router.get(
    "/units/me/programs",
    tags=["units"],
    response_model=UnitPrograms,
    summary="The program versions the caller's unit runs",
)
async def unit_programs(svc: Service, by: AnyStaff) -> UnitPrograms:
    return await svc.units.of_unit(by.unit_id)
