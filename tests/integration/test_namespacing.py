"""Two runs on the same servers: a namespaced platform (a test run on a shared staging cluster) and
whatever else uses the registry's names there (a running stack) never consume each other's events, and
the namespaced run leaves nothing behind when it stops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from launcher.embedded import ServerAddresses
from launcher.stack import Platform
from shared.contracts.retention import RETENTION_TOPIC
from shared.messaging.events import DEAD_LETTER_TOPIC
from shared.messaging.naming import Namespace
from tests.support.kafka_helpers import header

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def namespaced(servers: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The plans service in namespace `n…_` on the session's servers (whose own names are the registry's)."""
    assert servers.addresses is not None
    prefix = f"n{uuid.uuid4().hex[:6]}_"
    platform = Platform(tmp_path_factory.mktemp("namespaced"), database_prefix=prefix, topic_prefix=prefix)
    try:
        platform.start_servers(shared=servers.addresses)
        platform.start_services(("plans",))
        yield platform
    finally:
        platform.stop()


async def _produce_malformed(bootstrap: str, topic: str, marker: str) -> None:
    """A record no consumer can parse (no CloudEvent headers): every consumer of `topic` dead-letters it."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=marker.encode(), headers=[("marker", marker.encode())])
    finally:
        await producer.stop()


async def _dead_letters(bootstrap: str, topic: str, seconds: float) -> dict[str, str]:
    """marker → dlt_consumer of the dead letters on `topic` within `seconds` (read from the beginning)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: dict[str, str] = {}
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    if header(record, "marker"):
                        found[header(record, "marker") or ""] = header(record, "dlt_consumer") or ""
    finally:
        await consumer.stop()
    return found


async def _broker_names(bootstrap: str) -> tuple[set[str], set[str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics()), {group[0] for group in await admin.list_consumer_groups()}
    finally:
        await admin.close()


def test_a_namespaced_service_reads_only_its_namespace_and_the_registry_names_stay_free(
    namespaced: Platform, servers: Platform
) -> None:
    assert servers.addresses is not None
    bootstrap = servers.addresses.kafka_bootstrap_servers
    space = namespaced.namespace
    ours, theirs = f"ours-{uuid.uuid4().hex[:8]}", f"theirs-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[dict[str, str], dict[str, str], set[str], set[str]]:
        await _produce_malformed(bootstrap, space.topic(RETENTION_TOPIC.name), ours)
        await _produce_malformed(bootstrap, RETENTION_TOPIC.name, theirs)  # a running stack's event
        in_namespace = await _dead_letters(bootstrap, space.topic(DEAD_LETTER_TOPIC.name), 15)
        outside = await _dead_letters(bootstrap, DEAD_LETTER_TOPIC.name, 3)
        topics, groups = await _broker_names(bootstrap)
        return in_namespace, outside, topics, groups

    in_namespace, outside, topics, groups = asyncio.run(scenario())
    assert in_namespace.get(ours) == "plans.retention"  # the namespaced plans consumed and dead-lettered its own
    assert theirs not in in_namespace  # ... and never the registry-named topic's record
    assert ours not in outside  # its dead letters stay in its namespace
    assert space.group("plans.retention") in groups
    assert space.topic("careplan.plans.v1") in topics
    assert "careplan.plans.v1" in topics  # the session's own topics, un-namespaced, are untouched


def test_stopping_a_namespaced_platform_on_shared_servers_removes_its_topics_and_databases(
    servers: Platform, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert servers.addresses is not None
    addresses: ServerAddresses = servers.addresses
    prefix = f"r{uuid.uuid4().hex[:6]}_"
    platform = Platform(tmp_path_factory.mktemp("removed"), database_prefix=prefix, topic_prefix=prefix)
    platform.start_servers(shared=addresses)

    async def databases() -> list[str]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(addresses.mongodb_uri)
        try:
            await client[f"{prefix}careplan_plans"]["probe"].insert_one({"_id": 1})
            return await client.list_database_names()
        finally:
            await client.close()

    async def join_group() -> None:  # a consumer group of the run, with a committed offset
        space = Namespace(prefix)
        consumer = AIOKafkaConsumer(
            space.topic(RETENTION_TOPIC.name),
            bootstrap_servers=addresses.kafka_bootstrap_servers,
            group_id=space.group("plans.retention"),
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            await consumer.getmany(timeout_ms=1000)
            await consumer.commit()
        finally:
            await consumer.stop()

    async def remaining() -> tuple[set[str], set[str], list[str]]:
        topics, groups = await _broker_names(addresses.kafka_bootstrap_servers)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(addresses.mongodb_uri)
        try:
            return topics, groups, await client.list_database_names()
        finally:
            await client.close()

    assert f"{prefix}careplan_plans" in asyncio.run(databases())
    asyncio.run(join_group())
    before, groups_before, _ = asyncio.run(remaining())
    assert Namespace(prefix).topic("careplan.notifications.work.v1") in before
    assert Namespace(prefix).group("plans.retention") in groups_before
    platform.stop()
    topics, groups, names = asyncio.run(remaining())
    assert not [t for t in topics if t.startswith(prefix)]
    assert not [g for g in groups if g.startswith(prefix)]
    assert not [n for n in names if n.startswith(prefix)]
    assert "careplan.plans.v1" in topics  # nothing outside the namespace is touched
