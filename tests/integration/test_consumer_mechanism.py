"""The shared consumer on the real broker and database: one effect per event, bad events dead-lettered,
consumption continues after them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from launcher.topics import create_topics
from shared.audit import AuditLog
from shared.clock import SystemClock
from shared.messaging.consumer import EventConsumer, PermanentFailure, Subscription
from shared.messaging.events import DEAD_LETTER_TOPIC, EventRecord, ReceivedEvent, Topic
from shared.storage.unit_of_work import MongoUnitOfWork, Transaction
from tests.support.kafka_helpers import eventually, find_record, header, produce

pytestmark = pytest.mark.integration


class Counted(BaseModel):
    item_id: str
    amount: int


def record_for(item_id: str, amount: int, topic: str) -> EventRecord:
    return EventRecord(
        id=str(uuid.uuid4()),
        ce_type="se.careplan.test.counted.v1",
        source="/tests",
        topic=topic,
        key=item_id,
        time=datetime.now(UTC),
        data={"item_id": item_id, "amount": amount},
    )


async def send(bootstrap: str, record: EventRecord) -> None:
    message = record.to_kafka()
    await produce(bootstrap, record.topic, message.value, record.key.encode(), list(message.headers.items()))


@pytest.fixture
async def counting_consumer(servers: Platform):
    """A consumer of a fresh topic that adds `amount` to a counter per item, in the same transaction."""
    assert servers.addresses is not None
    topic = Topic(name=f"test.counted.{uuid.uuid4().hex[:8]}", partitions=2)
    await create_topics(servers.addresses.kafka_bootstrap_servers, [topic])
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_consumer_{uuid.uuid4().hex[:8]}"]
    clock = SystemClock()
    uow = MongoUnitOfWork(
        client, db, clock=clock, source="/tests", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )
    broker = KafkaBroker(servers.addresses.kafka_bootstrap_servers, acks="all", logger=None)
    handled: list[str] = []

    async def add(payload: Counted, event: ReceivedEvent, tx: Transaction) -> None:
        if payload.amount < 0:
            raise PermanentFailure("negative amounts are refused")
        handled.append(event.id)
        await tx.db["counters"].update_one(
            {"_id": payload.item_id}, {"$inc": {"total": payload.amount}}, upsert=True, session=tx.session
        )

    consumer = EventConsumer(
        f"test-{topic.name}", [topic.name], [Subscription("se.careplan.test.counted.v1", Counted, add)], uow, broker
    )
    consumer.register()
    await broker.start()
    try:
        yield topic.name, db, handled
    finally:
        await broker.stop()
        await client.drop_database(db.name)
        await client.close()


async def total(db: Any, item_id: str) -> int | None:
    doc = await db["counters"].find_one({"_id": item_id})
    return doc["total"] if doc else None


async def test_redelivered_event_has_one_effect(servers: Platform, counting_consumer) -> None:
    topic, db, handled = counting_consumer
    bootstrap = servers.addresses.kafka_bootstrap_servers
    record = record_for("item-a", 5, topic)
    await send(bootstrap, record)
    await send(bootstrap, record)  # the same event id again: a redelivery
    await send(bootstrap, record_for("item-a", 1, topic))  # a later, different event on the same key
    await eventually(lambda: _equals(total(db, "item-a"), 6), timeout=30)
    await asyncio.sleep(1)
    assert await total(db, "item-a") == 6
    assert handled.count(record.id) == 1
    assert await db["inbox"].count_documents({}) == 2


async def test_bad_events_are_dead_lettered_and_consumption_continues(servers: Platform, counting_consumer) -> None:
    topic, db, _ = counting_consumer
    bootstrap = servers.addresses.kafka_bootstrap_servers
    marker = uuid.uuid4().hex
    await produce(bootstrap, topic, b"{not json", b"item-b", [("ce_id", marker.encode()), ("ce_type", b"x.y.v1")])
    wrong = record_for("item-b", 1, topic)
    message = wrong.to_kafka()
    await produce(
        bootstrap,
        topic,
        b'{"item_id": "item-b", "amount": "lots", "personnummer": "191212121212"}',
        b"item-b",
        list(message.headers.items()),
    )
    refused = record_for("item-b", -3, topic)
    await send(bootstrap, refused)
    await send(bootstrap, record_for("item-b", 2, topic))

    await eventually(lambda: _equals(total(db, "item-b"), 2), timeout=30)
    malformed = await find_record(bootstrap, DEAD_LETTER_TOPIC.name, lambda r: header(r, "ce_id") == marker)
    assert header(malformed, "dlt_reason").startswith("malformed") and malformed.value == b"{not json"
    assert header(malformed, "dlt_topic") == topic and header(malformed, "dlt_offset") is not None
    invalid = await find_record(bootstrap, DEAD_LETTER_TOPIC.name, lambda r: header(r, "ce_id") == wrong.id)
    reason = header(invalid, "dlt_reason")
    assert "amount" in reason and "191212121212" not in reason  # names the field, never echoes the data
    permanent = await find_record(bootstrap, DEAD_LETTER_TOPIC.name, lambda r: header(r, "ce_id") == refused.id)
    assert "negative amounts are refused" in header(permanent, "dlt_reason")


async def _equals(value_coroutine: Any, expected: int) -> bool:
    return await value_coroutine == expected


async def test_an_event_about_a_purged_plan_is_dropped_and_its_inbox_record_does_not_name_it(
    servers: Platform, counting_consumer
) -> None:
    topic, db, handled = counting_consumer
    bootstrap = servers.addresses.kafka_bootstrap_servers
    await db["purged_plans"].insert_one({"_id": "item-purged", "purge_id": "g1"})
    late = record_for("item-purged", 7, topic)
    await send(bootstrap, late)
    await send(bootstrap, record_for("item-live", 3, topic))
    await eventually(lambda: _equals(total(db, "item-live"), 3), timeout=30)
    await eventually(lambda: _inbox_has(db, late.id), timeout=30)
    assert await total(db, "item-purged") is None and late.id not in handled
    inbox = await db["inbox"].find_one({"_id": {"$regex": f"{late.id}$"}})
    assert inbox is not None and inbox["key"] is None  # written after the purge: no trace of the plan id
    live = await db["inbox"].find_one({"ce_type": "se.careplan.test.counted.v1", "key": "item-live"})
    assert live is not None  # a live plan's records name it, so its purge can find them


async def _inbox_has(db: Any, event_id: str) -> bool:
    return await db["inbox"].find_one({"_id": {"$regex": f"{event_id}$"}}) is not None
