"""MongoDB side of notifications' export: the ledger's deliveries about one plan, by plan id."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.domain.model import Delivery


class MongoPlanDeliveries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._deliveries = db["deliveries"]

    async def ensure_indexes(self) -> None:
        """The ledger is otherwise read by trigger; the export (and the purge) read it by plan."""
        await self._deliveries.create_index([("plan_id", ASCENDING)])

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Delivery]:
        cursor = self._deliveries.find({"plan_id": plan_id}, session=session)
        return [Delivery.model_validate({**d, "id": d["_id"]}) async for d in cursor]
