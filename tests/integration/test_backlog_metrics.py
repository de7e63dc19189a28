"""The backlog gauges an SRE alerts on, read from the real database and broker: events waiting in the
outbox and their age, due timers by kind and the oldest one's wait, and a consumer group's lag."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.messaging.events import EventRecord
from shared.messaging.naming import topic_name
from shared.observability.backlog import ConsumerLagProbe, OutboxProbe, TimerProbe
from shared.storage.timers import TimerStore
from shared.storage.unit_of_work import MongoUnitOfWork

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TOPIC = "careplan.deadletter.v1"  # exists on every platform; no consumer group named like ours reads it


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.fixture
async def db(servers: Platform) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    database = client[f"test_backlog_{uuid.uuid4().hex[:8]}"]
    yield database
    await client.drop_database(database.name)
    await client.close()


async def test_outbox_backlog_and_the_age_of_its_oldest_event(db: Any) -> None:
    clock = FixedClock(NOW - timedelta(minutes=5))
    uow = MongoUnitOfWork(
        db.client, db, clock=clock, source="/t", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )

    async def change(tx: Any) -> None:
        for _ in range(3):
            tx.events.append(
                EventRecord(str(uuid.uuid4()), "se.careplan.t.v1", "/t", TOPIC, "k", clock.now(), {"plan_id": "k"})
            )

    await uow.run(change)  # committed, never relayed (no relay runs here)
    probe = OutboxProbe("svc-outbox", db, FixedClock(NOW))
    await probe.sample()

    assert gauge("careplan_outbox_backlog", service="svc-outbox") == 3
    assert gauge("careplan_outbox_oldest_age_seconds", service="svc-outbox") == 300


async def test_due_timers_by_kind_and_the_oldest_ones_wait(db: Any) -> None:
    store = TimerStore(db, FixedClock(NOW))
    await store.ensure_indexes()
    await store.schedule("a", "messaging.due_soon", NOW - timedelta(hours=72))  # 72 hours of outage
    await store.schedule("b", "messaging.due_soon", NOW - timedelta(minutes=1))
    await store.schedule("c", "retention.limit", NOW - timedelta(seconds=10))
    await store.schedule("d", "retention.limit", NOW + timedelta(days=30))  # not due: not backlog
    await store.schedule("e", "retention.limit", NOW - timedelta(seconds=5))
    await store.cancel("e")  # cancelled: not backlog

    probe = TimerProbe("svc-timers", db, FixedClock(NOW))
    await probe.sample()
    assert gauge("careplan_timer_backlog", service="svc-timers", kind="messaging.due_soon") == 2
    assert gauge("careplan_timer_backlog", service="svc-timers", kind="retention.limit") == 1
    assert gauge("careplan_timer_oldest_due_age_seconds", service="svc-timers") == 72 * 3600

    await db["timers"].delete_many({"kind": "messaging.due_soon"})  # fired meanwhile, say
    await probe.sample()
    assert gauge("careplan_timer_backlog", service="svc-timers", kind="messaging.due_soon") == 0  # back to 0
    assert gauge("careplan_timer_oldest_due_age_seconds", service="svc-timers") == 10


async def test_consumer_lag_per_partition_until_the_group_commits(servers: Platform) -> None:
    bootstrap = servers.addresses.kafka_bootstrap_servers
    group = f"test-lag-{uuid.uuid4().hex[:8]}"
    physical = topic_name(TOPIC)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send_and_wait(physical, b"{}", key=b"k", partition=0) for _ in range(4)]
    finally:
        await producer.stop()
    probe = ConsumerLagProbe("svc-lag", bootstrap, None, {group: [TOPIC]})
    try:
        await probe.sample()
        before = gauge("careplan_consumer_lag", service="svc-lag", group=group, topic=TOPIC, partition="0")
        assert before is not None and before >= 4  # never committed: everything on the partition waits

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(physical, 0)])
            await consumer.commit({TopicPartition(physical, 0): OffsetAndMetadata(sent[-1].offset - 1, "")})
        finally:
            await consumer.stop()
        await probe.sample()
        assert gauge("careplan_consumer_lag", service="svc-lag", group=group, topic=TOPIC, partition="0") == 2
        on_topic = gauge("careplan_dead_letter_records", service="svc-lag")  # the topic is the dead-letter topic
        assert on_topic is not None and on_topic >= 4
    finally:
        await probe.close()
