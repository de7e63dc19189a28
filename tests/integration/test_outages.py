"""Brief outages lose nothing: events wait in the outbox while the broker is away."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from launcher.processes import free_port
from launcher.stack import Platform
from shared.audit import AuditLog
from shared.clock import SystemClock
from shared.messaging.events import EventRecord
from shared.messaging.outbox import OutboxRelay
from shared.storage.unit_of_work import OUTBOX_COLLECTION, MongoUnitOfWork
from tests.support.kafka_helpers import find_record, header

pytestmark = pytest.mark.integration


PROBE_TYPE = "se.careplan.test.outage_probe.v1"  # on an existing topic; no consumer acts on this type


async def test_events_wait_in_the_outbox_while_the_broker_is_unreachable(servers: Platform) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_outage_{uuid.uuid4().hex[:6]}"]
    clock = SystemClock()
    uow = MongoUnitOfWork(
        client, db, clock=clock, source="/tests", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )
    plan_id = str(uuid.uuid4())

    async def change(tx: Any) -> None:
        await tx.db["things"].insert_one({"_id": plan_id}, session=tx.session)
        tx.events.append(
            EventRecord(
                id=str(uuid.uuid4()),
                ce_type=PROBE_TYPE,
                source="/tests",
                topic="careplan.deadletter.v1",
                key=plan_id,
                time=clock.now(),
                data={"plan_id": plan_id},
            )
        )

    await uow.run(change)
    unreachable = KafkaBroker(f"127.0.0.1:{free_port()}", request_timeout_ms=1000, logger=None)
    relay = OutboxRelay(uow, unreachable, owner="outage-test", poll_seconds=0.1)
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, the relay must not lose the event
        await relay.relay_once()
    assert await db[OUTBOX_COLLECTION].count_documents({}) == 1  # kept for the next attempt

    reachable = KafkaBroker(servers.addresses.kafka_bootstrap_servers, acks="all", logger=None)
    await reachable.start()
    try:
        assert await OutboxRelay(uow, reachable, owner="outage-test", poll_seconds=0.1).relay_once() == 1
    finally:
        await reachable.stop()
    assert await db[OUTBOX_COLLECTION].count_documents({}) == 0
    record = await find_record(
        servers.addresses.kafka_bootstrap_servers, "careplan.deadletter.v1", lambda r: r.key == plan_id.encode()
    )
    assert header(record, "ce_type") == PROBE_TYPE
    await client.drop_database(db.name)
    await client.close()
