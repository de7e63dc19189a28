"""MongoDB stores of batteries, activity plans with their registrations, and plans' timers."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.forms.domain.activity import ActivityPlan, Registration
from services.forms.domain.battery import Battery, StartBattery
from shared.storage.documents import from_document, to_document

Db = AsyncDatabase[dict[str, Any]]


class MongoBatteryStore:
    def __init__(self, db: Db) -> None:
        self.batteries = db["batteries"]
        self.start_batteries = db["start_batteries"]

    async def ensure_indexes(self) -> None:
        await self.batteries.create_index([("plan_id", ASCENDING)])

    async def save(self, battery: Battery, session: Any) -> None:
        await self.batteries.replace_one({"_id": battery.id}, to_document(battery), upsert=True, session=session)

    async def get(self, battery_id: str, session: Any = None) -> Battery | None:
        return from_document(Battery, await self.batteries.find_one({"_id": battery_id}, session=session))

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Battery]:
        docs = [d async for d in self.batteries.find({"plan_id": plan_id}, session=session)]
        return sorted((b for b in (from_document(Battery, d) for d in docs) if b), key=lambda b: b.created_at)

    async def set_start_battery(self, program_id: str, battery: StartBattery, session: Any) -> None:
        await self.start_batteries.replace_one({"_id": program_id}, battery.model_dump(), upsert=True, session=session)

    async def start_battery(self, program_id: str, session: Any = None) -> StartBattery | None:
        doc = await self.start_batteries.find_one({"_id": program_id}, {"_id": 0}, session=session)
        return StartBattery.model_validate(doc) if doc else None


class MongoActivityStore:
    def __init__(self, db: Db) -> None:
        self.activity_plans = db["activity_plans"]
        self.registrations_ = db["registrations"]

    async def ensure_indexes(self) -> None:
        await self.activity_plans.create_index([("plan_id", ASCENDING)])
        await self.registrations_.create_index([("activity_plan_id", ASCENDING)])

    async def save(self, activity: ActivityPlan, session: Any) -> None:
        await self.activity_plans.replace_one({"_id": activity.id}, to_document(activity), upsert=True, session=session)

    async def get(self, activity_plan_id: str, session: Any = None) -> ActivityPlan | None:
        return from_document(
            ActivityPlan, await self.activity_plans.find_one({"_id": activity_plan_id}, session=session)
        )

    async def of_plan(self, plan_id: str) -> list[ActivityPlan]:
        docs = [d async for d in self.activity_plans.find({"plan_id": plan_id})]
        return [p for p in (from_document(ActivityPlan, d) for d in docs) if p]

    async def add_registration(self, registration: Registration, session: Any) -> None:
        await self.registrations_.insert_one(to_document(registration), session=session)

    async def registration(self, registration_id: str, session: Any = None) -> Registration | None:
        return from_document(
            Registration, await self.registrations_.find_one({"_id": registration_id}, session=session)
        )

    async def registrations(self, activity_plan_id: str) -> list[Registration]:
        docs = [d async for d in self.registrations_.find({"activity_plan_id": activity_plan_id})]
        return sorted((r for r in (from_document(Registration, d) for d in docs) if r), key=lambda r: r.occasion)


class MongoTimerRegistry:
    """Collection `plan_timers`: one document per live timer of a plan (`_id` the timer's key)."""

    def __init__(self, db: Db) -> None:
        self.timers = db["plan_timers"]

    async def ensure_indexes(self) -> None:
        await self.timers.create_index([("plan_id", ASCENDING)])

    async def add(self, plan_id: str, key: str, session: Any) -> None:
        await self.timers.replace_one({"_id": key}, {"_id": key, "plan_id": plan_id}, upsert=True, session=session)

    async def remove(self, key: str, session: Any) -> None:
        await self.timers.delete_one({"_id": key}, session=session)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[str]:
        return [d["_id"] async for d in self.timers.find({"plan_id": plan_id}, {"_id": 1}, session=session)]
