"""Create the platform's topics with their partition counts (tansu would auto-create them with 4)."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.messaging.events import Topic


async def create_topics(bootstrap_servers: str, topics: list[Topic], replication_factor: int = 1) -> list[str]:
    """Create the missing topics; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        for topic in missing:
            config = {"cleanup.policy": "compact"} if topic.compacted else {}
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(topic.name, topic.partitions, replication_factor, topic_configs=config)]
                )
        return [t.name for t in missing]
    finally:
        await admin.close()
