"""The backlog probes every service has: its outbox, its durable timers, and its consumer groups' lag.

Each sets gauges of `shared.observability.metrics` when `/metrics` is scraped (through the
`BacklogSampler`). The queries are the ones a real MongoDB answers from an index: the outbox by
`seq`, the timers by their `slot` (a range on the field that leads the index; fired and cancelled
timers have no slot), so a scrape costs the size of the backlog, not of the collection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka.security import parse_security
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.clock import Clock
from shared.messaging.events import DEAD_LETTER_TOPIC
from shared.messaging.naming import current_namespace, group_name, topic_name
from shared.observability.metrics import (
    CONSUMER_LAG,
    DEAD_LETTER_RECORDS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    TIMER_BACKLOG,
    TIMER_OLDEST_DUE_AGE,
)
from shared.storage.timers import TIMERS_COLLECTION, slot_of
from shared.storage.unit_of_work import OUTBOX_COLLECTION


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class OutboxProbe:
    """How many committed events wait for the broker, and how long the oldest has waited."""

    name = "outbox"

    def __init__(self, service: str, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self._service = service
        self._outbox = db[OUTBOX_COLLECTION]
        self._clock = clock

    async def sample(self) -> None:
        with suppress_instrumentation():  # a scrape is not a workflow
            waiting = await self._outbox.count_documents({})
            oldest = await self._outbox.find_one({}, {"time": 1}, sort=[("seq", ASCENDING)])
        OUTBOX_BACKLOG.labels(self._service).set(waiting)
        OUTBOX_OLDEST_AGE.labels(self._service).set(_age(self._clock.now(), oldest["time"] if oldest else None))


class TimerProbe:
    """Timers due and not fired, by kind, and how long the oldest due one has waited."""

    name = "timers"

    def __init__(self, service: str, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self._service = service
        self._timers = db[TIMERS_COLLECTION]
        self._clock = clock
        self._kinds: set[str] = set()

    async def sample(self) -> None:
        now = self._clock.now()
        # A due timer sits at most one slot ahead of now (one scheduled late lands just past the
        # watermark); claimed timers sit in their lease's slot and count while it has run out.
        due = {"slot": {"$lte": slot_of(now) + 1}, "wake_at": {"$lte": now}}
        pipeline: list[dict[str, Any]] = [
            {"$match": due},
            {"$group": {"_id": "$kind", "count": {"$sum": 1}, "oldest": {"$min": "$due_at"}}},
        ]
        with suppress_instrumentation():
            groups = [doc async for doc in await self._timers.aggregate(pipeline)]
        counts = {g["_id"]: g["count"] for g in groups}
        for kind in self._kinds | set(counts):  # a kind drained since the last scrape goes back to 0
            TIMER_BACKLOG.labels(self._service, kind).set(counts.get(kind, 0))
        self._kinds |= set(counts)
        oldest = min((g["oldest"] for g in groups if g["oldest"] is not None), default=None)
        TIMER_OLDEST_DUE_AGE.labels(self._service).set(_age(now, oldest))


class ConsumerLagProbe:
    """Per consumer group and partition: the end offset minus the group's committed offset (a partition
    the group never committed on counts from its start)."""

    name = "consumer_lag"

    def __init__(self, service: str, bootstrap: str, security: Any, groups: dict[str, list[str]]) -> None:
        self._service = service
        self._groups = groups  # logical group name -> logical topics
        options: dict[str, Any] = {"bootstrap_servers": bootstrap}
        if security is not None:  # the service's own TLS/SASL settings, as aiokafka takes them
            options |= parse_security(security)
        self._options = options
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._offsets is None:
            admin = AIOKafkaAdminClient(**self._options, client_id=f"{self._service}-lag")
            offsets = AIOKafkaConsumer(**self._options, group_id=None, enable_auto_commit=False)
            await admin.start()
            await offsets.start()
            self._admin, self._offsets = admin, offsets
        return self._admin, self._offsets

    async def sample(self) -> None:
        admin, offsets = await self._clients()
        await offsets.topics()  # refreshes the metadata: partitions added since the last scrape count too
        for group, topics in self._groups.items():
            await self._group_lag(admin, offsets, group, topics)
        dead = _partitions(offsets, [DEAD_LETTER_TOPIC.name])
        if dead:
            ends, starts = await offsets.end_offsets(dead), await offsets.beginning_offsets(dead)
            DEAD_LETTER_RECORDS.labels(self._service).set(sum(ends[tp] - starts[tp] for tp in dead))

    async def _group_lag(
        self, admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, group: str, topics: list[str]
    ) -> None:
        partitions = _partitions(offsets, topics)
        if not partitions:
            return
        ends = await offsets.end_offsets(partitions)
        starts = await offsets.beginning_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group_name(group), partitions=partitions)
        namespace = current_namespace()
        for tp in partitions:
            done = committed.get(tp)
            position = done.offset if done is not None and done.offset >= 0 else starts[tp]
            lag = max(0, ends[tp] - position)
            CONSUMER_LAG.labels(self._service, group, namespace.logical(tp.topic), str(tp.partition)).set(lag)

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
        if self._offsets is not None:
            await self._offsets.stop()


def _partitions(offsets: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the topics (in this process's namespace) that the broker's metadata knows."""
    return [
        TopicPartition(topic_name(t), p)
        for t in topics
        for p in sorted(offsets.partitions_for_topic(topic_name(t)) or ())
    ]
