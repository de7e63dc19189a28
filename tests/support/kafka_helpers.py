"""Reading and writing raw Kafka records in tests (a real aiokafka client against the real broker)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient

from shared.crypto.mongo_keyring import MongoKeyring
from shared.messaging.naming import topic_name
from shared.messaging.sealing import open_payload


async def find_record(
    bootstrap: str, topic: str, match: Callable[[ConsumerRecord[bytes, bytes]], bool], timeout: float = 20.0
) -> ConsumerRecord[bytes, bytes]:
    """The first record on `topic` (from the beginning; in the run's namespace) that satisfies `match`."""
    consumer = AIOKafkaConsumer(
        topic_name(topic),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    if match(record):
                        return record
        raise AssertionError(f"no matching record on {topic} within {timeout}s")
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_name(topic), value, key=key, headers=headers)
    finally:
        await producer.stop()


async def opened_payload(record: ConsumerRecord[bytes, bytes], mongodb_uri: str, keyring_database: str) -> Any:
    """The record's JSON payload with its sealed personal fields opened with the platform's plan keys
    (a sealed field whose key was destroyed reads as an empty value)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        return await open_payload(json.loads(record.value or b"{}"), MongoKeyring(client[keyring_database]))
    finally:
        await client.close()


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


async def eventually(check: Callable[[], object], timeout: float = 20.0, interval: float = 0.2) -> object:
    """Poll an async or sync check until it returns a truthy value; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
