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
from services.notifications.adapters.recipients import MongoRecipients
from services.notifications.domain.model import Announcement, PlanRecipient, Preferences
from services.notifications.service_layer.read_model import RecipientProjector
from tests.conftest import new_personnummer

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def test_a_choice_made_as_the_plan_starts_reaches_the_plan(servers: Platform) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_prefs_{uuid.uuid4().hex[:8]}"]
    recipients = MongoRecipients(db)
    await recipients.ensure_indexes()
    projector = RecipientProjector(recipients)

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
            projector.on_plan_started(plan, None, None),
            recipients.save_preferences(personnummer, Preferences(email_enabled=True, email=f"p{n}@example.se")),
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


async def test_an_ended_plan_is_not_fanned_out_to_even_when_its_start_is_seen_again(servers: Platform) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_prefs_{uuid.uuid4().hex[:8]}"]
    recipients = MongoRecipients(db)
    unit = "SE2321000016-PREF2"
    plan = PlanRecipient(
        plan_id=str(uuid.uuid4()),
        unit_id=unit,
        patient_personnummer=new_personnummer(),
        program_id="p",
        program_version="1",
        responsible_hsa_id="SE2321000016-T001",
    )
    announcement = Announcement(
        id="a", scope="unit", unit_id=unit, subject="s", text="t", channels=["inbox"], created_by="x", created_at=NOW
    )
    try:
        await RecipientProjector(recipients).on_plan_started(plan, None, None)
        assert [r.plan_id async for r in recipients.fanout(announcement)] == [plan.plan_id]
        await recipients.end(plan.plan_id)
        await RecipientProjector(recipients).on_plan_started(plan, None, None)  # a replay
        assert [r async for r in recipients.fanout(announcement)] == []
    finally:
        await client.drop_database(db.name)
        await client.close()
