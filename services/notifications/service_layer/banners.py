"""Unit banners: shown to every patient with an active plan at the unit, and (if asked) announced to
their inboxes."""

from __future__ import annotations

import uuid

from services.notifications.domain.announcements import BannerCommand, banner_announcement, new_banner
from services.notifications.domain.model import Banner
from services.notifications.service_layer.announcements import AnnouncementService
from services.notifications.service_layer.ports import Stores
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.ownership import OwnershipRepository, OwnershipState
from shared.storage.unit_of_work import UnitOfWork


class BannerService:
    def __init__(
        self, uow: UnitOfWork, stores: Stores, ownership: OwnershipRepository, announcements: AnnouncementService
    ) -> None:
        self.uow = uow
        self.stores = stores
        self.ownership = ownership
        self.announcements = announcements

    async def create(self, command: BannerCommand, by: Staff) -> Banner:
        banner = new_banner(command, by, str(uuid.uuid4()), self.uow.clock.now())
        if command.notify:
            announcement = await self.announcements.create(banner_announcement(command), by)
            banner = banner.model_copy(update={"announcement_id": announcement.id})
        await self.stores.bulletins.add_banner(banner)
        return banner

    async def of_unit(self, by: Staff) -> list[Banner]:
        """The caller's unit's banners still valid."""
        return await self.stores.bulletins.banners_of_units([by.unit_id], self.uow.clock.now())

    async def delete(self, banner_id: str, by: Staff) -> None:
        """A patient admin removes one of their own unit's banners; another unit's is a missing one."""
        if not by.has_any(Role.PATIENT_ADMIN):
            raise Forbidden("a banner is removed by a patient admin")
        if not await self.stores.bulletins.delete_banner(banner_id, by.unit_id):
            raise NotFound("no such banner")

    async def for_patient(self, patient: Patient) -> list[Banner]:
        """Banners of the units that hold the patient's plans now (ended plans do not count)."""
        plans = await self.ownership.of_patient(patient.personnummer)
        units = sorted({p.unit_id for p in plans if p.state is not OwnershipState.ENDED})
        if not units:
            return []
        return await self.stores.bulletins.banners_of_units(units, self.uow.clock.now())
