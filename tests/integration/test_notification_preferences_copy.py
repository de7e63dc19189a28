"""The copy of a patient's preferences on their plans (what an announcement's fan-out reads) ends up
as the patient's latest choice even when the choice is made while the plan's start is processed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from services.notifications.adapters.repository import NotificationsRepository
from services.notifications.domain.model import PlanRecipient, Preferences
from services.notifications.service_layer.handlers import NotificationsService
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.storage.unit_of_work import MongoUnitOfWork
from tests.conftest import new_personnummer

pytestmark = pytest.mark.integration


async def test_a_choice_made_as_the_plan_starts_reaches_the_plan(servers: Platform) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_prefs_{uuid.uuid4().hex[:8]}"]
    clock = FixedClock(datetime(2026, 11, 23, 12, tzinfo=UTC))
    uow = MongoUnitOfWork(
        client, db, clock=clock, source="/tests", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )
    repo = NotificationsRepository(db)
    await repo.ensure_indexes()
    service = NotificationsService(uow, repo, None, None)  # type: ignore[arg-type]

    async def start_while_choosing(n: int) -> tuple[str, str]:
        personnummer = new_personnummer()
        plan = PlanRecipient(
            plan_id=str(uuid.uuid4()),
            unit_id="SE2321000016-PREF1",
            patient_personnummer=personnummer,
            program_id="p",
            program_version="1",
            responsible_hsa_id="SE2321000016-T001",
        )
        await asyncio.gather(
            service.on_plan_started(plan, None, None),  # type: ignore[arg-type]
            repo.save_preferences(personnummer, Preferences(email_enabled=True, email=f"p{n}@example.se")),
        )
        return plan.plan_id, f"p{n}@example.se"

    try:
        for round_ in range(5):
            for plan_id, email in await asyncio.gather(*(start_while_choosing(10 * round_ + i) for i in range(10))):
                copy = (await db["plans"].find_one({"_id": plan_id}))["preferences"]  # type: ignore[index]
                assert (copy["email_enabled"], copy["email"]) == (True, email)
    finally:
        await client.drop_database(db.name)
        await client.close()
