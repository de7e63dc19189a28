"""An SMS announcement made in the evening is deferred to 08:00, not dropped, and sent then: the
deliverer on the real database, Redis and SMS gateway sink, with the clock in the test's hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as redis
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from services.notifications.adapters.ledger import MongoLedger
from services.notifications.adapters.providers import HttpSmsGateway
from services.notifications.adapters.rate_limit import SharedRateLimit
from services.notifications.adapters.repository import ensure_indexes, mongo_stores
from services.notifications.domain.model import Delivery
from services.notifications.service_layer.delivery import RETRY_TIMER, Deliverer, Sender
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.storage.timers import TimerRunner, TimerStore
from shared.storage.unit_of_work import MongoUnitOfWork
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
EVENING = datetime(2026, 11, 23, 22, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
RECIPIENTS = 250


async def test_an_evening_sms_announcement_waits_for_eight_in_one_timer_and_is_sent_then(servers: Platform) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_quiet_{uuid.uuid4().hex[:8]}"]
    cache = redis.Redis.from_url(servers.addresses.redis_url)
    clock = FixedClock(EVENING)
    uow = MongoUnitOfWork(
        client, db, clock=clock, source="/tests", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )
    timers = TimerStore(db, clock)
    await timers.ensure_indexes()
    await ensure_indexes(db)
    gateway = HttpSmsGateway(servers.sinks["sms_gateway_url"])
    limit = SharedRateLimit(cache, f"quiet-{uuid.uuid4().hex[:6]}", 10_000)
    deliverer = Deliverer(
        uow, mongo_stores(db), timers, {"sms": Sender(gateway, limit, batch_size=100)}, pepper="pepper!!"
    )
    runner = TimerRunner(
        timers,
        uow,
        {RETRY_TIMER: deliverer.on_retry_timer},
        owner="t",
        clock=clock,
        poll_seconds=0.1,
        lease=timedelta(seconds=60),
    )
    trigger = f"announcement:{uuid.uuid4()}"
    try:
        await deliverer.deliver(
            [
                Delivery(
                    id=f"{trigger}|r{i}|sms",
                    trigger_id=trigger,
                    trigger_kind="announcement",
                    recipient_kind="patient",
                    recipient=f"1992{i:08d}",
                    channel="sms",
                    address=f"+4670{i:07d}",
                    template="announcement",
                    custom_subject="Info",
                    custom_body="Mottagningen har nya öppettider.",
                    created_at=clock.now(),
                )
                for i in range(RECIPIENTS)
            ]
        )
        states = {d["state"] async for d in db["deliveries"].find({"trigger_id": trigger})}
        assert states == {"deferred"}
        assert await db["timers"].count_documents({"kind": RETRY_TIMER}) == 1  # one timer for the whole batch
        clock.advance(timedelta(hours=9))  # 07:30
        assert await runner.fire_due() == 0
        clock.advance(timedelta(minutes=31))  # 08:01
        assert await runner.fire_due() == 1
        due = [d async for d in db["outbox"].find({"ce_type": "se.careplan.notifications.deliveries_due.v1"})]
        assert sum(len(d["data"]["delivery_ids"]) for d in due) == RECIPIENTS
        for event in due:  # what a worker does with the work topic's event
            await deliverer.attempt(event["data"]["delivery_ids"])
        assert {d["state"] async for d in db["deliveries"].find({"trigger_id": trigger})} == {"sent"}
        sent = [m for m in received(servers, "sms") if m["key"].startswith(f"{trigger}|")]
        assert len(sent) == RECIPIENTS and len({m["key"] for m in sent}) == RECIPIENTS
        assert await MongoLedger(db).announcement_outcomes(trigger.removeprefix("announcement:")) == {
            "sent": RECIPIENTS
        }
    finally:
        await gateway.close()
        await cache.aclose()
        await client.drop_database(db.name)
        await client.close()
