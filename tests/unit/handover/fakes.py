"""In-memory stand-ins for the handover service's stores."""

from __future__ import annotations

from typing import Any

from services.handover.domain.handover import Handover, HandoverState
from services.handover.domain.rules import UnitPrograms
from shared.kernel.errors import Conflict
from shared.storage.unit_of_work import ConcurrentModification


class InMemoryHandovers:
    """Handovers in a dict; at most one open per plan, as the MongoDB store's `open_handovers` key."""

    def __init__(self) -> None:
        self.items: dict[str, Handover] = {}

    async def add(self, handover: Handover, session: Any = None) -> None:
        if any(h.plan_id == handover.plan_id and h.open for h in self.items.values()):
            raise Conflict("a handover of this plan is already pending", field="plan_id")
        self.items[handover.id] = handover.model_copy(deep=True)

    async def get(self, handover_id: str, session: Any = None) -> Handover | None:
        found = self.items.get(handover_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, handover: Handover, session: Any = None) -> None:
        stored = self.items.get(handover.id)
        if stored is None or stored.revision != handover.revision:
            raise ConcurrentModification(handover.id)
        handover.revision += 1
        self.items[handover.id] = handover.model_copy(deep=True)

    async def history(self, plan_id: str, session: Any = None) -> list[Handover]:
        found = [h.model_copy(deep=True) for h in self.items.values() if h.plan_id == plan_id]
        return sorted(found, key=lambda h: h.requested_at)

    async def pending_for(self, unit_id: str, limit: int) -> list[Handover]:
        found = [h for h in self.items.values() if h.to_unit_id == unit_id and h.state is HandoverState.PENDING]
        return [h.model_copy(deep=True) for h in sorted(found, key=lambda h: h.requested_at)[:limit]]


class InMemoryUnitPrograms:
    def __init__(self) -> None:
        self.items: dict[str, UnitPrograms] = {}

    async def get(self, unit_id: str, session: Any = None) -> UnitPrograms | None:
        found = self.items.get(unit_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, units: UnitPrograms, session: Any = None) -> None:
        self.items[units.unit_id] = units.model_copy(deep=True)
