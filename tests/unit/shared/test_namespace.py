"""Every topic and consumer-group name a service uses on the broker goes through one namespace: none in
dev and production (the registry's names, unchanged), a per-run prefix for a test run on shared servers;
the contract (AsyncAPI, KafkaTopic and KafkaUser resources) always names the registry's topics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from launcher.asyncapi import asyncapi_document
from launcher.k8s import stale_files
from shared.messaging.consumer import EventConsumer
from shared.messaging.events import EventRecord
from shared.messaging.naming import Namespace, install_namespace
from shared.messaging.outbox import publish_record
from shared.messaging.sealing import Sealer

ASYNCAPI = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


class RecordingBroker:
    """Records what a consumer subscribes to and what is published."""

    def __init__(self) -> None:
        self.subscribed: list[tuple[tuple[str, ...], str]] = []
        self.published: list[str] = []
        self.headers: list[dict[str, str]] = []

    def subscriber(self, *topics: str, group_id: str, **_: Any) -> Any:
        self.subscribed.append((topics, group_id))
        return lambda handler: handler

    async def publish(self, _: bytes, topic: str, *, headers: dict[str, str], **__: Any) -> None:
        self.published.append(topic)
        self.headers.append(headers)


@pytest.fixture
def namespace() -> Iterator[None]:
    previous = install_namespace("t1a2b3c4_")
    yield
    install_namespace(previous.prefix)


def consumer(broker: RecordingBroker) -> EventConsumer:
    uow = SimpleNamespace(db={"inbox": None, "purged_plans": None})
    return EventConsumer("retention.plan-events", ["careplan.plans.v1"], [], uow, broker)  # type: ignore[arg-type]


def test_names_in_a_namespace_and_without_one() -> None:
    space = Namespace("t1_")
    assert (space.topic("careplan.plans.v1"), space.group("retention")) == ("t1_careplan.plans.v1", "t1_retention")
    assert space.topic("t1_careplan.plans.v1") == "t1_careplan.plans.v1"  # already on the broker's name
    assert space.logical("t1_careplan.plans.v1") == "careplan.plans.v1"
    assert (Namespace().topic("careplan.plans.v1"), Namespace().group("retention")) == (
        "careplan.plans.v1",
        "retention",
    )
    with pytest.raises(ValueError, match="namespace 'a b'"):
        Namespace("a b")


async def test_a_consumer_subscribes_dead_letters_and_the_relay_publishes_in_the_namespace(namespace: None) -> None:
    broker = RecordingBroker()
    events = consumer(broker)
    events.register()
    assert broker.subscribed == [(("t1a2b3c4_careplan.plans.v1",), "t1a2b3c4_retention.plan-events")]
    assert events.name == "retention.plan-events" and events.topics == ["careplan.plans.v1"]  # the contract's
    record = SimpleNamespace(topic="t1a2b3c4_careplan.plans.v1", partition=0, offset=1, key=b"k", value=b"", headers=())
    await events.dead_letter(record, "malformed")  # type: ignore[arg-type]
    event = EventRecord("id", "x.y.v1", "/t", "careplan.retention.v1", "k", datetime.now(UTC), {})
    await publish_record(broker, event, Sealer())  # type: ignore[arg-type]
    assert broker.published == ["t1a2b3c4_careplan.deadletter.v1", "t1a2b3c4_careplan.retention.v1"]
    assert broker.headers[0]["dlt_topic"] == "careplan.plans.v1"  # the origin by the registry's name


async def test_without_a_namespace_the_names_are_the_registrys() -> None:
    broker = RecordingBroker()
    consumer(broker).register()
    await publish_record(broker, EventRecord("id", "x.y.v1", "/t", "careplan.retention.v1", "k", datetime.now(UTC), {}))  # type: ignore[arg-type]
    assert broker.subscribed == [(("careplan.plans.v1",), "retention.plan-events")]
    assert broker.published == ["careplan.retention.v1"]


def test_the_contract_never_carries_a_namespace(namespace: None) -> None:
    assert stale_files() == []  # KafkaTopics and KafkaUsers (topics, groups) as checked in, un-prefixed
    assert asyncapi_document() == json.loads(ASYNCAPI.read_text())
