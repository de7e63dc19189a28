"""Notifications' read model of plans (with the copy of each patient's preferences the fan-out reads)
and the patients' preferences, in MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.domain.model import Announcement, FanoutRecipient, PlanRecipient, Preferences
from shared.storage.documents import find_by_ids

FANOUT_FIELDS = {"_id": 1, "unit_id": 1, "patient_personnummer": 1, "protected_identity": 1, "preferences": 1}


class MongoRecipients:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._plans = db["plans"]
        self._preferences = db["preferences"]

    async def ensure_indexes(self) -> None:
        await self._plans.create_index([("unit_id", ASCENDING)])
        await self._plans.create_index([("patient_personnummer", ASCENDING)])
        await self._plans.create_index([("program_id", ASCENDING), ("program_version", ASCENDING)])

    # -- plans ---------------------------------------------------------------------------------
    async def save_started(self, plan: PlanRecipient) -> None:
        fields = plan.model_dump(exclude={"active"})
        await self._plans.update_one(
            {"_id": plan.plan_id}, {"$set": fields, "$setOnInsert": {"active": plan.active}}, upsert=True
        )

    async def end(self, plan_id: str) -> None:
        await self._plans.update_one({"_id": plan_id}, {"$set": {"active": False}}, upsert=True)

    async def move(self, plan_id: str, unit_id: str) -> None:
        await self._plans.update_one({"_id": plan_id}, {"$set": {"unit_id": unit_id}})

    async def fanout(self, announcement: Announcement) -> AsyncIterator[FanoutRecipient]:
        """Streamed by the server in batches (never all in memory)."""
        query: dict[str, Any] = {"active": True}
        if announcement.scope == "unit":
            query["unit_id"] = announcement.unit_id
        elif announcement.scope == "program_version":
            query |= {"program_id": announcement.program_id, "program_version": announcement.program_version}
        # In plan-id order: a resumed fan-out splits the same recipients into the same batches.
        async for doc in self._plans.find(query, FANOUT_FIELDS).sort("_id", ASCENDING).batch_size(1000):
            yield _recipient(doc)

    async def active_plans(self, plan_ids: list[str]) -> list[PlanRecipient]:
        docs = await find_by_ids(self._plans, plan_ids)
        return [PlanRecipient.model_validate(d) for d in docs if d.get("active")]

    # -- preferences ---------------------------------------------------------------------------
    async def preferences(self, personnummer: str) -> Preferences:
        doc = await self._preferences.find_one({"_id": personnummer}, {"_id": 0, "version": 0})
        return Preferences.model_validate(doc) if doc else Preferences()

    async def preferences_of(self, personnummers: list[str]) -> dict[str, Preferences]:
        docs = await find_by_ids(self._preferences, personnummers, {"version": 0})
        found = {d.pop("_id"): Preferences.model_validate(d) for d in docs}
        return {p: found.get(p, Preferences()) for p in personnummers}

    async def save_preferences(self, personnummer: str, preferences: Preferences) -> None:
        doc = await self._preferences.find_one_and_update(
            {"_id": personnummer},
            {"$set": preferences.model_dump(mode="json"), "$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            await self._copy_to_plans(personnummer, doc)

    async def copy_preferences(self, personnummer: str) -> None:
        doc = await self._preferences.find_one({"_id": personnummer})
        if doc is not None:
            await self._copy_to_plans(personnummer, doc)

    async def _copy_to_plans(self, personnummer: str, doc: dict[str, Any]) -> None:
        # Only over an older copy: writers racing (a preference change, a plan start) end with the newest.
        version = doc.get("version", 0)
        copy = {k: v for k, v in doc.items() if k not in ("_id", "version")}
        await self._plans.update_many(
            {
                "patient_personnummer": personnummer,
                "$or": [{"preferences_version": {"$lt": version}}, {"preferences_version": None}],
            },
            {"$set": {"preferences": copy, "preferences_version": version}},
        )


def _recipient(doc: dict[str, Any]) -> FanoutRecipient:
    """A recipient from a plan document and its copy of the patient's preferences (inbox only if none)."""
    chosen = Preferences.model_construct(**(doc.get("preferences") or {}))  # validated when it was saved
    return FanoutRecipient(
        plan_id=doc["_id"],
        unit_id=doc["unit_id"],
        personnummer=doc["patient_personnummer"],
        protected_identity=doc.get("protected_identity", False),
        addresses={c: chosen.address(c) for c in chosen.channels()},
    )
