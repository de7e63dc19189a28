"""The notifications service's use cases, wired once: what routes, consumers and timers call."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.service_layer.announcements import AnnouncementService
from services.notifications.service_layer.banners import BannerService
from services.notifications.service_layer.delivery import Deliverer
from services.notifications.service_layer.notifier import Notifier
from services.notifications.service_layer.patients import PatientService
from services.notifications.service_layer.ports import Stores, WorkQueue
from services.notifications.service_layer.read_model import RecipientProjector
from services.notifications.service_layer.staff import StaffService
from services.notifications.service_layer.triggers import TriggerHandlers
from shared.ownership import OwnershipRepository
from shared.storage.unit_of_work import UnitOfWork


class NotificationsService:
    def __init__(
        self,
        uow: UnitOfWork,
        stores: Stores,
        ownership: OwnershipRepository,
        deliverer: Deliverer,
        work: WorkQueue,
        *,
        announcement_check: timedelta = timedelta(minutes=5),
    ) -> None:
        notifier = Notifier(stores, deliverer, uow.clock)
        self.deliverer = deliverer
        self.read_model = RecipientProjector(stores.recipients)
        self.triggers = TriggerHandlers(ownership, stores, notifier)
        self.announcements = AnnouncementService(
            uow, stores, notifier, work, deliverer.timers, check_after=announcement_check
        )
        self.banners = BannerService(uow, stores, ownership, self.announcements)
        self.patients = PatientService(uow, stores)
        self.staff = StaffService(uow, stores, ownership)
