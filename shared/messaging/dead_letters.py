"""The dead-letter topic: a record no consumer can process goes there unchanged, with why and whence in
its headers, and is counted by consumer and reason category (never by anything in the record)."""

from __future__ import annotations

import logging
from typing import Literal

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker

from shared.messaging.events import DEAD_LETTER_TOPIC
from shared.messaging.naming import current_namespace, topic_name
from shared.observability.metrics import DEAD_LETTERS, service_name

log = logging.getLogger(__name__)
DeadLetterCategory = Literal["malformed", "sealed", "invalid", "refused", "failed", "other"]


async def publish_dead_letter(
    broker: KafkaBroker,
    record: ConsumerRecord[bytes, bytes],
    reason: str,
    *,
    consumer: str,
    category: DeadLetterCategory = "other",
) -> None:
    """Publish the original record with `dlt_reason` (names fields and event types, never values),
    `dlt_consumer`, `dlt_topic`, `dlt_partition` and `dlt_offset` headers."""
    log.warning("dead-lettering a record (%s): %s", category, reason)
    DEAD_LETTERS.labels(service_name(), consumer, category).inc()
    headers = {name: value.decode("utf-8", "replace") for name, value in (record.headers or ())}
    headers |= {
        "dlt_reason": reason[:2000],
        "dlt_consumer": consumer,
        "dlt_topic": current_namespace().logical(record.topic),  # the registry's name, as in the contract
        "dlt_partition": str(record.partition),
        "dlt_offset": str(record.offset),
    }
    await broker.publish(record.value or b"", topic_name(DEAD_LETTER_TOPIC.name), key=record.key, headers=headers)
