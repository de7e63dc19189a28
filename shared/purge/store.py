"""MongoDB side of a purge: delete a plan's documents in one transaction, and remember the plan id."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from shared.messaging.consumer import TOMBSTONE_COLLECTION
from shared.ownership.repository import OWNERSHIP_COLLECTION

PLATFORM_COLLECTIONS: dict[str, str] = {
    OWNERSHIP_COLLECTION: "_id",
    "timers": "payload.plan_id",
    "outbox": "key",
    "inbox": "key",
}
"""The platform's own collections that hold a plan's traces in every service, and the field naming the plan."""


class Tombstones(Protocol):
    """Plan ids that were purged (no personal data: the id is a random UUID)."""

    async def add(self, plan_id: str, purge_id: str, at: datetime, session: Any = None) -> None: ...

    async def contains(self, plan_id: str, session: Any = None) -> bool: ...


class MongoTombstones:
    """Tombstones in the service's own database, keyed by plan id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db[TOMBSTONE_COLLECTION]

    async def add(self, plan_id: str, purge_id: str, at: datetime, session: Any = None) -> None:
        await self._collection.update_one(
            {"_id": plan_id}, {"$setOnInsert": {"purge_id": purge_id, "purged_at": at}}, upsert=True, session=session
        )

    async def contains(self, plan_id: str, session: Any = None) -> bool:
        return await self._collection.find_one({"_id": plan_id}, {"_id": 1}, session=session) is not None


class MongoPlanPurger:
    """Deletes a plan's documents from the given collections plus the platform's own (ownership copy,
    timers, pending outbox events, inbox records), and counts what went."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collections: dict[str, str]) -> None:
        """`collections` maps each of the service's collections holding plan data to the field that
        names the plan (e.g. {"conversations": "plan_id", "plans": "_id"})."""
        self._db = db
        self._collections = {**collections, **PLATFORM_COLLECTIONS}

    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]:
        deleted: dict[str, int] = {}
        for name, field in self._collections.items():
            result = await self._db[name].delete_many({field: plan_id}, session=tx.session)
            deleted[name] = result.deleted_count
        return deleted


def mongo_participant_parts(
    db: AsyncDatabase[dict[str, Any]], collections: dict[str, str]
) -> tuple[MongoPlanPurger, MongoTombstones]:
    """The purger and tombstones of a service whose plan data lives in `collections` of its database."""
    return MongoPlanPurger(db, collections), MongoTombstones(db)
