"""MongoDB repositories of the plans service (the ports of `services.plans.service_layer.ports`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.plans.domain.flags import Flag
from services.plans.domain.lists import ListFilter
from services.plans.domain.plan import Plan, PlanStatus
from services.plans.domain.program import ProgramSummary, ProgramVersion
from shared.kernel.errors import Conflict
from shared.storage.documents import from_document, to_document
from shared.storage.unit_of_work import ConcurrentModification

Session = AsyncClientSession | None
READ_MODEL_FIELDS = {"_id", "flags", "last_active_at"}
"""Fields other services' events maintain; a plan save never overwrites them."""


class MongoProgramRepository:
    """Published program versions; immutable, so they are cached once read."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db["programs"]
        self._cache: dict[tuple[str, str], ProgramVersion] = {}

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("program_id", ASCENDING), ("version", ASCENDING)], unique=True)

    async def get(self, program_id: str, version: str, session: Session = None) -> ProgramVersion | None:
        cached = self._cache.get((program_id, version))
        if cached:
            return cached
        doc = await self._collection.find_one({"program_id": program_id, "version": version}, session=session)
        if doc is None:
            return None
        program = ProgramVersion.model_validate(doc["content"])
        self._cache[(program_id, version)] = program
        return program

    async def digest(self, program_id: str, version: str, session: Session = None) -> str | None:
        doc = await self._collection.find_one(
            {"program_id": program_id, "version": version}, {"digest": 1}, session=session
        )
        return doc["digest"] if doc else None

    async def add(self, program: ProgramVersion, *, published_by: str, now: datetime, session: Session) -> None:
        await self._collection.insert_one(
            {
                "_id": f"{program.program_id}@{program.version}",
                "program_id": program.program_id,
                "version": program.version,
                "title": program.title,
                "kind": program.kind,
                "digest": program.digest(),
                "published_by": published_by,
                "published_at": now,
                "content": program.model_dump(mode="json"),
            },
            session=session,
        )

    async def catalogue(self) -> list[ProgramSummary]:
        cursor = self._collection.find({}, {"content": 0, "_id": 0}).sort([("program_id", 1), ("version", 1)])
        return [ProgramSummary.model_validate(doc) async for doc in cursor]


class MongoPlanRepository:
    """Plans, and the rule 'one active plan per patient, program and unit' as a unique key."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._plans = db["plans"]
        self._active_keys = db["active_plan_keys"]

    async def ensure_indexes(self) -> None:
        await self._plans.create_index([("unit_id", ASCENDING), ("status", ASCENDING), ("started_at", DESCENDING)])
        await self._plans.create_index(
            [
                ("unit_id", ASCENDING),
                ("status", ASCENDING),
                ("responsible_hsa_id", ASCENDING),
                ("started_at", DESCENDING),
            ]
        )
        await self._plans.create_index([("unit_id", ASCENDING), ("status", ASCENDING), ("flags.kind", ASCENDING)])

    @staticmethod
    def _active_key(plan: Plan) -> str:
        return f"{plan.unit_id}|{plan.patient_personnummer}|{plan.program_id}"

    async def add(self, plan: Plan, session: Session) -> None:
        try:
            await self._active_keys.insert_one({"_id": self._active_key(plan), "plan_id": plan.id}, session=session)
        except DuplicateKeyError:
            raise Conflict(
                "the patient already has an active plan of this program at this unit", field="program_id"
            ) from None
        await self._plans.insert_one(to_document(plan), session=session)

    async def get(self, plan_id: str, session: Session = None) -> Plan | None:
        doc = await self._plans.find_one({"_id": plan_id}, session=session)
        return from_document(Plan, doc)

    async def save(self, plan: Plan, session: Session) -> None:
        """Write a changed plan; fails if it changed since it was read (the unit of work then re-runs)."""
        expected = plan.revision
        plan.revision += 1
        fields = {k: v for k, v in to_document(plan).items() if k not in READ_MODEL_FIELDS}
        result = await self._plans.update_one({"_id": plan.id, "revision": expected}, {"$set": fields}, session=session)
        if result.matched_count != 1:
            raise ConcurrentModification(plan.id)
        if plan.status is PlanStatus.ENDED:
            await self._active_keys.delete_one({"_id": self._active_key(plan), "plan_id": plan.id}, session=session)

    async def for_unit(
        self, unit_id: str, *, status: PlanStatus, filters: ListFilter, skip: int, limit: int
    ) -> tuple[list[Plan], int]:
        """One page of the unit's plans, newest first, and the total that match."""
        query: dict[str, Any] = {"unit_id": unit_id, "status": status.value}
        if filters.responsible_hsa_id:
            query["responsible_hsa_id"] = filters.responsible_hsa_id
        if filters.program_id:
            query["program_id"] = filters.program_id
        if filters.flag:
            query["flags.kind"] = filters.flag.value
        if filters.flagged is not None:
            query["flags.0"] = {"$exists": filters.flagged}
        total = await self._plans.count_documents(query)
        cursor = self._plans.find(query).sort([("started_at", DESCENDING), ("_id", ASCENDING)]).skip(skip).limit(limit)
        found = [from_document(Plan, d) async for d in cursor]
        return [plan for plan in found if plan is not None], total


class MongoFlagStore:
    """Flags and last activity on plan documents, changed by atomic updates (never lost to a concurrent save)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._plans = db["plans"]

    async def raise_flag(self, plan_id: str, flag: Flag, session: Session) -> None:
        """Add or replace the flag with this key."""
        await self._plans.update_one({"_id": plan_id}, {"$pull": {"flags": {"key": flag.key}}}, session=session)
        await self._plans.update_one({"_id": plan_id}, {"$push": {"flags": flag.model_dump()}}, session=session)

    async def clear_flag(self, plan_id: str, key: str, session: Session) -> None:
        await self._plans.update_one({"_id": plan_id}, {"$pull": {"flags": {"key": key}}}, session=session)

    async def touch(self, plan_id: str, at: datetime, session: Session = None) -> None:
        """Record patient activity (never moves backwards)."""
        await self._plans.update_one(
            {"_id": plan_id, "$or": [{"last_active_at": None}, {"last_active_at": {"$lt": at}}]},
            {"$set": {"last_active_at": at}},
            session=session,
        )
