"""A patient's own notification settings and 1177 inbox. Every read and change is audited."""

from __future__ import annotations

from services.notifications.domain.model import InboxItem, Preferences
from services.notifications.service_layer.ports import Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Patient
from shared.storage.unit_of_work import UnitOfWork


class PatientService:
    def __init__(self, uow: UnitOfWork, stores: Stores) -> None:
        self.uow = uow
        self.stores = stores

    async def preferences(self, patient: Patient) -> Preferences:
        preferences = await self.stores.recipients.preferences(patient.personnummer)
        await self._audit(patient, "read", "notification.preferences", "preferences")
        return preferences

    async def set_preferences(self, patient: Patient, preferences: Preferences) -> Preferences:
        """Stored, and copied onto the patient's plans for announcements' fan-out."""
        await self.stores.recipients.save_preferences(patient.personnummer, preferences)
        await self._audit(patient, "update", "notification.preferences", "preferences")
        return preferences

    async def inbox(self, patient: Patient) -> list[InboxItem]:
        """The newest items first."""
        items = await self.stores.inbox.of(patient.personnummer)
        await self._audit(patient, "read", "notification.inbox", "inbox")
        return items

    async def mark_read(self, patient: Patient, item_id: str) -> None:
        """Another patient's item is a missing one."""
        if not await self.stores.inbox.mark_read(item_id, patient.personnummer, self.uow.clock.now()):
            raise NotFound("no such inbox item")
        await self._audit(patient, "update", "notification.inbox_item", item_id)

    async def _audit(self, patient: Patient, action: str, resource: str, resource_id: str) -> None:
        await self.uow.audit_log.record(
            patient, action, resource, resource_id, patient=patient.personnummer, unit_id=None
        )
