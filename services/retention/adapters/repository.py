"""MongoDB repository of retention schedules."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.retention.domain.model import RetentionSchedule


class ScheduleRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db["schedules"]

    async def get(self, plan_id: str, session: AsyncClientSession | None = None) -> RetentionSchedule | None:
        doc = await self._collection.find_one({"_id": plan_id}, session=session)
        return RetentionSchedule.model_validate(doc) if doc else None

    async def save(self, schedule: RetentionSchedule, session: AsyncClientSession | None) -> None:
        await self._collection.replace_one(
            {"_id": schedule.plan_id}, {"_id": schedule.plan_id, **schedule.model_dump()}, upsert=True, session=session
        )
