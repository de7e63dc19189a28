"""HTTP routes of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from services.notifications.domain.model import Announcement, Banner, InboxItem, Preferences, StaffMember
from services.notifications.service_layer.handlers import AnnouncementCommand, BannerCommand, NotificationsService
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_service, require_patient, require_staff

router = APIRouter()
PatientUser = Annotated[Patient, Depends(require_patient)]


Service = Annotated[NotificationsService, Depends(get_service)]


class DeliveryView(BaseModel):
    id: str
    trigger_kind: str
    recipient_kind: str
    channel: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    plan_id: str | None
    fallback_of: str | None


@router.get("/me/preferences", tags=["patient"], response_model=Preferences)
async def get_preferences(svc: Service, patient: PatientUser) -> Preferences:
    return await svc.repo.get_preferences(patient.personnummer)


@router.put(
    "/me/preferences",
    tags=["patient"],
    response_model=Preferences,
    summary="Turn e-mail and/or SMS notifications on or off, with the address and number",
)
async def put_preferences(preferences: Preferences, svc: Service, patient: PatientUser) -> Preferences:
    return await svc.set_preferences(patient.personnummer, preferences)


@router.get("/me/inbox", tags=["patient"], response_model=list[InboxItem], summary="The patient's 1177 inbox")
async def inbox(svc: Service, patient: PatientUser) -> list[InboxItem]:
    return await svc.repo.inbox_of(patient.personnummer)


@router.post("/me/inbox/{item_id}/read", tags=["patient"], status_code=204)
async def mark_read(item_id: str, svc: Service, patient: PatientUser) -> Response:
    if not await svc.repo.mark_read(item_id, patient.personnummer, svc.uow.clock.now()):
        raise NotFound("no such inbox item")
    return Response(status_code=204)


@router.put(
    "/staff/{hsa_id}",
    tags=["staff"],
    status_code=204,
    summary="Staff directory entry: where the staff member's e-mail notifications go",
)
async def put_staff(
    hsa_id: str, member: StaffMember, svc: Service, by: Annotated[Staff, require_staff(Role.PERMISSION_ADMIN)]
) -> Response:
    if member.unit_id != by.unit_id:
        raise Forbidden("a permission admin registers staff of their own unit")
    await svc.repo.save_staff(hsa_id, member)
    return Response(status_code=204)


@router.post(
    "/announcements",
    tags=["announcements"],
    status_code=201,
    response_model=Announcement,
    summary="Announce to every patient of the unit, the region, or a program version (fanned out)",
)
async def announce(
    command: AnnouncementCommand, svc: Service, by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN, Role.PUBLISHER)]
) -> Announcement:
    return await svc.create_announcement(command, by)


@router.post(
    "/units/me/banners",
    tags=["banners"],
    status_code=201,
    response_model=Banner,
    summary="A banner for every patient of the caller's unit (patient admin)",
)
async def create_banner(
    command: BannerCommand, svc: Service, by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN)]
) -> Banner:
    return await svc.create_banner(command, by)


@router.get("/units/me/banners", tags=["banners"], response_model=list[Banner])
async def unit_banners(svc: Service, by: Annotated[Staff, require_staff()]) -> list[Banner]:
    return await svc.repo.banners_of_units([by.unit_id], svc.uow.clock.now())


@router.delete("/units/me/banners/{banner_id}", tags=["banners"], status_code=204)
async def delete_banner(
    banner_id: str, svc: Service, by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN)]
) -> Response:
    if not await svc.repo.delete_banner(banner_id, by.unit_id):
        raise NotFound("no such banner")
    return Response(status_code=204)


@router.get(
    "/me/banners",
    tags=["patient"],
    response_model=list[Banner],
    summary="Banners of the units where the patient has an active plan",
)
async def my_banners(svc: Service, patient: PatientUser) -> list[Banner]:
    return await svc.banners_for_patient(patient.personnummer)


@router.get(
    "/announcements/{announcement_id}",
    tags=["announcements"],
    summary="Fan-out progress: batches, recipients, and deliveries sent and failed so far (tallies; "
    "by_state=true counts every state in the ledger, which reads every delivery)",
)
async def announcement_progress(
    announcement_id: str, svc: Service, by: Annotated[Staff, require_staff()], by_state: bool = False
) -> dict[str, Any]:
    announcement = await svc.repo.announcement(announcement_id)
    if announcement is None or (announcement.unit_id and announcement.unit_id != by.unit_id):
        raise NotFound("no such announcement")
    if by_state:
        states = await svc.repo.count_states(f"announcement:{announcement_id}")
    else:
        states = await svc.repo.announcement_outcomes(announcement_id)
    return {"announcement": announcement.model_dump(mode="json"), "deliveries": states}


@router.get(
    "/triggers/{trigger_id}/deliveries",
    tags=["deliveries"],
    response_model=list[DeliveryView],
    summary="Delivery state (queued, sent, deferred, failed) of everything one trigger caused",
)
async def deliveries(trigger_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> list[Any]:
    return [
        DeliveryView.model_validate(d.model_dump())
        for d in await svc.repo.deliveries_of_trigger(trigger_id)
        if d.unit_id == by.unit_id
    ]
