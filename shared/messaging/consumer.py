"""Idempotent, dead-lettering event consumers.

Every consumed event runs its handler in a MongoDB transaction together with an inbox record
keyed by (consumer, event id): a redelivered event finds its inbox record and changes nothing.
An event that cannot be parsed, fails validation, or keeps failing in its handler goes to the
dead-letter topic with the reason, and consumption continues. Infrastructure errors (database
or broker unreachable) are not the event's fault: the offset is not committed and the event is
delivered again.

Personal fields sealed on the topic (`shared.messaging.sealing`) are opened before validation; a value
whose plan key was destroyed by a purge reads as a neutral placeholder, and the event is dropped like
any event about a purged plan (never dead-lettered for it).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from redis.exceptions import ConnectionError as RedisConnectionError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from shared.crypto.envelope import SealBroken
from shared.messaging.dead_letters import DeadLetterCategory, publish_dead_letter
from shared.messaging.events import MalformedEvent, ReceivedEvent, parse_kafka_record
from shared.messaging.naming import group_name, topic_name
from shared.messaging.sealing import Opened, Sealer
from shared.observability.kafka_spans import describe_consumed
from shared.observability.log_context import log_fields
from shared.storage.unit_of_work import MongoUnitOfWork, Transaction, is_transient_transaction_error

log = logging.getLogger(__name__)
INBOX_COLLECTION = "inbox"
TOMBSTONE_COLLECTION = "purged_plans"
"""Ids of purged plans (written by `shared.purge`); events keyed by one of them are dropped."""


async def ensure_inbox_indexes(db: Any) -> None:
    """The inbox is read by id; a purge deletes a plan's records by key."""
    await db[INBOX_COLLECTION].create_index([("key", 1)])


class DependencyNotReady(Exception):
    """The event refers to something this service has not heard of yet (another topic's event is on its
    way): the event is fine, just early. It is retried and redelivered, never dead-lettered."""


INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    RedisConnectionError,
    TimeoutError,
    DependencyNotReady,
)

Handler = Callable[[Any, ReceivedEvent, Transaction], Awaitable[None]]


class PermanentFailure(Exception):
    """A handler's way of saying: this event can never be processed (dead-letter it now)."""


class _AlreadyProcessed(Exception):
    """Another member recorded this event first; this attempt's effects are rolled back."""


@dataclass(frozen=True)
class Subscription:
    """One ce_type this consumer handles, the model its payload is read into, and the handler.

    A transactional handler runs in the same MongoDB transaction as the inbox record (exactly one
    effect). A non-transactional one (`transactional=False`, called with `tx=None`) is for work with
    outside side effects (e.g. calling providers): it must be idempotent itself, and the inbox only
    skips events it completed before.
    """

    ce_type: str
    payload_model: type[BaseModel]
    handler: Handler
    transactional: bool = True
    allow_purged: bool = False
    """Handle the event even when its key is a purged plan's id (the purge saga's own events)."""


