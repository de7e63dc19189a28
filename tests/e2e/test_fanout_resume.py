"""An announcement stopped half-way (its batches lost with the broker's data, as an operator saw after a
restart) is found by its durable check on the real servers: the missing batches are published again,
each patient in them gets exactly one SMS, the patients already served get none, and a WARNING line and
`careplan_announcements_resumed_total` say so."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.loadtest import recipient_documents
from launcher.stack import Platform
from services.notifications.domain.model import Announcement
from services.notifications.service_layer.announcements import BATCH_SIZE, CHECK_TIMER
from shared.clock import SystemClock
from shared.kernel.roles import Role
from shared.storage.documents import to_document
from shared.storage.timers import TimerStore
from tests.conftest import Tokens, bearer, service_db
from tests.support.kafka_helpers import eventually
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-RES01"
RECIPIENTS = BATCH_SIZE * 2 + 1  # batches 0, 1 and 2 (one patient)


async def stalled_announcement(platform: Platform) -> str:
    """The state a restart leaves: recipients known, the split done (three batches), batch 0 delivered and
    seen by an earlier check, batches 1 and 2 gone from the broker; the next check is due now."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.addresses.mongodb_uri, tz_aware=True)
    db = service_db(platform, client, "notifications")
    chosen = {"email_enabled": False, "email": None, "sms_enabled": True}
    documents = [
        recipient_documents(f"res-plan-{i:04d}", UNIT, f"1992{i:08d}", chosen | {"phone": f"+4674{i:07d}"})
        for i in range(RECIPIENTS)
    ]
    await db["preferences"].insert_many([preferences for _, preferences in documents])
    await db["plans"].insert_many([plan for plan, _ in documents])
    now = datetime.now(UTC)
    announcement = Announcement(
        id=str(uuid.uuid4()),
        scope="unit",
        unit_id=UNIT,
        subject="Ändrade tider",
        text="Mottagningen öppnar 9.",
        channels=["sms"],
        created_by="SE2321000016-ADM1",
        created_at=now - timedelta(minutes=10),
        batches=3,
        recipients=RECIPIENTS,
        batches_done=[0],
        checked_progress=1,
    )
    await db["announcements"].insert_one(to_document(announcement))
    payload = {"announcement_id": announcement.id, "check": 2}
    await TimerStore(db, SystemClock()).schedule(f"{CHECK_TIMER}:{announcement.id}:2", CHECK_TIMER, now, payload)
    await client.close()
    return announcement.id


async def test_a_stalled_fan_out_is_resumed_with_only_its_missing_batches(platform: Platform, tokens: Tokens) -> None:
    announcement_id = await stalled_announcement(platform)
    prefix = f"announcement:{announcement_id}|"

    def sms() -> list[dict[str, Any]]:
        return [m for m in received(platform, "sms") if m["key"].startswith(prefix)]

    await eventually(lambda: len(sms()) >= RECIPIENTS - BATCH_SIZE, timeout=90, interval=1)
    admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:

        async def resumed() -> dict[str, Any] | None:
            body = (await api.get(f"/announcements/{announcement_id}", headers=admin)).json()
            return body if sorted(body["announcement"]["batches_done"]) == [0, 1, 2] else None

        progress = await eventually(resumed, timeout=60)
        metrics = (await api.get("/metrics")).text
    sent = sms()
    assert len(sent) == RECIPIENTS - BATCH_SIZE  # batches 1 and 2 only: batch 0's patients had theirs
    assert len({m["key"] for m in sent}) == len(sent)  # each once
    assert {m["to"] for m in sent} == {f"+4674{i:07d}" for i in range(BATCH_SIZE, RECIPIENTS)}
    assert isinstance(progress, dict) and progress["announcement"]["resumed"] == 1
    assert 'careplan_announcements_resumed_total{stage="batches"} 1.0' in metrics
    log = (platform.state_dir / "logs" / "notifications.log").read_text(encoding="utf-8").splitlines()
    warned = [json.loads(line) for line in log if "fan-out stalled at 1 of 3 batches" in line]
    assert warned and warned[0]["level"] == "WARNING" and "publishing 2 batches again" in warned[0]["message"]
