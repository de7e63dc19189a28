"""Create (and, for a namespaced test run, delete) the platform's topics as the topic registry declares them.

The replication factor, `min.insync.replicas`, retention and cleanup policy come from the registry
(`shared.messaging.events.Topic`), the same values the generated Strimzi `KafkaTopic`s carry
(`launcher.k8s`). On a single-broker cluster (tansu in dev, a one-broker staging Kafka) every topic has
one replica and `min.insync.replicas` 1, as a single broker cannot hold more.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.protocol.admin import DeleteGroupsRequest

from shared.messaging.events import Topic
from shared.messaging.naming import Namespace, current_namespace

log = logging.getLogger(__name__)
PRODUCTION_REPLICAS = 3
"""Replication factor of a topic whose registry entry leaves it open (`Topic.replicas` None)."""


def replication(topic: Topic, *, single_broker: bool = False) -> tuple[int, int]:
    """Replication factor and `min.insync.replicas`: the registry's, else 3 and one less than the factor;
    1 and 1 on a single broker."""
    if single_broker:
        return 1, 1
    replicas = topic.replicas or PRODUCTION_REPLICAS
    min_insync = topic.min_insync_replicas or max(1, replicas - 1)
    if min_insync > replicas:
        raise ValueError(f"{topic.name}: min_insync_replicas {min_insync} > replicas {replicas}")
    return replicas, min_insync


def topic_config(topic: Topic, *, single_broker: bool = False) -> dict[str, Any]:
    """The topic-level configuration: cleanup policy, `min.insync.replicas` and retention if set."""
    _, min_insync = replication(topic, single_broker=single_broker)
    config: dict[str, Any] = {
        "cleanup.policy": "compact" if topic.compacted else "delete",
        "min.insync.replicas": min_insync,
    }
    if topic.retention_ms is not None:
        config["retention.ms"] = topic.retention_ms
    return config


def new_topic(topic: Topic, *, single_broker: bool, namespace: Namespace | None = None) -> NewTopic:
    """The admin request creating `topic` (under its name in `namespace`, by default the process's)."""
    replicas, _ = replication(topic, single_broker=single_broker)
    config = {name: str(value) for name, value in topic_config(topic, single_broker=single_broker).items()}
    name = (namespace or current_namespace()).topic(topic.name)
    return NewTopic(name, topic.partitions, replicas, topic_configs=config)


async def create_topics(
    bootstrap_servers: str, topics: list[Topic], *, namespace: Namespace | None = None, **client: Any
) -> list[str]:
    """Create the missing topics (in `namespace`); returns the broker names created. Replication is the
    registry's unless the cluster has a single broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client)
    await admin.start()
    try:
        single_broker = len((await admin.describe_cluster())["brokers"]) <= 1
        existing = set(await admin.list_topics())
        requests = [new_topic(t, single_broker=single_broker, namespace=namespace) for t in topics]
        missing = [r for r in requests if r.name not in existing]
        for request in missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([request])
        return [r.name for r in missing]
    finally:
        await admin.close()


async def delete_namespace(bootstrap_servers: str, namespace: Namespace, groups: list[str], **client: Any) -> None:
    """Delete a namespaced run's topics and consumer groups (never anything outside the namespace)."""
    if not namespace.prefix:
        raise ValueError("refusing to delete topics without a namespace prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(namespace.prefix)]
        if ours:
            await admin.delete_topics(ours)
        await _delete_groups(admin, [namespace.group(group) for group in groups])
    finally:
        await admin.close()


async def _delete_groups(admin: AIOKafkaAdminClient, groups: list[str]) -> None:
    """Delete consumer groups at their coordinators (aiokafka's admin has the request but no method for it)."""
    for group in groups:
        try:
            coordinator = await admin.find_coordinator(group)
            await admin._send_request(DeleteGroupsRequest([group]), coordinator)
        except KafkaError as exc:  # a group that never joined, or a broker without the API: nothing is left
            log.info("consumer group not deleted: %s", type(exc).__name__)