def describe_validation(exc: ValidationError) -> str:
    """Field paths and rules broken, never the offending values (they may be personal data)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(payload)'}: {err['msg']}"
        for err in exc.errors(include_input=False)
    )


def is_transient(exc: BaseException) -> bool:
    """Infrastructure trouble (not the event's fault): unreachable servers, transaction conflicts."""
    return isinstance(exc, INFRASTRUCTURE_ERRORS) or is_transient_transaction_error(exc)


class EventConsumer:
    """A named consumer (one consumer group) of some topics, dispatching by ce_type."""

    def __init__(
        self,
        name: str,
        topics: list[str],
        subscriptions: list[Subscription],
        uow: MongoUnitOfWork,
        broker: KafkaBroker,
        *,
        handler_attempts: int = 3,
        workers: int = 1,
        sealer: Sealer | None = None,
    ) -> None:
        if workers > 1 and len(topics) != 1:
            raise ValueError("concurrent workers need exactly one topic (faststream commits per partition)")
        self.name = name
        self.workers = workers
        self.topics = topics
        self._subscriptions: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            self._subscriptions.setdefault(subscription.ce_type, []).append(subscription)
        for ce_type, same_type in self._subscriptions.items():
            if len(same_type) > 1 and not all(s.transactional for s in same_type):
                raise ValueError(f"{ce_type}: several handlers of one event type must all be transactional")
        self._uow = uow
        self._broker = broker
        self._inbox = uow.db[INBOX_COLLECTION]
        self._tombstones = uow.db[TOMBSTONE_COLLECTION]
        self._handler_attempts = handler_attempts
        self._sealer = sealer or Sealer()

    @property
    def ce_types(self) -> tuple[str, ...]:
        """The event types this consumer subscribes to, in declaration order (the AsyncAPI document's
        `receive` operations are derived from it)."""
        return tuple(self._subscriptions)

    def register(self) -> None:
        """Attach this consumer to the broker (at-least-once: offsets commit after processing).

        With `workers` > 1, that many group members in this process share the topic's partitions
        (order within a partition is kept)."""

        async def on_message(message: KafkaMessage) -> None:
            await self.process(message.raw_message)

        self._broker.subscriber(  # on the broker, topics and group are in the process's namespace
            *(topic_name(topic) for topic in self.topics),
            group_id=group_name(self.name),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.name}:{'+'.join(self.topics)}",
            max_workers=self.workers,
        )(on_message)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Parse, deduplicate and handle one record; dead-letter it if it is bad. Every log line written
        meanwhile carries the record's `ce_id`, topic, partition and offset, and the span the current
        messaging attributes (consumer group, CloudEvents id and type)."""
        headers = dict(record.headers or ())
        ce_id = headers.get("ce_id", b"").decode("utf-8", "replace")[:200] or None
        ce_type = headers.get("ce_type", b"").decode("utf-8", "replace")[:200] or None
        describe_consumed(group_name(self.name), ce_id, ce_type)
        fields = {"consumer": self.name, "ce_id": ce_id, "ce_type": ce_type}
        with log_fields(**fields, topic=record.topic, partition=record.partition, offset=record.offset):
            await self._process(record, headers)

    async def _process(self, record: ConsumerRecord[bytes, bytes], headers: dict[str, bytes]) -> None:
        try:
            event = parse_kafka_record(headers, record.key, record.value or b"")
        except MalformedEvent as exc:
            await self.dead_letter(record, f"malformed: {exc}", category="malformed")
            return
        subscriptions = self._subscriptions.get(event.ce_type)
        if not subscriptions:
            return  # another consumer's event on a shared topic
        read = await self._read(record, event, subscriptions)
        if read is None:
            return
        opened, handlers = read
        event = dataclasses.replace(event, data=opened.data)
        try:
            await self._handle_with_retries(handlers, event)
        except _AlreadyProcessed:
            return
        except Exception as exc:
            if is_transient(exc):
                log.warning(
                    "event type %s not processed yet (%s); it will be delivered again",
                    event.ce_type,
                    type(exc).__name__,
                )
                raise  # not committed: delivered again once the infrastructure is back
            if isinstance(exc, PermanentFailure):
                await self.dead_letter(record, f"handler refused {event.ce_type}: {exc}", category="refused")
            else:  # after retries, this event's problem
                log.error("handler failed for event type %s", event.ce_type, exc_info=exc)
                await self.dead_letter(
                    record, f"handler failed for {event.ce_type}: {type(exc).__name__}", category="failed"
                )
            return
        # A work item's key: its one reader is done (a failure here leaves the offset uncommitted: the
        # redelivery finds the inbox record and destroys the key then).
        await self._sealer.finish(event.ce_type, opened)

    async def _read(
        self, record: ConsumerRecord[bytes, bytes], event: ReceivedEvent, subscriptions: list[Subscription]
    ) -> tuple[Opened, list[tuple[Subscription, BaseModel]]] | None:
        """The payload opened (sealed personal fields) and read into each subscription's model; None when
        the record was dead-lettered, or dropped for carrying only a purged plan's shredded data."""
        try:
            opened = await self._sealer.open(event.data, record.value)
        except SealBroken as exc:
            await self.dead_letter(record, f"sealed payload of {event.ce_type}: {exc}", category="sealed")
            return None
        try:
            return opened, [(s, s.payload_model.model_validate(opened.data)) for s in subscriptions]
        except ValidationError as exc:
            if opened.shredded:  # its plan was purged, the key destroyed: nothing is left to do with it
                log.info("dropped an event of type %s with personal data of a purged plan", event.ce_type)
                return None
            reason = f"invalid payload for {event.ce_type}: {describe_validation(exc)}"
            await self.dead_letter(record, reason, category="invalid")
            return None

    async def _handle_with_retries(self, handlers: list[tuple[Subscription, BaseModel]], event: ReceivedEvent) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((PyMongoError, *INFRASTRUCTURE_ERRORS)),
            stop=stop_after_attempt(self._handler_attempts),
            wait=wait_random_exponential(multiplier=0.1, max=2),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if handlers[0][0].transactional:
                    await self._uow.run(lambda tx: self._handle_once(handlers, event, tx))
                else:
                    subscription, payload = handlers[0]
                    await self._handle_outside_transaction(subscription, payload, event)

    async def _handle_outside_transaction(
        self, subscription: Subscription, payload: BaseModel, event: ReceivedEvent
    ) -> None:
        inbox_id = f"{self.name}:{event.id}"
        if await self._inbox.find_one({"_id": inbox_id}) is not None:
            return
        purged = not subscription.allow_purged and await self._about_purged_plan(event, None)
        if not purged:
            await subscription.handler(payload, event, None)  # type: ignore[arg-type]
        fields = self._inbox_fields(event, self._uow.clock.now(), keep_key=not (purged or subscription.allow_purged))
        await self._inbox.update_one({"_id": inbox_id}, {"$setOnInsert": fields}, upsert=True)

    async def _handle_once(
        self, handlers: list[tuple[Subscription, BaseModel]], event: ReceivedEvent, tx: Transaction
    ) -> None:
        inbox_id = f"{self.name}:{event.id}"
        if await self._inbox.find_one({"_id": inbox_id}, session=tx.session) is not None:
            return  # processed before: a redelivery changes nothing
        purged = not all(s.allow_purged for s, _ in handlers) and await self._about_purged_plan(event, tx.session)
        for subscription, payload in [] if purged else handlers:  # in declaration order, in this one transaction
            await subscription.handler(payload, event, tx)
        try:
            keep_key = not (purged or any(s.allow_purged for s, _ in handlers))
            fields = self._inbox_fields(event, tx.clock.now(), keep_key=keep_key)
            await self._inbox.insert_one({"_id": inbox_id, **fields}, session=tx.session)
        except DuplicateKeyError:
            raise _AlreadyProcessed from None

    @staticmethod
    def _inbox_fields(event: ReceivedEvent, now: datetime, *, keep_key: bool) -> dict[str, Any]:
        # The key (normally the plan id) lets a purge delete a plan's inbox records too; records of the
        # purge's own events, and of events dropped for a purged plan, are written after it: no key.
        return {"ce_type": event.ce_type, "key": event.key if keep_key else None, "at": now}

    async def _about_purged_plan(self, event: ReceivedEvent, session: Any) -> bool:
        """A late event about a purged plan must not re-create any of it: it is recorded and dropped."""
        if not event.key or await self._tombstones.find_one({"_id": event.key}, {"_id": 1}, session=session) is None:
            return False
        log.info("dropped an event of type %s about a purged plan", event.ce_type)
        return True

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, *, category: DeadLetterCategory = "other"
    ) -> None:
        """Publish the original record, unchanged, to the dead-letter topic (`shared.messaging.dead_letters`)."""
        await publish_dead_letter(self._broker, record, reason, consumer=self.name, category=category)
