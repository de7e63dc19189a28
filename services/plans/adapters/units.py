"""MongoDB stores of the plans service's part in handovers: units' program versions (collection
`unit_programs`) and moving a plan's 'one active plan per patient, program and unit' key."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.plans.domain.plan import Plan
from services.plans.domain.units import UnitPrograms
from shared.storage.documents import KeyedDocuments

ACTIVE_KEYS = "active_plan_keys"


def active_key(unit_id: str, personnummer: str, program_id: str) -> str:
    """The key `MongoPlanRepository` writes when a plan starts (same format)."""
    return f"{unit_id}|{personnummer}|{program_id}"


class MongoUnitPrograms(KeyedDocuments[UnitPrograms]):
    """Each unit's declared program versions, keyed by the unit's HSA-id."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        super().__init__(db["unit_programs"], UnitPrograms, "unit_id")


class MongoActiveKeys:
    """The unique key of an active plan, moved with the plan (looked up first: a failed insert would
    abort the transaction that must still publish the refusal)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._keys = db[ACTIVE_KEYS]

    async def move(self, plan: Plan, from_unit_id: str, session: Any = None) -> bool:
        new = active_key(plan.unit_id, plan.patient_personnummer, plan.program_id)
        taken = await self._keys.find_one({"_id": new}, session=session)
        if taken is not None and taken.get("plan_id") != plan.id:
            return False
        old = active_key(from_unit_id, plan.patient_personnummer, plan.program_id)
        await self._keys.delete_one({"_id": old, "plan_id": plan.id}, session=session)
        if taken is None and plan.active:
            await self._keys.insert_one({"_id": new, "plan_id": plan.id}, session=session)
        return True
