"""Where a service keeps its copy of plans' ownership (collection `plan_ownership`)."""

from __future__ import annotations

from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.ownership.model import PlanOwnership

OWNERSHIP_COLLECTION = "plan_ownership"


class OwnershipRepository(Protocol):
    """Read and write plans' ownership (a fake in tests, MongoDB in the services)."""

    async def get(self, plan_id: str, session: Any = None) -> PlanOwnership | None: ...

    async def save(self, ownership: PlanOwnership, session: Any = None) -> None: ...

    async def of_patient(self, personnummer: str, session: Any = None) -> list[PlanOwnership]: ...


class MongoOwnershipRepository:
    """Plans' ownership in the service's own database, keyed by plan id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db[OWNERSHIP_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("patient_personnummer", ASCENDING)])

    async def get(self, plan_id: str, session: Any = None) -> PlanOwnership | None:
        doc = await self._collection.find_one({"_id": plan_id}, session=session)
        return PlanOwnership.model_validate(doc) if doc else None

    async def save(self, ownership: PlanOwnership, session: Any = None) -> None:
        await self._collection.replace_one(
            {"_id": ownership.plan_id},
            {"_id": ownership.plan_id, **ownership.model_dump()},
            upsert=True,
            session=session,
        )

    async def of_patient(self, personnummer: str, session: Any = None) -> list[PlanOwnership]:
        cursor = self._collection.find({"patient_personnummer": personnummer}, session=session)
        return [PlanOwnership.model_validate(doc) async for doc in cursor]
