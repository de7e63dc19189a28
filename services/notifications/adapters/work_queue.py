"""The internal work topic, written straight to Kafka (outside a transaction: the fan-out streams)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import propagate

from shared.clock import Clock
from shared.messaging.events import Event, EventRecord
from shared.messaging.outbox import publish_record


class KafkaWorkQueue:
    def __init__(self, broker: KafkaBroker, *, source: str, clock: Clock) -> None:
        self._broker = broker
        self._source = source
        self._clock = clock

    async def put(self, event: Event, *, event_id: str) -> Awaitable[Any]:
        """Publish now, in the current trace: a batch's deliveries stay in its announcement's trace."""
        trace: dict[str, str] = {}
        propagate.inject(trace)
        record = EventRecord(
            id=event_id,
            ce_type=event.ce_type,
            source=self._source,
            topic=event.topic.name,
            key=event.partition_key(),
            time=self._clock.now(),
            data=event.model_dump(mode="json"),
            trace=trace,
        )
        acknowledged: Awaitable[Any] = await publish_record(self._broker, record)
        return acknowledged
