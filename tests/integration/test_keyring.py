"""The plan keyring on the real database, and crypto-shredding end to end on the real broker: the relay
seals, the topic holds no plaintext, a consumer reads the event as it was written, and after the key
is destroyed the same record is dropped (never dead-lettered) and no new key is ever made."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from services.notifications.domain.model import FanoutRecipient
from shared.audit import AuditLog
from shared.clock import SystemClock
from shared.contracts.notifications import WORK_TOPIC, AnnouncementBatch
from shared.contracts.plans import PLANS_TOPIC, PlanStarted
from shared.crypto.envelope import is_envelope
from shared.crypto.keyring import CachingKeyring
from shared.crypto.mongo_keyring import KEYS_COLLECTION, MongoKeyring
from shared.messaging.consumer import TOMBSTONE_COLLECTION, EventConsumer, Subscription
from shared.messaging.events import EventRecord, ReceivedEvent
from shared.messaging.outbox import OutboxRelay
from shared.messaging.sealing import Sealer, open_payload
from shared.storage.unit_of_work import MongoUnitOfWork, Transaction
from tests.conftest import new_personnummer
from tests.support.kafka_helpers import find_record, header

pytestmark = pytest.mark.integration


@pytest.fixture
async def databases(servers: Platform) -> AsyncIterator[tuple[Any, Any]]:
    """A fresh service database and a fresh keyring database on the real server."""
    assert servers.addresses is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    suffix = uuid.uuid4().hex[:8]
    service, keyring = client[f"test_sealed_{suffix}"], client[f"test_keyring_{suffix}"]
    try:
        yield service, keyring
    finally:
        await client.drop_database(service.name)
        await client.drop_database(keyring.name)
        await client.close()


async def test_keys_are_made_once_even_by_racing_processes_and_a_destroyed_one_never_comes_back(
    databases: tuple[Any, Any],
) -> None:
    _, db = databases
    plans = [f"plan-{i}" for i in range(250)]  # more than one `$in` chunk
    racing = [MongoKeyring(db) for _ in range(4)]
    answers = await asyncio.gather(*(k.keys_for(plans, create=True) for k in racing))
    assert all(answer == answers[0] for answer in answers) and len(set(answers[0].values())) == len(plans)
    assert await db[KEYS_COLLECTION].count_documents({}) == len(plans)

    keyring = MongoKeyring(db)
    await keyring.destroy("plan-0")
    await keyring.destroy("plan-0")  # idempotent
    await keyring.destroy("never-keyed")  # a plan purged before anything personal of it was published
    again = await keyring.keys_for(["plan-0", "plan-1", "never-keyed"], create=True)
    assert again == {"plan-0": None, "plan-1": answers[0]["plan-1"], "never-keyed": None}
    marker = await db[KEYS_COLLECTION].find_one({"_id": "plan-0"})
    assert set(marker) == {"_id", "destroyed_at"}  # the plan id and when: no key
    assert await keyring.keys_for(["unknown"], create=False) == {}


async def test_a_destroy_racing_the_first_key_leaves_the_plan_without_a_key(databases: tuple[Any, Any]) -> None:
    _, db = databases
    for attempt in range(5):
        plan_id = f"race-{attempt}"
        await asyncio.gather(MongoKeyring(db).keys_for([plan_id], create=True), MongoKeyring(db).destroy(plan_id))
        assert await MongoKeyring(db).keys_for([plan_id], create=True) == {plan_id: None}


async def test_a_work_items_key_expires_by_itself_when_nobody_destroys_it(databases: tuple[Any, Any]) -> None:
    _, db = databases
    keyring = MongoKeyring(db, short_lived_seconds=0.5)
    key = (await keyring.keys_for(["batch_id:a:0"], create=True, short_lived=True))["batch_id:a:0"]
    assert key is not None and await keyring.keys_for(["batch_id:a:0"], create=False) == {"batch_id:a:0": key}
    await asyncio.sleep(0.7)
    assert await keyring.keys_for(["batch_id:a:0"], create=True) == {"batch_id:a:0": None}  # expired: none again
    await MongoKeyring(db).keys_for(["batch_id:a:1"], create=True, short_lived=True)  # the next maker sweeps
    swept = await db[KEYS_COLLECTION].find_one({"_id": "batch_id:a:0"})
    assert "key" not in swept and "destroyed_at" in swept


def started(plan_id: str, personnummer: str) -> PlanStarted:
    return PlanStarted(
        plan_id=plan_id,
        unit_id="SE2321000016-KEYS1",
        patient_personnummer=personnummer,
        protected_identity=False,
        program_id="prog",
        program_version="1.0",
        responsible_hsa_id="SE2321000016-T1",
        started_at=datetime.now(UTC),
    )


class RecordingBroker:
    """Stands in for the broker a consumer dead-letters through."""

    def __init__(self) -> None:
        self.dead_lettered: list[dict[str, str]] = []

    async def publish(self, value: bytes, topic: str, **kwargs: Any) -> None:
        self.dead_lettered.append(kwargs.get("headers") or {})


async def test_the_relay_seals_the_topic_holds_no_plaintext_and_after_the_purge_the_event_is_dropped(
    servers: Platform, databases: tuple[Any, Any]
) -> None:
    assert servers.addresses is not None
    service_db, keyring_db = databases
    client = service_db.client
    clock = SystemClock()
    audit = AuditLog(service_db, service="t", pepper="pepper!!", clock=clock)
    uow = MongoUnitOfWork(client, service_db, clock=clock, source="/tests", audit_log=audit)
    keyring = CachingKeyring(MongoKeyring(keyring_db), ttl_seconds=0)
    plan_id, personnummer = str(uuid.uuid4()), new_personnummer("19690303")

    async def start(tx: Transaction) -> None:
        tx.publish(started(plan_id, personnummer))

    await uow.run(start)
    broker = KafkaBroker(servers.addresses.kafka_bootstrap_servers, acks="all", logger=None)
    await broker.start()
    try:
        relay = OutboxRelay(uow, broker, owner="keyring-test", poll_seconds=0.1, sealer=Sealer(keyring))
        assert await relay.relay_once() == 1
    finally:
        await broker.stop()
    record = await find_record(
        servers.addresses.kafka_bootstrap_servers,
        PLANS_TOPIC.name,
        lambda r: r.key == plan_id.encode() and header(r, "ce_type") == PlanStarted.ce_type,
    )
    assert personnummer.encode() not in (record.value or b"")
    payload = json.loads(record.value or b"{}")
    assert is_envelope(payload["patient_personnummer"]) and payload["patient_personnummer"]["kid"] == plan_id
    assert (await open_payload(payload, keyring))["patient_personnummer"] == personnummer

    handled: list[str] = []

    async def on_started(event: PlanStarted, _: ReceivedEvent, __: Transaction) -> None:
        handled.append(event.patient_personnummer)

    dead_letters = RecordingBroker()
    consumer = EventConsumer(
        f"keyring-test-{plan_id[:8]}",
        [PLANS_TOPIC.name],
        [Subscription(PlanStarted.ce_type, PlanStarted, on_started)],
        uow,
        dead_letters,  # type: ignore[arg-type]
        sealer=Sealer(keyring),
    )
    await consumer.process(record)
    assert handled == [personnummer]  # the consumer reads the event as it was written

    await keyring.destroy(plan_id)  # the purge: every service wrote its tombstone, then the key goes
    await service_db[TOMBSTONE_COLLECTION].insert_one({"_id": plan_id})
    await service_db["inbox"].delete_many({})  # as if this consumer had never seen the record
    await consumer.process(record)
    assert handled == [personnummer] and dead_letters.dead_lettered == []
    assert (await open_payload(payload, keyring))["patient_personnummer"] == ""


async def test_a_batch_is_read_once_with_its_own_key_which_its_reader_then_destroys(
    databases: tuple[Any, Any],
) -> None:
    service_db, keyring_db = databases
    clock = SystemClock()
    audit = AuditLog(service_db, service="t", pepper="pepper!!", clock=clock)
    uow = MongoUnitOfWork(service_db.client, service_db, clock=clock, source="/tests", audit_log=audit)
    keyring = CachingKeyring(MongoKeyring(keyring_db), ttl_seconds=0)
    personnummer = new_personnummer("19580808")
    recipient = FanoutRecipient(plan_id="p1", unit_id="U1", personnummer=personnummer, addresses={"inbox": None})
    batch = AnnouncementBatch(batch_id="a1:0", announcement_id="a1", recipients=[recipient])
    sealed = await Sealer(keyring).seal(EventRecord.from_event(batch, source="/tests", time=clock.now()))
    message = sealed.to_kafka()
    assert personnummer.encode() not in message.value
    record = ConsumerRecord(
        WORK_TOPIC.name, 0, 1, 0, 0, b"a1:0", message.value, None, len(b"a1:0"), len(message.value),
        list(message.headers.items()),
    )  # fmt: skip
    read: list[str] = []

    async def on_batch(event: AnnouncementBatch, _: ReceivedEvent, __: Any) -> None:
        read.extend(r.personnummer for r in event.recipients)

    subscription = Subscription(AnnouncementBatch.ce_type, AnnouncementBatch, on_batch, transactional=False)
    dead_letters = RecordingBroker()
    consumer = EventConsumer(
        "keyring-test-work", [WORK_TOPIC.name], [subscription], uow, dead_letters, sealer=Sealer(keyring)
    )
    await consumer.process(record)
    assert read == [personnummer] and dead_letters.dead_lettered == []
    assert await keyring.keys_for(["batch_id:a1:0"], create=True) == {"batch_id:a1:0": None}
    await consumer.process(record)  # a redelivery: the inbox skips it, nothing breaks without the key
    assert read == [personnummer] and dead_letters.dead_lettered == []
