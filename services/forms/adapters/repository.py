"""MongoDB repositories of the forms service."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag, PlanForms, Response
from shared.documents import from_document, to_document

Session = AsyncClientSession | None


class FormsRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.forms = db["forms"]
        self.plans = db["plans"]
        self.responses = db["responses"]
        self.flags = db["flags"]

    async def ensure_indexes(self) -> None:
        await self.forms.create_index([("form_id", ASCENDING)])
        await self.responses.create_index([("plan_id", ASCENDING), ("form_id", ASCENDING)])
        await self.flags.create_index([("plan_id", ASCENDING)])

    async def latest_form(self, form_id: str) -> FormDefinition | None:
        docs = [d async for d in self.forms.find({"form_id": form_id})]
        if not docs:
            return None
        return FormDefinition.model_validate(max(docs, key=lambda d: d["version"])["definition"])

    async def form(self, form_id: str, version: int) -> FormDefinition | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"})
        return FormDefinition.model_validate(doc["definition"]) if doc else None

    async def add_form(self, form: FormDefinition, digest: str, by: str, session: Session) -> None:
        await self.forms.insert_one({"_id": f"{form.form_id}@{form.version}", "form_id": form.form_id,
                                     "version": form.version, "digest": digest, "published_by": by,
                                     "definition": form.model_dump(mode="json")}, session=session)

    async def form_digest(self, form_id: str, version: int, session: Session = None) -> str | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"}, {"digest": 1}, session=session)
        return doc["digest"] if doc else None

    async def plan(self, plan_id: str, session: Session = None) -> PlanForms | None:
        doc = await self.plans.find_one({"_id": plan_id}, session=session)
        return PlanForms.model_validate(doc) if doc else None

    async def save_plan(self, plan: PlanForms, session: Session) -> None:
        await self.plans.replace_one({"_id": plan.plan_id}, {"_id": plan.plan_id, **plan.model_dump()}, upsert=True,
                                     session=session)

    async def save_response(self, response: Response, session: Session) -> None:
        await self.responses.replace_one({"_id": response.id}, to_document(response), upsert=True, session=session)

    async def response(self, response_id: str, session: Session = None) -> Response | None:
        return from_document(Response, await self.responses.find_one({"_id": response_id}, session=session))

    async def responses_of(self, plan_id: str, form_id: str) -> list[Response]:
        cursor = self.responses.find({"plan_id": plan_id, "form_id": form_id})
        found = [from_document(Response, d) async for d in cursor]
        return sorted((r for r in found if r is not None), key=lambda r: r.submitted_at or r.created_at)

    async def add_flag(self, flag: Flag, session: Session) -> None:
        await self.flags.insert_one(to_document(flag), session=session)

    async def flag(self, flag_id: str, session: Session = None) -> Flag | None:
        return from_document(Flag, await self.flags.find_one({"_id": flag_id}, session=session))

    async def save_flag(self, flag: Flag, session: Session) -> None:
        await self.flags.replace_one({"_id": flag.id}, to_document(flag), session=session)

    async def flags_of(self, plan_id: str) -> list[Flag]:
        return [f for f in [from_document(Flag, d) async for d in self.flags.find({"plan_id": plan_id})] if f]
