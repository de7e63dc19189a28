"""HTTP routes of the handover service: parse, require a role, dispatch to the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.handover.domain.commands import AcceptHandover, DeclineHandover, InitiateHandover
from services.handover.domain.views import HandoverView, IncomingHandover
from services.handover.service_layer.service import HandoverService
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.web.dependencies import AnyCaller, get_service, require_staff

router = APIRouter()
Service = Annotated[HandoverService, Depends(get_service)]
AnyStaff = Annotated[Staff, require_staff()]
CareStaff = Annotated[Staff, require_staff(Role.THERAPIST, Role.PATIENT_ADMIN)]
PatientAdmin = Annotated[Staff, require_staff(Role.PATIENT_ADMIN)]


@router.post(
    "/plans/{plan_id}/handovers",
    tags=["handover"],
    status_code=status.HTTP_201_CREATED,
    response_model=HandoverView,
    summary="Hand a plan over to another unit running its program version, with the patient's consent",
)
async def initiate(plan_id: str, command: InitiateHandover, svc: Service, by: CareStaff) -> HandoverView:
    return await svc.requests.initiate(plan_id, command, by)


@router.get(
    "/plans/{plan_id}/handovers",
    tags=["handover"],
    response_model=list[HandoverView],
    summary="The plan's handover history, oldest first (the holding unit and the patient)",
)
async def history(plan_id: str, svc: Service, by: AnyCaller) -> list[HandoverView]:
    return await svc.reads.history(plan_id, by)


@router.get(
    "/units/me/handovers/incoming",
    tags=["handover"],
    response_model=list[IncomingHandover],
    summary="Pending handovers to the caller's unit, oldest first (patient admins)",
)
async def incoming(svc: Service, by: PatientAdmin) -> list[IncomingHandover]:
    return await svc.reads.incoming(by)


@router.get(
    "/handovers/{handover_id}",
    tags=["handover"],
    response_model=HandoverView,
    summary="One handover (staff of the handing-over or the receiving unit)",
)
async def one(handover_id: str, svc: Service, by: AnyStaff) -> HandoverView:
    return await svc.reads.one(handover_id, by)


@router.post(
    "/handovers/{handover_id}/accept",
    tags=["handover"],
    response_model=HandoverView,
    summary="Accept an incoming handover, naming the responsible therapist (patient admin; twice: one effect)",
)
async def accept(handover_id: str, command: AcceptHandover, svc: Service, by: PatientAdmin) -> HandoverView:
    return await svc.requests.accept(handover_id, command, by)


@router.post(
    "/handovers/{handover_id}/decline",
    tags=["handover"],
    response_model=HandoverView,
    summary="Decline an incoming handover with a reason (patient admin)",
)
async def decline(handover_id: str, command: DeclineHandover, svc: Service, by: PatientAdmin) -> HandoverView:
    return await svc.requests.decline(handover_id, command, by)


@router.post(
    "/handovers/{handover_id}/withdraw",
    tags=["handover"],
    response_model=HandoverView,
    summary="Withdraw a pending handover (the handing-over unit)",
)
async def withdraw(handover_id: str, svc: Service, by: CareStaff) -> HandoverView:
    return await svc.requests.withdraw(handover_id, by)
