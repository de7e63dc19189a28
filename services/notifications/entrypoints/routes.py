"""HTTP routes of the notifications service: parse the request, call the service layer, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.notifications.domain.announcements import AnnouncementCommand, AnnouncementProgress, BannerCommand
from services.notifications.domain.model import Announcement, Banner, Delivery, InboxItem, Preferences, StaffEntry
from services.notifications.entrypoints.views import DeliveryView, InboxItemView
from services.notifications.service_layer.service import NotificationsService
from shared.kernel.principals import Staff
from shared.web.dependencies import PatientCaller, get_service, require_staff

router = APIRouter()
Service = Annotated[NotificationsService, Depends(get_service)]
StaffCaller = Annotated[Staff, require_staff()]


@router.get("/me/preferences", tags=["patient"], response_model=Preferences, summary="The patient's channels")
async def get_preferences(svc: Service, patient: PatientCaller) -> Preferences:
    return await svc.patients.preferences(patient)


@router.put(
    "/me/preferences",
    tags=["patient"],
    response_model=Preferences,
    summary="Turn e-mail and/or SMS notifications on or off, with the address and number",
)
async def put_preferences(preferences: Preferences, svc: Service, patient: PatientCaller) -> Preferences:
    return await svc.patients.set_preferences(patient, preferences)


@router.get(
    "/me/inbox", tags=["patient"], response_model=list[InboxItemView], summary="The patient's 1177 inbox, newest first"
)
async def inbox(svc: Service, patient: PatientCaller) -> list[InboxItem]:
    return await svc.patients.inbox(patient)


@router.post("/me/inbox/{item_id}/read", tags=["patient"], status_code=204, summary="Mark an inbox item read")
async def mark_read(item_id: str, svc: Service, patient: PatientCaller) -> Response:
    await svc.patients.mark_read(patient, item_id)
    return Response(status_code=204)


@router.put(
    "/staff/{hsa_id}",
    tags=["staff"],
    status_code=204,
    summary="The caller's unit's staff directory entry: where its e-mail notifications to the staff member go "
    "(permission admin; each unit keeps its own entries)",
)
async def put_staff(hsa_id: str, entry: StaffEntry, svc: Service, by: StaffCaller) -> Response:
    await svc.staff.register(hsa_id, entry, by)
    return Response(status_code=204)


@router.post(
    "/announcements",
    tags=["announcements"],
    status_code=201,
    response_model=Announcement,
    summary="Announce to every patient of the unit (patient admin), the region or a program version "
    "(publisher); fanned out",
)
async def announce(command: AnnouncementCommand, svc: Service, by: StaffCaller) -> Announcement:
    return await svc.announcements.create(command, by)


@router.get(
    "/announcements/{announcement_id}",
    tags=["announcements"],
    response_model=AnnouncementProgress,
    summary="Fan-out progress: batches, recipients, and deliveries sent and failed so far (tallies; "
    "by_state=true counts every state in the ledger, which reads every delivery)",
)
async def announcement_progress(
    announcement_id: str, svc: Service, by: StaffCaller, by_state: bool = False
) -> AnnouncementProgress:
    return await svc.announcements.progress(announcement_id, by, by_state=by_state)


@router.post(
    "/units/me/banners",
    tags=["banners"],
    status_code=201,
    response_model=Banner,
    summary="A banner for every patient of the caller's unit (patient admin)",
)
async def create_banner(command: BannerCommand, svc: Service, by: StaffCaller) -> Banner:
    return await svc.banners.create(command, by)


@router.get(
    "/units/me/banners", tags=["banners"], response_model=list[Banner], summary="The caller's unit's valid banners"
)
async def unit_banners(svc: Service, by: StaffCaller) -> list[Banner]:
    return await svc.banners.of_unit(by)


@router.delete(
    "/units/me/banners/{banner_id}",
    tags=["banners"],
    status_code=204,
    summary="Remove one of the unit's banners (patient admin)",
)
async def delete_banner(banner_id: str, svc: Service, by: StaffCaller) -> Response:
    await svc.banners.delete(banner_id, by)
    return Response(status_code=204)


@router.get(
    "/me/banners",
    tags=["patient"],
    response_model=list[Banner],
    summary="Banners of the units that hold the patient's active plans",
)
async def my_banners(svc: Service, patient: PatientCaller) -> list[Banner]:
    return await svc.banners.for_patient(patient)


@router.get(
    "/triggers/{trigger_id}/deliveries",
    tags=["deliveries"],
    response_model=list[DeliveryView],
    summary="Delivery state (queued, sent, deferred, failed) of everything one trigger caused, for the staff "
    "of the unit it concerns (another unit's trigger is not found)",
)
async def deliveries(trigger_id: str, svc: Service, by: StaffCaller) -> list[Delivery]:
    return await svc.staff.deliveries(trigger_id, by)
