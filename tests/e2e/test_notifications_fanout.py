"""Fan-out that holds: the notifications process is SIGKILLed in the middle of an announcement and
restarted; every recipient gets exactly one delivery per channel."""

from __future__ import annotations

import re

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.loadtest import recipient_documents
from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, service_db
from tests.support.kafka_helpers import eventually
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
FANOUT_UNIT = "SE2321000016-FAN01"
RECIPIENTS = 600


async def seed_recipients(platform: Platform, count: int) -> None:
    """Recipients in notifications' own read model (as if their plans' start events had been consumed)."""
    client: AsyncMongoClient[dict] = AsyncMongoClient(platform.addresses.mongodb_uri)
    db = service_db(platform, client, "notifications")
    documents = [
        recipient_documents(
            f"fan-plan-{i}",
            FANOUT_UNIT,
            f"1990{i:08d}",  # ids only: never validated
            {"email_enabled": False, "email": None, "sms_enabled": True, "phone": f"+4670{i:07d}"},
        )
        for i in range(count)
    ]
    await db["preferences"].insert_many([chosen for _, chosen in documents])
    await db["plans"].insert_many([plan for plan, _ in documents])
    await client.close()


async def test_fan_out_survives_a_killed_service_without_loss_or_duplicates(platform: Platform, tokens: Tokens) -> None:
    await seed_recipients(platform, RECIPIENTS)
    admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=FANOUT_UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        created = await api.post(
            "/announcements",
            headers=admin,
            json={
                "scope": "unit",
                "subject": "Ny adress",
                "text": "Mottagningen har flyttat.",
                "channels": ["inbox", "sms"],
            },
        )
        assert created.status_code == 201
    announcement_id = created.json()["id"]
    prefix = f"announcement:{announcement_id}|"

    def sms_for_announcement() -> list[dict]:
        return [m for m in received(platform, "sms") if m["key"].startswith(prefix)]

    await eventually(lambda: len(sms_for_announcement()) >= 60, timeout=60)
    platform.stop_service("notifications", kill=True)  # in the middle of the fan-out
    assert len(sms_for_announcement()) < RECIPIENTS, "the fan-out finished before the kill: raise RECIPIENTS"
    platform.start_service("notifications")
    platform.wait_ready(["notifications"])

    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:

        async def finished() -> dict | None:
            progress = (await api.get(f"/announcements/{announcement_id}", headers=admin)).json()
            return progress if progress["deliveries"].get("sent") == 2 * RECIPIENTS else None

        progress = await eventually(finished, timeout=120)
        ledger = (await api.get(f"/announcements/{announcement_id}", params={"by_state": "true"}, headers=admin)).json()
        assert ledger["deliveries"] == {"sent": 2 * RECIPIENTS}  # the counters agree with the ledger
    assert progress["announcement"]["recipients"] == RECIPIENTS
    assert progress["deliveries"] == {"sent": 2 * RECIPIENTS}

    delivered = sms_for_announcement()
    keys = [m["key"] for m in delivered]
    assert len(set(keys)) == RECIPIENTS, f"lost: {RECIPIENTS - len(set(keys))}"
    assert len(keys) == len(set(keys)), f"duplicated: {len(keys) - len(set(keys))}"
    assert sorted(m["to"] for m in delivered) == sorted(f"+4670{i:07d}" for i in range(RECIPIENTS))
    client: AsyncMongoClient[dict] = AsyncMongoClient(platform.addresses.mongodb_uri)
    inbox = service_db(platform, client, "notifications")["inbox"]
    assert await inbox.count_documents({"_id": {"$regex": f"^{re.escape(prefix)}"}}) == RECIPIENTS
    await client.close()


async def test_a_number_the_gateway_refuses_in_a_batch_fails_alone(platform: Platform, tokens: Tokens) -> None:
    unit = "SE2321000016-FAN02"
    client: AsyncMongoClient[dict] = AsyncMongoClient(platform.addresses.mongodb_uri)
    db = service_db(platform, client, "notifications")
    numbers = ["+46701230001", "0701230002", "+46701230003"]  # the middle one never passed our validation
    for i, number in enumerate(numbers):
        plan, _ = recipient_documents(
            f"refused-plan-{i}",
            unit,
            f"1991{i:08d}",
            {"email_enabled": False, "email": None, "sms_enabled": True, "phone": number},
        )
        await db["plans"].insert_one(plan)
    await client.close()
    admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        created = await api.post(
            "/announcements",
            headers=admin,
            json={
                "scope": "unit",
                "subject": "Info",
                "text": "Nytt telefonnummer till mottagningen.",
                "channels": ["sms"],
            },
        )
        announcement_id = created.json()["id"]

        async def finished() -> dict | None:
            progress = (await api.get(f"/announcements/{announcement_id}", headers=admin)).json()
            return progress if sum(progress["deliveries"].values()) == 3 else None

        assert (await eventually(finished, timeout=60))["deliveries"] == {"sent": 2, "failed": 1}
        states = (await api.get(f"/triggers/announcement:{announcement_id}/deliveries", headers=admin)).json()
    assert sorted(d["state"] for d in states) == ["failed", "sent", "sent"]
    assert "refused the number" in next(d["last_error"] for d in states if d["state"] == "failed")
    sent = [m["to"] for m in received(platform, "sms") if m["key"].startswith(f"announcement:{announcement_id}|")]
    assert sorted(sent) == ["+46701230001", "+46701230003"]
