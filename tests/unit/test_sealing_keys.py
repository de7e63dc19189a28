"""The key lifecycle and the contracts' personal fields: the cache, the purge destroying the plan's key,
every personal field having a plan, and the AsyncAPI document saying which fields are sealed."""

from __future__ import annotations

from typing import Any

from launcher.asyncapi import asyncapi_document, personal_fields
from launcher.catalogue import all_topics
from shared.contracts import notifications, plans
from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import PlanPurged, PurgeRequested
from shared.crypto.keyring import CachingKeyring, InMemoryKeyring
from shared.crypto.personal import personal_spec, unplanned
from shared.messaging.events import EVENT_TYPES
from tests.unit.retention.fakes import RetentionWorld, receipt
from tests.unit.retention.test_purges import FORCE, admin


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_keeps_a_key_for_its_ttl_and_a_destroyed_key_for_good() -> None:
    inner, clock = InMemoryKeyring(), Clock()
    cache = CachingKeyring(inner, ttl_seconds=30, monotonic=clock)
    key = (await cache.keys_for(["p1"], create=True))["p1"]
    await inner.destroy("p1")  # elsewhere: another process's purge
    clock.now = 29
    assert (await cache.keys_for(["p1"], create=False)) == {"p1": key}  # still cached, at most the TTL
    clock.now = 31
    assert (await cache.keys_for(["p1"], create=True)) == {"p1": None}  # gone, and none made again
    await cache.destroy("p2")
    clock.now = 10_000
    assert (await cache.keys_for(["p2"], create=True)) == {"p2": None}
    assert inner.keys["p2"] is None


async def test_without_create_a_plan_with_no_key_is_left_out_and_nothing_is_made() -> None:
    keyring = CachingKeyring(InMemoryKeyring(), ttl_seconds=30)
    assert await keyring.keys_for(["nobody"], create=False) == {}
    assert await keyring.keys_for(["nobody"], create=False) == {}


async def test_the_cache_holds_at_most_its_maximum_of_plans() -> None:
    inner = InMemoryKeyring()
    cache = CachingKeyring(inner, ttl_seconds=30, max_entries=2)
    await cache.keys_for(["p1", "p2", "p3"], create=True)
    inner.keys["p1"] = b"changed elsewhere"  # p1 was dropped from the cache: read again
    assert (await cache.keys_for(["p1"], create=False))["p1"] == b"changed elsewhere"


async def test_the_purge_destroys_the_plans_key_when_the_last_receipt_is_in_and_not_before() -> None:
    world = RetentionWorld()
    keyring = InMemoryKeyring()
    world.services.purges.keyring = keyring
    await keyring.keys_for(["p1", "p2"], create=True)
    for plan_id in ("p1", "p2"):
        await world.start(plan_id)
        await world.end(plan_id)
    await world.services.purges.request_purge("p1", FORCE, admin())
    purge_id = world.uow.events_of(PurgeRequested)[0].purge_id
    *first, last = PURGING_SERVICES
    await world.deliver(*(receipt(s, "p1", purge_id) for s in first))
    assert keyring.keys["p1"] is not None and not world.uow.events_of(PlanPurged)
    await world.deliver(receipt(last, "p1", purge_id))
    assert keyring.keys["p1"] is None and world.uow.events_of(PlanPurged)
    assert keyring.keys["p2"] is not None  # the other plan of the unit keeps its key


def test_every_personal_field_of_every_event_has_a_plan_whose_key_seals_it() -> None:
    all_topics()  # registers every contract's events
    sealed = {t: personal_spec(e) for t, e in EVENT_TYPES.items() if personal_spec(e) is not None}
    assert {t: unplanned(s) for t, s in sealed.items() if unplanned(s)} == {}
    assert {plans.PlanStarted.ce_type, notifications.AnnouncementBatch.ce_type} <= sealed.keys()
    assert personal_fields(notifications.AnnouncementBatch) == ["recipients"]  # a work item: sealed whole
    assert personal_fields(notifications.ExportPart) == ["content"]


def test_the_asyncapi_document_marks_personal_fields_and_says_how_each_topic_keeps_them() -> None:
    document: dict[str, Any] = asyncapi_document()
    schemas = document["components"]["schemas"]
    personnummer = schemas["PlanStarted"]["properties"]["patient_personnummer"]
    assert personnummer["x-personal"] is True
    assert personnummer["anyOf"][0] == {"$ref": "#/components/schemas/SealedValue"}
    assert schemas["SealedValue"]["required"] == ["sealed", "kid", "alg", "shape"]
    assert schemas["FanoutRecipient"]["properties"]["addresses"]["x-personal"] is True
    recipients = schemas["AnnouncementBatch"]["properties"]["recipients"]
    assert recipients["x-sealed-with-work-key"] == "batch_id" and recipients["anyOf"][1]["type"] == "array"
    assert "x-personal" not in schemas["PlanStarted"]["properties"]["program_id"]
    bindings = {name: c["bindings"]["kafka"]["x-careplan-personal-data"] for name, c in document["channels"].items()}
    assert bindings["careplan_plans_v1"]["strategy"] == "crypto-shredding"
    assert bindings["careplan_plans_v1"]["sealedFields"]["plan_started_v1"] == ["patient_personnummer"]
    assert bindings["careplan_retention_v1"]["strategy"] == "none"
