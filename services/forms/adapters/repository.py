"""MongoDB stores of the forms service: form versions, forms' plan state, responses, flags and rules."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.forms.domain.battery import FlagRule
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag, PlanForms, Response
from shared.ownership import OwnershipState
from shared.ownership.repository import OWNERSHIP_COLLECTION
from shared.storage.documents import from_document, to_document

Db = AsyncDatabase[dict[str, Any]]


class MongoFormStore:
    def __init__(self, db: Db) -> None:
        self.forms = db["forms"]

    async def ensure_indexes(self) -> None:
        await self.forms.create_index([("form_id", ASCENDING)])

    async def latest(self, form_id: str) -> FormDefinition | None:
        docs = [d async for d in self.forms.find({"form_id": form_id})]
        if not docs:
            return None
        return FormDefinition.model_validate(max(docs, key=lambda d: d["version"])["definition"])

    async def version(self, form_id: str, version: int) -> FormDefinition | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"})
        return FormDefinition.model_validate(doc["definition"]) if doc else None

    async def digest(self, form_id: str, version: int, session: Any = None) -> str | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"}, {"digest": 1}, session=session)
        return doc["digest"] if doc else None

    async def add(self, form: FormDefinition, digest: str, by: str, session: Any) -> None:
        await self.forms.insert_one(
            {
                "_id": f"{form.form_id}@{form.version}",
                "form_id": form.form_id,
                "version": form.version,
                "digest": digest,
                "published_by": by,
                "definition": form.model_dump(mode="json"),
            },
            session=session,
        )


class MongoPlanFormsStore:
    """Collection `plans`: forms' own state of each plan (documents written before ownership moved to
    `plan_ownership` still carry unit and patient fields; they are ignored)."""

    def __init__(self, db: Db) -> None:
        self.plans = db["plans"]

    async def get(self, plan_id: str, session: Any = None) -> PlanForms | None:
        doc = await self.plans.find_one({"_id": plan_id}, session=session)
        return PlanForms.model_validate(doc) if doc else None

    async def save(self, plan: PlanForms, session: Any) -> None:
        await self.plans.replace_one(
            {"_id": plan.plan_id}, {"_id": plan.plan_id, **plan.model_dump()}, upsert=True, session=session
        )


class MongoUnitPlans:
    """The plans a unit holds now, read from this service's copy of plans' ownership."""

    def __init__(self, db: Db) -> None:
        self.ownership = db[OWNERSHIP_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.ownership.create_index([("unit_id", ASCENDING)])

    async def active_plan_ids(self, unit_id: str, session: Any = None) -> list[str]:
        query = {"unit_id": unit_id, "state": OwnershipState.ACTIVE.value}
        return [d["_id"] async for d in self.ownership.find(query, {"_id": 1}, session=session)]


class MongoResponseStore:
    def __init__(self, db: Db) -> None:
        self.responses = db["responses"]

    async def ensure_indexes(self) -> None:
        await self.responses.create_index([("plan_id", ASCENDING), ("form_id", ASCENDING)])

    async def save(self, response: Response, session: Any) -> None:
        await self.responses.replace_one({"_id": response.id}, to_document(response), upsert=True, session=session)

    async def get(self, response_id: str, session: Any = None) -> Response | None:
        return from_document(Response, await self.responses.find_one({"_id": response_id}, session=session))

    async def of_plan(self, plan_id: str, form_id: str, session: Any = None) -> list[Response]:
        cursor = self.responses.find({"plan_id": plan_id, "form_id": form_id}, session=session)
        found = [from_document(Response, d) async for d in cursor]
        return sorted((r for r in found if r is not None), key=lambda r: r.submitted_at or r.created_at)


class MongoFlagStore:
    def __init__(self, db: Db) -> None:
        self.flags = db["flags"]

    async def ensure_indexes(self) -> None:
        await self.flags.create_index([("plan_id", ASCENDING)])

    async def add(self, flag: Flag, session: Any) -> bool:
        result = await self.flags.update_one(
            {"_id": flag.id}, {"$setOnInsert": to_document(flag)}, upsert=True, session=session
        )
        return result.upserted_id is not None

    async def get(self, flag_id: str, session: Any = None) -> Flag | None:
        return from_document(Flag, await self.flags.find_one({"_id": flag_id}, session=session))

    async def save(self, flag: Flag, session: Any) -> None:
        await self.flags.replace_one({"_id": flag.id}, to_document(flag), session=session)

    async def of_plan(self, plan_id: str) -> list[Flag]:
        return [f for f in [from_document(Flag, d) async for d in self.flags.find({"plan_id": plan_id})] if f]


class MongoFlagRuleStore:
    def __init__(self, db: Db) -> None:
        self.rules = db["flag_rules"]

    async def ensure_indexes(self) -> None:
        await self.rules.create_index([("unit_id", ASCENDING)])

    async def add(self, rule: FlagRule, session: Any) -> None:
        await self.rules.insert_one(to_document(rule), session=session)

    async def delete(self, rule_id: str, unit_id: str, session: Any) -> bool:
        result = await self.rules.delete_one({"_id": rule_id, "unit_id": unit_id}, session=session)
        return result.deleted_count == 1

    async def get(self, rule_id: str, session: Any = None) -> FlagRule | None:
        return from_document(FlagRule, await self.rules.find_one({"_id": rule_id}, session=session))

    async def of_unit(self, unit_id: str, session: Any = None) -> list[FlagRule]:
        docs = [d async for d in self.rules.find({"unit_id": unit_id}, session=session)]
        return sorted((r for r in (from_document(FlagRule, d) for d in docs) if r), key=lambda r: r.created_at)
