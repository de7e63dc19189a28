"""The delivery ledger, announcements' progress tallies and patients' inboxes, in MongoDB."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.notifications.domain.model import Delivery, InboxItem
from shared.storage.documents import find_by_ids, to_document

Pipeline = Sequence[Mapping[str, Any]]


class MongoLedger:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._deliveries = db["deliveries"]
        self._tallies = db["announcement_tallies"]

    async def ensure_indexes(self) -> None:
        await self._deliveries.create_index([("trigger_id", ASCENDING)])
        await self._tallies.create_index([("announcement_id", ASCENDING)])

    async def add(self, deliveries: list[Delivery]) -> set[str]:
        return await insert_new(self._deliveries, [to_document(d) for d in deliveries])

    async def by_id(self, ids: list[str]) -> list[Delivery]:
        return [_delivery(d) for d in await find_by_ids(self._deliveries, ids)]

    async def of_trigger(self, trigger_id: str) -> list[Delivery]:
        return [_delivery(d) async for d in self._deliveries.find({"trigger_id": trigger_id})]

    async def count_states(self, trigger_id: str) -> dict[str, int]:
        pipeline: Pipeline = [{"$match": {"trigger_id": trigger_id}}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        return {d["_id"]: d["n"] async for d in await self._deliveries.aggregate(pipeline)}

    async def record_outcomes(self, updates: dict[str, dict[str, Any]], session: Any) -> dict[str, int]:
        counts = {"sent": 0, "failed": 0}
        by_outcome: dict[str | None, list[UpdateOne]] = {}  # one write per final state, to count each
        for delivery_id, update in updates.items():
            final = update["state"] if update["state"] in counts else None
            by_outcome.setdefault(final, []).append(
                UpdateOne({"_id": delivery_id, "state": {"$nin": ["sent", "failed"]}}, {"$set": update})
            )
        for final, writes in by_outcome.items():
            result = await self._deliveries.bulk_write(writes, ordered=False, session=session)
            if final:
                counts[final] += result.modified_count
        return counts

    async def tally(self, announcement_id: str, counts: dict[str, int], session: Any) -> None:
        """One small tally per recorded batch (an insert: concurrent workers never contend on a counter)."""
        if any(counts.values()):
            await self._tallies.insert_one(
                {"_id": str(uuid.uuid4()), "announcement_id": announcement_id, **counts}, session=session
            )

    async def announcement_outcomes(self, announcement_id: str) -> dict[str, int]:
        """Deliveries sent and failed so far: the sum of the announcement's tallies (a few per batch)."""
        pipeline: Pipeline = [
            {"$match": {"announcement_id": announcement_id}},
            {"$group": {"_id": None, "sent": {"$sum": "$sent"}, "failed": {"$sum": "$failed"}}},
        ]
        totals = [d async for d in await self._tallies.aggregate(pipeline)]
        return {k: totals[0][k] for k in ("sent", "failed") if totals and totals[0][k]}


class MongoInbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._inbox = db["inbox"]

    async def ensure_indexes(self) -> None:
        await self._inbox.create_index([("personnummer", ASCENDING), ("created_at", DESCENDING)])

    async def add(self, items: list[InboxItem]) -> None:
        await insert_new(self._inbox, [to_document(i) for i in items])

    async def of(self, personnummer: str) -> list[InboxItem]:
        cursor = self._inbox.find({"personnummer": personnummer}).sort("created_at", DESCENDING).limit(200)
        return [InboxItem.model_validate({**d, "id": d["_id"]}) async for d in cursor]

    async def mark_read(self, item_id: str, personnummer: str, at: datetime) -> bool:
        result = await self._inbox.update_one({"_id": item_id, "personnummer": personnummer}, {"$set": {"read_at": at}})
        return result.matched_count == 1


def _delivery(doc: dict[str, Any]) -> Delivery:
    return Delivery.model_validate({**doc, "id": doc["_id"]})


async def insert_new(collection: AsyncCollection[dict[str, Any]], documents: list[dict[str, Any]]) -> set[str]:
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
