"""In-memory stand-ins for the plans service's handover stores (units' program versions, active keys)."""

from __future__ import annotations

from typing import Any

from services.plans.domain.plan import Plan
from services.plans.domain.units import UnitPrograms
from tests.unit.plans.fakes import InMemoryPlanRepository


class InMemoryUnitPrograms:
    def __init__(self) -> None:
        self.items: dict[str, UnitPrograms] = {}

    async def get(self, unit_id: str, session: Any = None) -> UnitPrograms | None:
        found = self.items.get(unit_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, units: UnitPrograms, session: Any = None) -> None:
        self.items[units.unit_id] = units.model_copy(deep=True)


class InMemoryActiveKeys:
    """Reads the plans themselves, as the fake plan repository's own uniqueness rule does."""

    def __init__(self, plans: InMemoryPlanRepository) -> None:
        self.plans = plans

    async def move(self, plan: Plan, from_unit_id: str, session: Any = None) -> bool:
        return not any(
            p.id != plan.id
            and p.active
            and (p.unit_id, p.patient_personnummer, p.program_id)
            == (plan.unit_id, plan.patient_personnummer, plan.program_id)
            for p in self.plans.items.values()
        )
