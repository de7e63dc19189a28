"""Every MongoDB store of the forms service, as the service is built with them, and their indexes."""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.forms.adapters.planning_repository import MongoActivityStore, MongoBatteryStore, MongoTimerRegistry
from services.forms.adapters.repository import (
    MongoFlagRuleStore,
    MongoFlagStore,
    MongoFormStore,
    MongoPlanFormsStore,
    MongoResponseStore,
    MongoUnitPlans,
)
from services.forms.service_layer.ports import Stores
from shared.ownership import MongoOwnershipRepository


def mongo_stores(db: AsyncDatabase[dict[str, Any]]) -> Stores:
    return Stores(
        forms=MongoFormStore(db),
        plans=MongoPlanFormsStore(db),
        ownership=MongoOwnershipRepository(db),
        unit_plans=MongoUnitPlans(db),
        responses=MongoResponseStore(db),
        flags=MongoFlagStore(db),
        rules=MongoFlagRuleStore(db),
        batteries=MongoBatteryStore(db),
        activities=MongoActivityStore(db),
        timers=MongoTimerRegistry(db),
    )


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """The indexes of forms' own stores (plans' ownership copy has its own, see bootstrap)."""
    stores: list[Any] = [
        MongoFormStore(db),
        MongoUnitPlans(db),
        MongoResponseStore(db),
        MongoFlagStore(db),
        MongoFlagRuleStore(db),
        MongoBatteryStore(db),
        MongoActivityStore(db),
        MongoTimerRegistry(db),
    ]
    await asyncio.gather(*(s.ensure_indexes() for s in stores))
