"""MongoDB repositories of the notifications service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.notifications.domain.model import (
    Announcement,
    Banner,
    Delivery,
    InboxItem,
    PlanRecipient,
    Preferences,
    StaffMember,
)
from shared.storage.documents import find_by_ids, from_document, to_document

Session = AsyncClientSession | None


class NotificationsRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.plans = db["plans"]
        self.preferences = db["preferences"]
        self.staff = db["staff_directory"]
        self.deliveries = db["deliveries"]
        self.inbox = db["inbox"]
        self.announcements = db["announcements"]
        self.banners = db["banners"]
        self.tallies = db["announcement_tallies"]

    async def ensure_indexes(self) -> None:
        await self.plans.create_index([("unit_id", ASCENDING)])
        await self.plans.create_index([("patient_personnummer", ASCENDING)])
        await self.banners.create_index([("unit_id", ASCENDING)])
        await self.plans.create_index([("program_id", ASCENDING), ("program_version", ASCENDING)])
        await self.staff.create_index([("unit_id", ASCENDING)])
        await self.deliveries.create_index([("trigger_id", ASCENDING)])
        await self.inbox.create_index([("personnummer", ASCENDING), ("created_at", DESCENDING)])
        await self.tallies.create_index([("announcement_id", ASCENDING)])

    # -- plans (recipients) ------------------------------------------------------------------
    async def plan(self, plan_id: str, session: Session = None) -> PlanRecipient | None:
        doc = await self.plans.find_one({"_id": plan_id}, session=session)
        return PlanRecipient.model_validate(doc) if doc else None

    async def save_plan(self, plan: PlanRecipient, session: Session) -> None:
        """Upsert the plan's fields (the copy of the patient's preferences on it is left as it is)."""
        await self.plans.update_one({"_id": plan.plan_id}, {"$set": plan.model_dump()}, upsert=True, session=session)

    async def plans_by_id(self, plan_ids: list[str]) -> list[PlanRecipient]:
        return [PlanRecipient.model_validate(d) for d in await find_by_ids(self.plans, plan_ids)]

    def stream_recipients(self, query: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Every matching plan with its copy of the patient's preferences, streamed by the server in
        batches (never all in memory)."""
        projection = {"_id": 1, "unit_id": 1, "patient_personnummer": 1, "protected_identity": 1, "preferences": 1}
        return aiter(self.plans.find(query, projection).batch_size(1000))

    # -- preferences and staff -----------------------------------------------------------------
    async def get_preferences(self, personnummer: str) -> Preferences:
        doc = await self.preferences.find_one({"_id": personnummer}, {"_id": 0, "version": 0})
        return Preferences.model_validate(doc) if doc else Preferences()

    async def preferences_of(self, personnummers: list[str]) -> dict[str, Preferences]:
        docs = await find_by_ids(self.preferences, personnummers, {"version": 0})
        found = {d.pop("_id"): Preferences.model_validate(d) for d in docs}
        return {p: found.get(p, Preferences()) for p in personnummers}

    async def save_preferences(self, personnummer: str, preferences: Preferences) -> None:
        """Store the patient's choice, numbered, then copy it onto their plans (for announcements)."""
        doc = await self.preferences.find_one_and_update(
            {"_id": personnummer},
            {"$set": preferences.model_dump(mode="json"), "$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        await self._copy_preferences_to_plans(personnummer, doc, None)

    async def copy_preferences_to_plans(self, personnummer: str, session: Session) -> None:
        """Bring the copy of the patient's preferences on their plans up to date (e.g. a new plan)."""
        doc = await self.preferences.find_one({"_id": personnummer}, session=session)
        if doc is not None:
            await self._copy_preferences_to_plans(personnummer, doc, session)

    async def _copy_preferences_to_plans(self, personnummer: str, doc: dict[str, Any], session: Session) -> None:
        # Only over an older copy: writers racing (a preference change, a plan start) end with the newest.
        version = doc.get("version", 0)
        copy = {k: v for k, v in doc.items() if k not in ("_id", "version")}
        await self.plans.update_many(
            {
                "patient_personnummer": personnummer,
                "$or": [{"preferences_version": {"$lt": version}}, {"preferences_version": None}],
            },
            {"$set": {"preferences": copy, "preferences_version": version}},
            session=session,
        )

    async def save_staff(self, hsa_id: str, member: StaffMember) -> None:
        await self.staff.replace_one({"_id": hsa_id}, member.model_dump(), upsert=True)

    async def staff_member(self, hsa_id: str) -> StaffMember | None:
        doc = await self.staff.find_one({"_id": hsa_id}, {"_id": 0})
        return StaffMember.model_validate(doc) if doc else None

    async def staff_with_role(self, unit_id: str, role: str) -> list[tuple[str, StaffMember]]:
        cursor = self.staff.find({"unit_id": unit_id})
        return [(d.pop("_id"), StaffMember.model_validate(d)) async for d in cursor if role in d.get("roles", [])]

    # -- the ledger ----------------------------------------------------------------------------
    async def add_deliveries(self, deliveries: list[Delivery]) -> set[str]:
        """Insert ledger entries; ones that exist already (a redelivered trigger) are left as they are and
        their ids returned."""
        return await _insert_new(self.deliveries, [to_document(d) for d in deliveries])

    async def deliveries_by_id(self, ids: list[str]) -> list[Delivery]:
        return [Delivery.model_validate({**d, "id": d["_id"]}) for d in await find_by_ids(self.deliveries, ids)]

    async def deliveries_of_trigger(self, trigger_id: str) -> list[Delivery]:
        return [from_document(Delivery, d) async for d in self.deliveries.find({"trigger_id": trigger_id})]

    async def count_states(self, trigger_id: str) -> dict[str, int]:
        pipeline = [{"$match": {"trigger_id": trigger_id}}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        return {d["_id"]: d["n"] async for d in await self.deliveries.aggregate(pipeline)}

    async def record_outcomes(self, updates: dict[str, dict[str, Any]], session: Session) -> dict[str, int]:
        """Store outcomes (never over a final one); returns how many became sent and failed by this call."""
        counts = {"sent": 0, "failed": 0}
        by_outcome: dict[str | None, list[UpdateOne]] = {}  # one write per final state, to count each
        for delivery_id, update in updates.items():
            final = update["state"] if update["state"] in counts else None
            by_outcome.setdefault(final, []).append(
                UpdateOne({"_id": delivery_id, "state": {"$nin": ["sent", "failed"]}}, {"$set": update})
            )
        for final, writes in by_outcome.items():
            result = await self.deliveries.bulk_write(writes, ordered=False, session=session)
            if final:
                counts[final] += result.modified_count
        return counts

    async def count_announcement_outcomes(self, announcement_id: str, counts: dict[str, int], session: Session) -> None:
        """One small tally per recorded batch (an insert: concurrent workers never contend on a counter)."""
        if any(counts.values()):
            await self.tallies.insert_one(
                {"_id": str(uuid.uuid4()), "announcement_id": announcement_id, **counts}, session=session
            )

    async def announcement_outcomes(self, announcement_id: str) -> dict[str, int]:
        """Deliveries sent and failed so far: the sum of the announcement's tallies (a few per batch)."""
        pipeline = [
            {"$match": {"announcement_id": announcement_id}},
            {"$group": {"_id": None, "sent": {"$sum": "$sent"}, "failed": {"$sum": "$failed"}}},
        ]
        totals = [d async for d in await self.tallies.aggregate(pipeline)]
        return {k: totals[0][k] for k in ("sent", "failed") if totals and totals[0][k]}

    # -- inbox and announcements ---------------------------------------------------------------
    async def add_inbox_items(self, items: list[InboxItem]) -> None:
        """Insert inbox items; ones already there (a redelivery) stay as they are."""
        await _insert_new(self.inbox, [to_document(i) for i in items])

    async def inbox_of(self, personnummer: str) -> list[InboxItem]:
        cursor = self.inbox.find({"personnummer": personnummer}).sort("created_at", DESCENDING).limit(200)
        return [from_document(InboxItem, d) async for d in cursor]

    async def mark_read(self, item_id: str, personnummer: str, at: Any) -> bool:
        result = await self.inbox.update_one({"_id": item_id, "personnummer": personnummer}, {"$set": {"read_at": at}})
        return result.matched_count == 1

    async def add_announcement(self, announcement: Announcement, session: Session) -> None:
        await self.announcements.insert_one(to_document(announcement), session=session)

    async def announcement(self, announcement_id: str) -> Announcement | None:
        doc = await self.announcements.find_one({"_id": announcement_id})
        return from_document(Announcement, doc)

    async def add_banner(self, banner: Banner) -> None:
        await self.banners.insert_one(to_document(banner))

    async def delete_banner(self, banner_id: str, unit_id: str) -> bool:
        return (await self.banners.delete_one({"_id": banner_id, "unit_id": unit_id})).deleted_count == 1

    async def banners_of_units(self, unit_ids: list[str], now: Any) -> list[Banner]:
        cursor = self.banners.find({"unit_id": {"$in": unit_ids}})
        banners = [from_document(Banner, d) async for d in cursor]
        return [b for b in banners if b is not None and (b.valid_until is None or b.valid_until > now)]

    async def units_of_patient(self, personnummer: str) -> list[str]:
        cursor = self.plans.find({"patient_personnummer": personnummer, "active": True}, {"unit_id": 1})
        return sorted({d["unit_id"] async for d in cursor})

    async def set_fanout_totals(self, announcement_id: str, batches: int, recipients: int) -> None:
        await self.announcements.update_one(
            {"_id": announcement_id}, {"$set": {"batches": batches, "recipients": recipients}}
        )


async def _insert_new(collection: Any, documents: list[dict[str, Any]]) -> set[str]:
    """Insert many, leaving the ones whose _id exists already; returns those ids."""
    if not documents:
        return set()
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        return {documents[e["index"]]["_id"] for e in errors}
    return set()
