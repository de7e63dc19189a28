"""Announcements, unit banners and the staff directory, in MongoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.domain.model import Announcement, Banner, StaffMember
from shared.storage.documents import from_document, to_document


class MongoBulletins:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._announcements = db["announcements"]
        self._banners = db["banners"]

    async def ensure_indexes(self) -> None:
        await self._banners.create_index([("unit_id", ASCENDING)])

    async def add_announcement(self, announcement: Announcement, session: Any) -> None:
        await self._announcements.insert_one(to_document(announcement), session=session)

    async def announcement(self, announcement_id: str) -> Announcement | None:
        return from_document(Announcement, await self._announcements.find_one({"_id": announcement_id}))

    async def set_fanout_totals(self, announcement_id: str, batches: int, recipients: int) -> None:
        await self._announcements.update_one(
            {"_id": announcement_id}, {"$set": {"batches": batches, "recipients": recipients}}
        )

    async def batch_done(self, announcement_id: str, number: int) -> None:
        await self._announcements.update_one({"_id": announcement_id}, {"$addToSet": {"batches_done": number}})

    async def record_check(self, announcement_id: str, progress: int, *, resumed: bool, session: Any) -> None:
        update: dict[str, Any] = {"$set": {"checked_progress": progress}}
        if resumed:
            update["$inc"] = {"resumed": 1}
        await self._announcements.update_one({"_id": announcement_id}, update, session=session)

    async def add_banner(self, banner: Banner) -> None:
        await self._banners.insert_one(to_document(banner))

    async def delete_banner(self, banner_id: str, unit_id: str) -> bool:
        return (await self._banners.delete_one({"_id": banner_id, "unit_id": unit_id})).deleted_count == 1

    async def banners_of_units(self, unit_ids: list[str], now: datetime) -> list[Banner]:
        cursor = self._banners.find({"unit_id": {"$in": unit_ids}})
        banners = [Banner.model_validate({**d, "id": d["_id"]}) async for d in cursor]
        return [b for b in banners if b.valid_until is None or b.valid_until > now]


class MongoStaffDirectory:
    """Entries keyed by (unit, HSA-id): one unit's entry never changes another unit's."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._staff = db["staff_directory"]

    async def ensure_indexes(self) -> None:
        await self._staff.create_index([("unit_id", ASCENDING)])

    async def save(self, member: StaffMember) -> None:
        key = _key(member.unit_id, member.hsa_id)
        await self._staff.replace_one({"_id": key}, {"_id": key, **member.model_dump()}, upsert=True)

    async def member(self, unit_id: str, hsa_id: str) -> StaffMember | None:
        doc = await self._staff.find_one({"_id": _key(unit_id, hsa_id)}, {"_id": 0})
        return StaffMember.model_validate(doc) if doc else None

    async def with_role(self, unit_id: str, role: str) -> list[StaffMember]:
        cursor = self._staff.find({"unit_id": unit_id}, {"_id": 0})
        return [StaffMember.model_validate(d) async for d in cursor if role in d.get("roles", [])]


def _key(unit_id: str, hsa_id: str) -> str:
    return f"{unit_id}|{hsa_id}"
