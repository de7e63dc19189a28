"""The outbox relay: publishes committed events to Kafka in commit order, then removes them.

The outbox only ever holds events not yet acknowledged by the broker (Kafka is the record of
what was published), so finding the pending ones stays cheap on any server.

Personal fields are sealed with their plan's key as they are published (`shared.messaging.sealing`):
the outbox itself holds plaintext only until the broker has the event.

At-least-once: an event is marked only after the broker acknowledged it (acks=all), so a crash in
between publishes it again and consumers deduplicate by event id. One relay per service holds
the lease at a time, which keeps per-key order across replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import context, propagate
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pymongo import ASCENDING, DeleteOne

from shared.messaging.events import EventRecord
from shared.messaging.naming import topic_name
from shared.messaging.sealing import Sealer
from shared.observability.metrics import EVENTS_RELAYED, service_name
from shared.observability.progress import ProgressLog
from shared.storage.leases import Lease
from shared.storage.unit_of_work import OUTBOX_COLLECTION, MongoUnitOfWork

log = logging.getLogger(__name__)


def record_from_document(doc: dict[str, Any]) -> EventRecord:
    return EventRecord(
        id=doc["_id"],
        ce_type=doc["ce_type"],
        source=doc["source"],
        topic=doc["topic"],
        key=doc["key"],
        time=doc["time"],
        data=doc["data"],
        trace=doc.get("trace") or {},
    )


async def publish_record(broker: KafkaBroker, record: EventRecord, sealer: Sealer | None = None) -> Any:
    """Send one event in binary mode under the trace context it was written with, its personal fields
    sealed (by `sealer`, or one on the process's keyring); returns the ack future."""
    message = (await (sealer or Sealer()).seal(record)).to_kafka()
    headers = {name: value.decode() for name, value in message.headers.items()}
    token = context.attach(propagate.extract(record.trace))
    try:
        return await broker.publish(
            message.value, topic_name(record.topic), key=record.key.encode(), headers=headers, no_confirm=True
        )
    finally:
        context.detach(token)


class OutboxRelay:
    """Background task relaying this service's outbox."""

    def __init__(
        self,
        uow: MongoUnitOfWork,
        broker: KafkaBroker,
        *,
        owner: str,
        poll_seconds: float,
        batch_size: int = 500,
        sealer: Sealer | None = None,
    ) -> None:
        self._collection = uow.db[OUTBOX_COLLECTION]
        self._wakeup = uow.committed
        self._broker = broker
        self._lease = Lease(uow.db, "outbox-relay", owner)
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._sealer = sealer or Sealer()
        self._progress = ProgressLog(log, "outbox events relayed")

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("seq", ASCENDING)])
        await self._collection.create_index([("key", ASCENDING)])  # a purge deletes a plan's pending events

    async def run_forever(self) -> None:
        was_holder: bool | None = None
        while True:
            try:
                with suppress_instrumentation():  # polling is not a workflow: keep it out of traces
                    holder = await self._lease.acquire()
                if holder != was_holder:
                    log.info("outbox relay %s", "holds the lease: this replica relays" if holder else "is on standby")
                    was_holder = holder
                relayed = await self.relay_once() if holder else 0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                relayed = 0
            if relayed < self._batch_size:
                await self._wait()

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_seconds)
        self._wakeup.clear()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        with suppress_instrumentation():
            cursor = self._collection.find({}).sort("seq", ASCENDING).limit(self._batch_size)
            documents = [doc async for doc in cursor]
        if not documents:
            return 0
        records = [record_from_document(d) for d in documents]
        with suppress_instrumentation():
            await self._sealer.warm(records)  # every plan key of the batch in one lookup
        futures = [await publish_record(self._broker, r, self._sealer) for r in records]
        await asyncio.gather(*futures)
        with suppress_instrumentation():  # one indexed delete each: `$in` scans on some servers
            await self._collection.bulk_write([DeleteOne({"_id": d["_id"]}) for d in documents], ordered=False)
        EVENTS_RELAYED.labels(service_name()).inc(len(documents))
        for record in records:
            self._progress.note(record.topic)
        return len(documents)
