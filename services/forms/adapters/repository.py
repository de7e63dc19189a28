"""MongoDB repositories of the forms service."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.forms.domain.activity import ActivityPlan, Registration
from services.forms.domain.battery import Battery, FlagRule, StartBattery
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag, PlanForms, Response
from shared.storage.documents import from_document, to_document

Session = AsyncClientSession | None


class FormsRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.forms = db["forms"]
        self.plans = db["plans"]
        self.responses = db["responses"]
        self.flags = db["flags"]
        self.batteries = db["batteries"]
        self.start_batteries = db["start_batteries"]
        self.flag_rules = db["flag_rules"]
        self.activity_plans = db["activity_plans"]
        self.registrations = db["registrations"]

    async def ensure_indexes(self) -> None:
        await self.forms.create_index([("form_id", ASCENDING)])
        await self.plans.create_index([("unit_id", ASCENDING)])
        await self.responses.create_index([("plan_id", ASCENDING), ("form_id", ASCENDING)])
        await self.flags.create_index([("plan_id", ASCENDING)])
        await self.batteries.create_index([("plan_id", ASCENDING)])
        await self.flag_rules.create_index([("unit_id", ASCENDING)])
        await self.activity_plans.create_index([("plan_id", ASCENDING)])
        await self.registrations.create_index([("activity_plan_id", ASCENDING)])

    async def latest_form(self, form_id: str) -> FormDefinition | None:
        docs = [d async for d in self.forms.find({"form_id": form_id})]
        if not docs:
            return None
        return FormDefinition.model_validate(max(docs, key=lambda d: d["version"])["definition"])

    async def form(self, form_id: str, version: int) -> FormDefinition | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"})
        return FormDefinition.model_validate(doc["definition"]) if doc else None

    async def add_form(self, form: FormDefinition, digest: str, by: str, session: Session) -> None:
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

    async def form_digest(self, form_id: str, version: int, session: Session = None) -> str | None:
        doc = await self.forms.find_one({"_id": f"{form_id}@{version}"}, {"digest": 1}, session=session)
        return doc["digest"] if doc else None

    async def plan(self, plan_id: str, session: Session = None) -> PlanForms | None:
        doc = await self.plans.find_one({"_id": plan_id}, session=session)
        return PlanForms.model_validate(doc) if doc else None

    async def save_plan(self, plan: PlanForms, session: Session) -> None:
        await self.plans.replace_one(
            {"_id": plan.plan_id}, {"_id": plan.plan_id, **plan.model_dump()}, upsert=True, session=session
        )

    async def save_response(self, response: Response, session: Session) -> None:
        await self.responses.replace_one({"_id": response.id}, to_document(response), upsert=True, session=session)

    async def response(self, response_id: str, session: Session = None) -> Response | None:
        return from_document(Response, await self.responses.find_one({"_id": response_id}, session=session))

    async def responses_of(self, plan_id: str, form_id: str) -> list[Response]:
        cursor = self.responses.find({"plan_id": plan_id, "form_id": form_id})
        found = [from_document(Response, d) async for d in cursor]
        return sorted((r for r in found if r is not None), key=lambda r: r.submitted_at or r.created_at)

    async def add_flag(self, flag: Flag, session: Session) -> bool:
        """Store a flag; False if it was raised before (its id says what raised it)."""
        result = await self.flags.update_one(
            {"_id": flag.id}, {"$setOnInsert": to_document(flag)}, upsert=True, session=session
        )
        return result.upserted_id is not None

    async def flag(self, flag_id: str, session: Session = None) -> Flag | None:
        return from_document(Flag, await self.flags.find_one({"_id": flag_id}, session=session))

    async def save_flag(self, flag: Flag, session: Session) -> None:
        await self.flags.replace_one({"_id": flag.id}, to_document(flag), session=session)

    async def flags_of(self, plan_id: str) -> list[Flag]:
        return [f for f in [from_document(Flag, d) async for d in self.flags.find({"plan_id": plan_id})] if f]

    async def active_plans_of_unit(self, unit_id: str, session: Session = None) -> list[PlanForms]:
        cursor = self.plans.find({"unit_id": unit_id}, session=session)
        return [p for p in [PlanForms.model_validate(d) async for d in cursor] if p.active]

    # -- batteries -----------------------------------------------------------------------------
    async def save_battery(self, battery: Battery, session: Session) -> None:
        await self.batteries.replace_one({"_id": battery.id}, to_document(battery), upsert=True, session=session)

    async def battery(self, battery_id: str, session: Session = None) -> Battery | None:
        return from_document(Battery, await self.batteries.find_one({"_id": battery_id}, session=session))

    async def batteries_of(self, plan_id: str, session: Session = None) -> list[Battery]:
        docs = [d async for d in self.batteries.find({"plan_id": plan_id}, session=session)]
        return sorted((b for b in (from_document(Battery, d) for d in docs) if b), key=lambda b: b.created_at)

    async def set_start_battery(self, program_id: str, battery: StartBattery, session: Session) -> None:
        await self.start_batteries.replace_one({"_id": program_id}, battery.model_dump(), upsert=True, session=session)

    async def start_battery(self, program_id: str, session: Session = None) -> StartBattery | None:
        doc = await self.start_batteries.find_one({"_id": program_id}, {"_id": 0}, session=session)
        return StartBattery.model_validate(doc) if doc else None

    # -- flag rules ----------------------------------------------------------------------------
    async def add_flag_rule(self, rule: FlagRule, session: Session) -> None:
        await self.flag_rules.insert_one(to_document(rule), session=session)

    async def delete_flag_rule(self, rule_id: str, unit_id: str, session: Session) -> bool:
        result = await self.flag_rules.delete_one({"_id": rule_id, "unit_id": unit_id}, session=session)
        return result.deleted_count == 1

    async def flag_rule(self, rule_id: str, session: Session = None) -> FlagRule | None:
        return from_document(FlagRule, await self.flag_rules.find_one({"_id": rule_id}, session=session))

    async def flag_rules_of(self, unit_id: str, session: Session = None) -> list[FlagRule]:
        docs = [d async for d in self.flag_rules.find({"unit_id": unit_id}, session=session)]
        return sorted((r for r in (from_document(FlagRule, d) for d in docs) if r), key=lambda r: r.created_at)

    # -- activity plans ------------------------------------------------------------------------
    async def save_activity_plan(self, plan: ActivityPlan, session: Session) -> None:
        await self.activity_plans.replace_one({"_id": plan.id}, to_document(plan), upsert=True, session=session)

    async def activity_plan(self, activity_plan_id: str, session: Session = None) -> ActivityPlan | None:
        return from_document(
            ActivityPlan, await self.activity_plans.find_one({"_id": activity_plan_id}, session=session)
        )

    async def activity_plans_of(self, plan_id: str) -> list[ActivityPlan]:
        docs = [d async for d in self.activity_plans.find({"plan_id": plan_id})]
        return [p for p in (from_document(ActivityPlan, d) for d in docs) if p]

    async def add_registration(self, registration: Registration, session: Session) -> None:
        await self.registrations.insert_one(to_document(registration), session=session)

    async def registration(self, registration_id: str, session: Session = None) -> Registration | None:
        return from_document(Registration, await self.registrations.find_one({"_id": registration_id}, session=session))

    async def registrations_of(self, activity_plan_id: str) -> list[Registration]:
        docs = [d async for d in self.registrations.find({"activity_plan_id": activity_plan_id})]
        return sorted((r for r in (from_document(Registration, d) for d in docs) if r), key=lambda r: r.occasion)
