"""Staff's side: the unit's staff directory, and what a trigger's deliveries became."""

from __future__ import annotations

from services.notifications.domain.announcements import announcement_of_trigger, visible_to
from services.notifications.domain.directory import directory_entry
from services.notifications.domain.model import Delivery, StaffEntry, StaffMember
from services.notifications.service_layer.ports import Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.ownership import OwnershipRepository
from shared.storage.unit_of_work import UnitOfWork

NO_SUCH_TRIGGER = "no such trigger"


class StaffService:
    def __init__(self, uow: UnitOfWork, stores: Stores, ownership: OwnershipRepository) -> None:
        self.uow = uow
        self.stores = stores
        self.ownership = ownership

    async def register(self, hsa_id: str, entry: StaffEntry, by: Staff) -> StaffMember:
        """The caller's unit's directory entry for `hsa_id` (other units' entries stay as they are)."""
        member = directory_entry(hsa_id, entry, by)
        await self.stores.staff.save(member)
        return member

    async def deliveries(self, trigger_id: str, by: Staff) -> list[Delivery]:
        """Every delivery a trigger caused that the caller's unit may see: an announcement's follow its
        announcement, a plan event's follow the plan's current holder. A trigger of another unit is a
        missing one. The read is audited per patient."""
        found = await self.stores.ledger.of_trigger(trigger_id)
        announcement_id = announcement_of_trigger(trigger_id)
        if announcement_id is not None:
            visible, patients = await self._of_announcement(announcement_id, found, by)
        else:
            visible, patients = await self._of_plans(found, by)
        records = [
            self.uow.audit_log.build(
                by, "read", "notification.deliveries", trigger_id, patient=patient, unit_id=by.unit_id
            )
            for patient in sorted(set(patients.values()))
        ]
        await self.uow.audit_log.write(records)
        return visible

    async def _of_announcement(
        self, announcement_id: str, found: list[Delivery], by: Staff
    ) -> tuple[list[Delivery], dict[str, str]]:
        """The unit's own announcement: all of it; a region or program one: what reached the caller's unit."""
        announcement = await self.stores.bulletins.announcement(announcement_id)
        if announcement is None or not visible_to(announcement, by):
            raise NotFound(NO_SUCH_TRIGGER)
        visible = found if announcement.unit_id is not None else [d for d in found if d.unit_id == by.unit_id]
        return visible, {d.plan_id: d.recipient for d in visible if d.plan_id and d.recipient_kind == "patient"}

    async def _of_plans(self, found: list[Delivery], by: Staff) -> tuple[list[Delivery], dict[str, str]]:
        """Deliveries about plans the caller's unit holds now; none at all is a missing trigger."""
        patients: dict[str, str] = {}
        for plan_id in {d.plan_id for d in found if d.plan_id}:
            ownership = await self.ownership.get(plan_id)
            if ownership is not None and ownership.visible_to(by):
                patients[plan_id] = ownership.patient_personnummer
        visible = [d for d in found if d.plan_id in patients]
        if not visible:
            raise NotFound(NO_SUCH_TRIGGER)
        return visible, patients
