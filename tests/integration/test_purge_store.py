"""The purge's MongoDB side on the real database: one plan's documents go, in every listed collection
and the platform's own, and another plan's stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from shared.audit import AuditLog
from shared.clock import SystemClock
from shared.contracts import forms
from shared.contracts.retention import PurgeRequested
from shared.purge import MongoPlanPurger, MongoTombstones, PurgeParticipant
from shared.storage.unit_of_work import MongoUnitOfWork

pytestmark = pytest.mark.integration


async def seed(db: Any, plan_id: str) -> None:
    await db["responses"].insert_many([{"plan_id": plan_id, "answers": {"q1": 3}} for _ in range(3)])
    await db["plan_ownership"].insert_one({"_id": plan_id, "unit_id": "U", "patient_personnummer": "191212121212"})
    await db["timers"].insert_one({"_id": f"t:{plan_id}", "payload": {"plan_id": plan_id}, "status": "pending"})
    await db["outbox"].insert_one({"_id": str(uuid.uuid4()), "key": plan_id, "seq": 1})
    await db["inbox"].insert_one({"_id": f"c:{uuid.uuid4()}", "key": plan_id})


async def test_a_purge_deletes_one_plan_everywhere_and_answers_once(servers: Platform) -> None:
    assert servers.addresses is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_purge_{uuid.uuid4().hex[:8]}"]
    clock = SystemClock()
    uow = MongoUnitOfWork(
        client,
        db,
        clock=clock,
        source="/careplan/forms",
        audit_log=AuditLog(db, service="forms", pepper="pepper!!", clock=clock),
    )
    try:
        await seed(db, "plan-a")
        await seed(db, "plan-b")
        participant = PurgeParticipant(
            "forms", MongoPlanPurger(db, {"responses": "plan_id"}), MongoTombstones(db), forms.PurgeReceipt
        )
        request = PurgeRequested(plan_id="plan-a", purge_id="g1", requested_at=datetime.now(UTC), services=["forms"])
        await uow.run(lambda tx: participant.on_purge_requested(request, None, tx))
        for name in ("responses", "plan_ownership", "timers", "inbox"):
            field = (
                "_id"
                if name == "plan_ownership"
                else ("payload.plan_id" if name == "timers" else ("key" if name == "inbox" else "plan_id"))
            )
            assert await db[name].count_documents({field: "plan-a"}) == 0, name
            assert await db[name].count_documents({field: "plan-b"}) >= 1, name
        receipts = [d async for d in db["outbox"].find({"ce_type": forms.PurgeReceipt.ce_type})]
        assert len(receipts) == 1 and receipts[0]["data"]["deleted"]["responses"] == 3
        assert await db["outbox"].count_documents({"key": "plan-b"}) == 1
        assert await MongoTombstones(db).contains("plan-a") and not await MongoTombstones(db).contains("plan-b")
    finally:
        await client.drop_database(db.name)
        await client.close()
