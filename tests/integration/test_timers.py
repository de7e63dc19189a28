"""Durable timers on the real database: fire once, survive a crashed claimant, catch up what was missed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.storage.timers import Timer, TimerRunner, TimerStore, slot_of
from shared.storage.unit_of_work import MongoUnitOfWork, Transaction

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def timer_db(servers: Platform):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_timers_{uuid.uuid4().hex[:8]}"]
    clock = FixedClock(START)
    uow = MongoUnitOfWork(
        client, db, clock=clock, source="/tests", audit_log=AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    )
    store = TimerStore(db, clock)
    await store.ensure_indexes()
    yield db, clock, uow, store
    await client.drop_database(db.name)
    await client.close()


def runner(
    store: TimerStore,
    uow: MongoUnitOfWork,
    clock: FixedClock,
    owner: str,
    handler: Any,
    lease: timedelta = timedelta(seconds=60),
) -> TimerRunner:
    return TimerRunner(store, uow, {"test.kind": handler}, owner=owner, clock=clock, poll_seconds=0.1, lease=lease)


async def record_firing(timer: Timer, tx: Transaction) -> None:
    await tx.db["effects"].insert_one({"timer": timer.key, "payload": timer.payload}, session=tx.session)


async def test_timers_fire_once_when_due_even_with_competing_runners(timer_db) -> None:
    db, clock, uow, store = timer_db
    for i in range(20):
        assert await store.schedule(f"t-{i}", "test.kind", START + timedelta(hours=i + 1), {"n": i})
    assert not await store.schedule("t-0", "test.kind", START, {"n": 99})  # unique key: not replaced
    first, second = (runner(store, uow, clock, owner, record_firing) for owner in ("a", "b"))
    assert await first.fire_due() == 0  # nothing due yet
    clock.advance(timedelta(hours=10, minutes=30))
    fired = await asyncio.gather(first.fire_due(), second.fire_due())
    assert sum(fired) == 10
    clock.advance(timedelta(days=3))  # catch-up of everything missed
    assert await first.fire_due() + await second.fire_due() == 10
    effects = [doc["timer"] async for doc in db["effects"].find()]
    assert sorted(effects) == sorted(f"t-{i}" for i in range(20))
    assert (await store.get("t-0")).payload == {"n": 0}


async def test_a_claim_whose_holder_died_is_taken_over_after_its_lease(timer_db) -> None:
    db, clock, uow, store = timer_db
    await store.schedule("crash", "test.kind", START, {})
    claimed = await store.claim_due("crashed-owner", timedelta(seconds=30))  # claimed, then the holder dies
    assert [t.key for t in claimed] == ["crash"]
    survivor = runner(store, uow, clock, "survivor", record_firing)
    assert await survivor.fire_due() == 0  # lease still held
    clock.advance(timedelta(seconds=31))
    assert await survivor.fire_due() == 1
    assert await db["effects"].count_documents({"timer": "crash"}) == 1
    assert (await store.get("crash")).status == "fired"


async def test_a_failing_handler_rolls_back_and_the_timer_fires_later(timer_db) -> None:
    db, clock, uow, store = timer_db
    await store.schedule("flaky", "test.kind", START, {})
    calls = {"n": 0}

    async def flaky(timer: Timer, tx: Transaction) -> None:
        calls["n"] += 1
        await record_firing(timer, tx)
        if calls["n"] == 1:
            raise RuntimeError("provider down")

    worker = runner(store, uow, clock, "w", flaky, lease=timedelta(seconds=5))
    assert await worker.fire_due() == 0
    assert await db["effects"].count_documents({}) == 0  # the effect of the failed attempt was rolled back
    clock.advance(timedelta(seconds=6))
    assert await worker.fire_due() == 1
    assert await db["effects"].count_documents({}) == 1


async def test_cancelled_timers_never_fire(timer_db) -> None:
    db, clock, uow, store = timer_db
    await store.schedule("cancel-me", "test.kind", START + timedelta(minutes=1), {})
    assert await store.cancel("cancel-me")
    clock.advance(timedelta(hours=1))
    assert await runner(store, uow, clock, "w", record_firing).fire_due() == 0
    assert await db["effects"].count_documents({}) == 0


async def test_a_handler_that_cancels_its_own_timer_fires_once_and_keeps_its_effect(timer_db) -> None:
    db, clock, uow, store = timer_db

    async def settle(timer: Timer, tx: Transaction) -> None:  # e.g. a handover expiring cancels its expiry
        await record_firing(timer, tx)
        await store.cancel(timer.key, session=tx.session)

    await store.schedule("self-cancelling", "test.kind", START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    assert await runner(store, uow, clock, "a", settle).fire_due() == 1
    clock.advance(timedelta(minutes=10))
    assert await runner(store, uow, clock, "b", settle).fire_due() == 0
    assert await db["effects"].count_documents({"timer": "self-cancelling"}) == 1


async def test_a_timer_behind_the_watermark_is_found_by_the_sweep(timer_db) -> None:
    db, clock, uow, store = timer_db
    worker = runner(store, uow, clock, "w", record_firing)
    clock.advance(timedelta(days=2))
    assert await worker.fire_due() == 0  # the watermark moves up to now
    await store.schedule("late", "test.kind", START, {})  # as if by a replica whose clock lagged
    await db["timers"].update_one({"_id": "late"}, {"$set": {"slot": slot_of(START)}})
    assert await worker.fire_due() == 0  # behind the watermark: the forward walk cannot see it
    assert await store.sweep_behind_watermark()
    assert await worker.fire_due() == 1
    assert await db["effects"].count_documents({"timer": "late"}) == 1
    assert not await store.sweep_behind_watermark()
