"""What a purge deletes in the notifications service: the plan's read model, every delivery of the plan
(the ledger: recipients and addresses) and the inbox items they made; and, when the patient has no
other plan left here, their preferences and the rest of their inbox (announcements, banners' notices)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from shared.ownership.repository import OWNERSHIP_COLLECTION
from shared.purge import MongoPlanPurger


class NotificationsPlanPurger:
    """Deletes a plan's notification data, and the patient's own once no plan of theirs remains."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._db = db
        self._documents = MongoPlanPurger(db, {"plans": "_id", "deliveries": "plan_id"})

    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]:
        session = tx.session
        owner = await self._db[OWNERSHIP_COLLECTION].find_one(
            {"_id": plan_id}, {"patient_personnummer": 1}, session=session
        )
        delivery_ids = [
            d["_id"] async for d in self._db["deliveries"].find({"plan_id": plan_id}, {"_id": 1}, session=session)
        ]
        inbox = await self._db["inbox"].delete_many({"_id": {"$in": delivery_ids}}, session=session)
        deleted = await self._documents.purge(plan_id, tx)
        deleted["inbox_items"] = inbox.deleted_count
        if owner is not None:
            deleted |= await self._patient_data_if_last_plan(owner["patient_personnummer"], session)
        return deleted

    async def _patient_data_if_last_plan(self, personnummer: str, session: Any) -> dict[str, int]:
        others = await self._db[OWNERSHIP_COLLECTION].count_documents(
            {"patient_personnummer": personnummer}, session=session
        )
        if others:
            return {"preferences": 0}
        preferences = await self._db["preferences"].delete_one({"_id": personnummer}, session=session)
        inbox = await self._db["inbox"].delete_many({"personnummer": personnummer}, session=session)
        return {"preferences": preferences.deleted_count, "patient_inbox_items": inbox.deleted_count}
