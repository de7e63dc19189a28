"""MongoDB stores of the handover service: handovers (`handovers`), the one open handover per plan
(`open_handovers`, keyed by plan id) and the units' program versions (`unit_programs`)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.handover.domain.handover import Handover, HandoverState
from services.handover.domain.rules import UnitPrograms
from services.handover.domain.views import HandoverView
from shared.kernel.errors import Conflict
from shared.storage.documents import KeyedDocuments, from_document, to_document
from shared.storage.unit_of_work import ConcurrentModification

ALREADY_PENDING = "a handover of this plan is already pending"


class MongoHandoverRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._handovers = db["handovers"]
        self._open = db["open_handovers"]

    async def ensure_indexes(self) -> None:
        await self._handovers.create_index([("plan_id", ASCENDING)])
        await self._handovers.create_index([("to_unit_id", ASCENDING), ("state", ASCENDING)])

    async def add(self, handover: Handover, session: Any = None) -> None:
        if await self._open.find_one({"_id": handover.plan_id}, session=session) is not None:
            raise Conflict(ALREADY_PENDING, field="plan_id")
        try:
            await self._open.insert_one({"_id": handover.plan_id, "handover_id": handover.id}, session=session)
        except DuplicateKeyError:
            raise Conflict(ALREADY_PENDING, field="plan_id") from None
        await self._handovers.insert_one(to_document(handover), session=session)

    async def get(self, handover_id: str, session: Any = None) -> Handover | None:
        return from_document(Handover, await self._handovers.find_one({"_id": handover_id}, session=session))

    async def save(self, handover: Handover, session: Any = None) -> None:
        expected = handover.revision
        handover.revision += 1
        document = to_document(handover)
        result = await self._handovers.replace_one(
            {"_id": handover.id, "revision": expected}, document, session=session
        )
        if result.matched_count != 1:
            raise ConcurrentModification(handover.id)
        if not handover.open:
            await self._open.delete_one({"_id": handover.plan_id, "handover_id": handover.id}, session=session)

    async def history(self, plan_id: str, session: Any = None) -> list[Handover]:
        cursor = self._handovers.find({"plan_id": plan_id}, session=session)
        found = [h for h in [from_document(Handover, d) async for d in cursor] if h is not None]
        return sorted(found, key=lambda h: h.requested_at)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[dict[str, Any]]:
        """The history as the journal export reads it."""
        return [HandoverView.of(h).model_dump(mode="json") for h in await self.history(plan_id, session)]

    async def pending_for(self, unit_id: str, limit: int) -> list[Handover]:
        query = {"to_unit_id": unit_id, "state": HandoverState.PENDING.value}
        cursor = self._handovers.find(query).limit(limit)
        found = [h for h in [from_document(Handover, d) async for d in cursor] if h is not None]
        return sorted(found, key=lambda h: h.requested_at)


class MongoUnitPrograms(KeyedDocuments[UnitPrograms]):
    """Each unit's declared program versions, keyed by the unit's HSA-id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        super().__init__(db["unit_programs"], UnitPrograms, "unit_id")
