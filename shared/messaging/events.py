"""Domain events as CloudEvents 1.0 in Kafka binary content mode.

A service declares its published events as subclasses of `Event` with a versioned `ce_type`
and the `Topic` they go to; the registry built from those declarations feeds the AsyncAPI
document and the topic creation of the launcher.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict

JSON_CONTENT_TYPE = "application/json"


class Topic(BaseModel):
    """A Kafka topic with the partition count it is created with."""

    model_config = ConfigDict(frozen=True)

    name: str
    partitions: int = 6
    description: str = ""
    compacted: bool = False
    retention_ms: int | None = None
    """How long records are kept (None: the cluster's default); short for topics carrying personal data."""
    replicas: int | None = None
    """Replication factor (None: the cluster's default)."""
    min_insync_replicas: int | None = None
    """Replicas that must have a write before acks=all succeeds (None: one less than the replication factor)."""


DEAD_LETTER_TOPIC = Topic(
    name="careplan.deadletter.v1",
    partitions=3,
    description="Events a consumer could not parse or handle, with the reason and the original record.",
)

EVENT_TYPES: dict[str, type[Event]] = {}
TOPICS: dict[str, Topic] = {DEAD_LETTER_TOPIC.name: DEAD_LETTER_TOPIC}


class Event(BaseModel):
    """A published domain event. Subclasses set `ce_type`, `topic` and (if not `plan_id`) `key_field`."""

    model_config = ConfigDict(frozen=True)

    ce_type: ClassVar[str] = ""
    topic: ClassVar[Topic]
    key_field: ClassVar[str] = "plan_id"
    work_key_field: ClassVar[str | None] = None
    """Seal this event's personal fields with a short-lived key of its own, named by this field (a work
    item's id), instead of each value's plan key; its one consumer group destroys the key once it has
    handled the event, and it expires anyway (`KEYRING_WORK_KEY_SECONDS`). Only for internal work
    topics with one reader, where a plan key per value costs too much (`shared.messaging.sealing`)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.ce_type:
            return
        existing = EVENT_TYPES.get(cls.ce_type)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {cls.ce_type} declared twice: {existing} and {cls}")
        EVENT_TYPES[cls.ce_type] = cls
        TOPICS.setdefault(cls.topic.name, cls.topic)

    def partition_key(self) -> str:
        """The Kafka key: all events of one aggregate (normally a plan) land on one partition, in order."""
        return str(getattr(self, self.key_field))


@dataclass(frozen=True)
class EventRecord:
    """An event as stored in the outbox and sent on Kafka (ids and times fixed when it was recorded)."""

    id: str
    ce_type: str
    source: str
    topic: str
    key: str
    time: datetime
    data: dict[str, Any]
    trace: dict[str, str] = field(default_factory=dict)
    """The W3C trace context the event was published in (the outbox relay sends it in the headers)."""

    @classmethod
    def from_event(
        cls, event: Event, *, source: str, time: datetime, trace: dict[str, str] | None = None
    ) -> EventRecord:
        return cls(
            id=str(uuid.uuid4()),
            ce_type=event.ce_type,
            source=source,
            topic=event.topic.name,
            key=event.partition_key(),
            time=time,
            data=event.model_dump(mode="json"),
            trace=trace or {},
        )

    def to_kafka(self) -> ce_kafka.KafkaMessage:
        """Binary content mode: attributes in `ce_*` headers, the JSON payload as the value."""
        cloud_event = CloudEvent(
            attributes={
                "id": self.id,
                "type": self.ce_type,
                "source": self.source,
                "time": self.time,
                "subject": self.key,
                "datacontenttype": JSON_CONTENT_TYPE,
                "partitionkey": self.key,
            },
            data=self.data,
        )
        return ce_kafka.to_binary_event(cloud_event)


class MalformedEvent(ValueError):
    """A Kafka record that is not a valid CloudEvent with a JSON object payload."""


@dataclass(frozen=True)
class ReceivedEvent:
    """A CloudEvent read from Kafka."""

    id: str
    ce_type: str
    source: str
    time: datetime | None
    key: str | None
    data: dict[str, Any]


def parse_kafka_record(headers: dict[str, bytes], key: bytes | None, value: bytes) -> ReceivedEvent:
    """Parse a binary-mode CloudEvent; raise `MalformedEvent` with the reason when it is not one."""
    ce_headers = {
        name: raw for name, raw in headers.items() if name.lower().startswith("ce_") or name == "content-type"
    }
    if "ce_type" not in ce_headers or "ce_id" not in ce_headers:
        raise MalformedEvent("missing ce_id or ce_type header: not a binary-mode CloudEvent")
    try:
        event = ce_kafka.from_binary_event(ce_kafka.KafkaMessage(headers=ce_headers, key=key, value=value))
    except Exception as exc:
        raise MalformedEvent(f"invalid CloudEvent: {type(exc).__name__}: {exc}") from exc
    data = event.get_data()
    if not isinstance(data, dict):
        raise MalformedEvent("payload is not a JSON object")
    return ReceivedEvent(
        id=event.get_id(),
        ce_type=event.get_type(),
        source=event.get_source(),
        time=event.get_time(),
        key=key.decode("utf-8", "replace") if key is not None else None,
        data=data,
    )


def declare_topic(topic: Topic) -> Topic:
    """Register a topic a service publishes to (topics with events register themselves)."""
    TOPICS.setdefault(topic.name, topic)
    return topic
