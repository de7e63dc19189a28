"""What a purge deletes in the forms service: every collection holding a plan's data, and the plan's
durable timers (forms' timer payloads name battery or activity ids, so the plan's timer keys are
looked up in `plan_timers` first)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.purge import MongoPlanPurger

FORMS_COLLECTIONS = {
    "plans": "_id",
    "responses": "plan_id",
    "flags": "plan_id",
    "batteries": "plan_id",
    "activity_plans": "plan_id",
    "registrations": "plan_id",
}


class FormsPlanPurger:
    """Deletes the plan's timers by the keys forms recorded for it, then everything else."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._db = db
        self._documents = MongoPlanPurger(db, {**FORMS_COLLECTIONS, "plan_timers": "plan_id"})

    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]:
        keys = [
            d["_id"] async for d in self._db["plan_timers"].find({"plan_id": plan_id}, {"_id": 1}, session=tx.session)
        ]
        timers = await self._db["timers"].delete_many({"_id": {"$in": keys}}, session=tx.session) if keys else None
        deleted = await self._documents.purge(plan_id, tx)
        deleted["timers"] += timers.deleted_count if timers else 0
        return deleted
