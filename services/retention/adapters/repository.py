"""MongoDB repositories of the retention service (they implement `service_layer.ports`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.retention.domain.model import RetentionSchedule
from services.retention.domain.purge import Purge, PurgedPlan
from services.retention.domain.views import EndedPlan
from shared.ownership.model import OwnershipState
from shared.ownership.repository import OWNERSHIP_COLLECTION
from shared.storage.timers import TIMERS_COLLECTION
from shared.storage.unit_of_work import ConcurrentModification

Db = AsyncDatabase[dict[str, Any]]
M = TypeVar("M", bound=BaseModel)


class _ByPlan(Generic[M]):
    """Documents of one model, one per plan, keyed by plan id."""

    def __init__(self, db: Db, collection: str, model: type[M]) -> None:
        self._collection = db[collection]
        self._model = model

    async def get(self, plan_id: str, session: Any = None) -> M | None:
        doc = await self._collection.find_one({"_id": plan_id}, session=session)
        return self._model.model_validate(doc) if doc else None

    async def _put(self, plan_id: str, model: M, session: Any) -> None:
        doc = {"_id": plan_id, **model.model_dump()}
        await self._collection.replace_one({"_id": plan_id}, doc, upsert=True, session=session)

    async def delete(self, plan_id: str, session: Any = None) -> int:
        return (await self._collection.delete_one({"_id": plan_id}, session=session)).deleted_count


class MongoScheduleRepository(_ByPlan[RetentionSchedule]):
    """Retention schedules."""

    def __init__(self, db: Db) -> None:
        super().__init__(db, "schedules", RetentionSchedule)

    async def save(self, schedule: RetentionSchedule, session: Any = None) -> None:
        await self._put(schedule.plan_id, schedule, session)


class MongoTombstoneRepository(_ByPlan[PurgedPlan]):
    """Purged plans (ids, times and counts), kept for good."""

    def __init__(self, db: Db) -> None:
        super().__init__(db, "purged_plans", PurgedPlan)

    async def add(self, tombstone: PurgedPlan, session: Any = None) -> None:
        await self._put(tombstone.plan_id, tombstone, session)


class MongoPurgeRepository(_ByPlan[Purge]):
    """Purges under way, saved with an optimistic version check."""

    def __init__(self, db: Db) -> None:
        super().__init__(db, "purges", Purge)

    async def save(self, purge: Purge, session: Any = None) -> None:
        expected, purge.version = purge.version, purge.version + 1
        doc = {"_id": purge.plan_id, **purge.model_dump()}
        if expected == 0:
            try:
                await self._collection.insert_one(doc, session=session)
            except DuplicateKeyError:
                raise ConcurrentModification(f"purge of {purge.plan_id} requested concurrently") from None
            return
        result = await self._collection.replace_one({"_id": purge.plan_id, "version": expected}, doc, session=session)
        if result.matched_count != 1:
            raise ConcurrentModification(f"purge of {purge.plan_id} changed concurrently")


class MongoEndedPlans:
    """Ended plans of a unit, read from the ownership copy (current holder, never a stale unit)."""

    def __init__(self, db: Db) -> None:
        self._collection = db[OWNERSHIP_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("unit_id", ASCENDING), ("state", ASCENDING), ("ended_at", ASCENDING)])

    async def ended_before(self, unit_id: str, before: datetime, skip: int, limit: int) -> list[EndedPlan]:
        query = {"unit_id": unit_id, "state": OwnershipState.ENDED.value, "ended_at": {"$lt": before}}
        cursor = self._collection.find(query, {"_id": 1, "ended_at": 1, "started_at": 1})
        cursor = cursor.sort([("ended_at", ASCENDING), ("_id", ASCENDING)]).skip(skip).limit(limit)
        return [
            EndedPlan(plan_id=doc["_id"], ended_at=doc["ended_at"], started_at=doc.get("started_at"))
            async for doc in cursor
        ]


class MongoPlanDataEraser:
    """Deletes a plan's ownership copy and timer documents in retention's database."""

    def __init__(self, db: Db) -> None:
        self._ownership = db[OWNERSHIP_COLLECTION]
        self._timers = db[TIMERS_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._timers.create_index([("payload.plan_id", ASCENDING)])

    async def erase(self, plan_id: str, timer_kinds: Collection[str], session: Any = None) -> dict[str, int]:
        ownership = await self._ownership.delete_one({"_id": plan_id}, session=session)
        timers = await self._timers.delete_many(
            {"payload.plan_id": plan_id, "kind": {"$in": list(timer_kinds)}}, session=session
        )
        return {OWNERSHIP_COLLECTION: ownership.deleted_count, TIMERS_COLLECTION: timers.deleted_count}
