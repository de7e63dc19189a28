"""Durable timers in MongoDB: due time in UTC, a unique key, claimed with a lease, fired exactly once.

A timer's effect (normally events into the outbox) and its `fired` mark commit in one
transaction, and the mark is conditional on still holding the claim: whatever crashes, the
effect happens once. On start the runner fires everything that came due while nothing ran.

Finding due timers uses equality lookups only (SecantusDB, like some MongoDB-compatible servers,
scans on range queries): every live timer sits in the five-minute *slot* of its wake time (its
due time while pending, its lease expiry while claimed), and runners walk a persisted watermark
through the slots up to now. A slot behind the watermark is empty by construction; a timer
scheduled late lands in the current slot (or just past the watermark).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from opentelemetry.instrumentation.utils import suppress_instrumentation
from pydantic import BaseModel
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.clock import Clock
from shared.observability.metrics import TIMER_FAILURES, TIMERS_FIRED, service_name
from shared.observability.progress import ProgressLog
from shared.storage.unit_of_work import MongoUnitOfWork, Transaction

log = logging.getLogger(__name__)
TIMERS_COLLECTION = "timers"
TIMER_STATE_COLLECTION = "timer_state"
PENDING, CLAIMED, FIRED, CANCELLED = "pending", "claimed", "fired", "cancelled"
SLOT_SECONDS = 300


def slot_of(moment: datetime) -> int:
    return int(moment.timestamp()) // SLOT_SECONDS


class Timer(BaseModel):
    """A stored timer."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int = 0


TimerHandler = Callable[[Timer, Transaction], Awaitable[None]]


class TimerScheduler(Protocol):
    """What a use case does with durable timers (MongoDB's `TimerStore`, or a fake in unit tests)."""

    async def schedule(
        self, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None, session: Any = None
    ) -> bool: ...

    async def cancel(self, key: str, session: Any = None) -> bool: ...


class LostClaim(Exception):
    """The timer was claimed by someone else (our lease expired) before we could mark it fired."""


class TimerStore:
    """Schedules, cancels, claims and completes timers."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self._collection = db[TIMERS_COLLECTION]
        self._state = db[TIMER_STATE_COLLECTION]
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("slot", ASCENDING)])
        await self._collection.create_index([("claim", ASCENDING)])
        await self._collection.create_index([("payload.plan_id", ASCENDING)])  # a purge deletes a plan's timers

    async def schedule(
        self,
        key: str,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        session: AsyncClientSession | None = None,
    ) -> bool:
        """Create a timer; False (and nothing changed) if one with this key exists already."""
        now = self._clock.now()
        # Never behind the watermark, even for a process whose clock is behind the one that moved it.
        slot = max(slot_of(due_at), slot_of(now), await self._watermark() + 1)
        try:
            await self._collection.insert_one(
                {
                    "_id": key,
                    "kind": kind,
                    "due_at": due_at,
                    "payload": payload or {},
                    "status": PENDING,
                    "attempts": 0,
                    "owner": None,
                    "claim": None,
                    "wake_at": due_at,
                    "slot": slot,
                    "created_at": now,
                },
                session=session,
            )
        except DuplicateKeyError:
            return False
        return True

    async def cancel(self, key: str, session: AsyncClientSession | None = None) -> bool:
        """Cancel a timer that has not fired; True if it was live."""
        result = await self._collection.update_one(
            {"_id": key, "status": {"$in": [PENDING, CLAIMED]}},
            {"$set": {"status": CANCELLED, "slot": None, "wake_at": None}},
            session=session,
        )
        return result.modified_count == 1

    async def get(self, key: str) -> Timer | None:
        doc = await self._collection.find_one({"_id": key})
        return _timer(doc) if doc else None

    async def _watermark(self) -> int:
        """The last slot known to hold no live timer."""
        doc = await self._state.find_one({"_id": "watermark"})
        if doc is not None:
            return int(doc["slot"])
        earliest = await self._collection.find_one({"slot": {"$ne": None}}, {"slot": 1}, sort=[("slot", ASCENDING)])
        start = (earliest["slot"] if earliest else slot_of(self._clock.now())) - 1
        await self._state.update_one({"_id": "watermark"}, {"$setOnInsert": {"slot": start}}, upsert=True)
        watermark = await self._state.find_one({"_id": "watermark"})
        assert watermark is not None  # upserted just above
        return int(watermark["slot"])

    async def claim_due(self, owner: str, lease: timedelta, limit: int = 100) -> list[Timer]:
        """Atomically take up to `limit` due timers (or ones whose claimant's lease ran out)."""
        now = self._clock.now()
        current = slot_of(now)
        lease_until = now + lease
        slot = await self._watermark() + 1
        while slot <= current:
            due = {"slot": slot, "wake_at": {"$lte": now}}
            ids = [doc["_id"] async for doc in self._collection.find(due, {"_id": 1}).limit(limit)]
            if ids:
                token = uuid.uuid4().hex
                claim = {
                    "$set": {
                        "status": CLAIMED,
                        "owner": owner,
                        "claim": token,
                        "wake_at": lease_until,
                        "slot": slot_of(lease_until),
                    },
                    "$inc": {"attempts": 1},
                }
                # One indexed update per timer (an `$in` is a full scan on some servers); the `due`
                # condition makes each claim atomic against other runners.
                await self._collection.bulk_write([UpdateOne({"_id": i, **due}, claim) for i in ids], ordered=False)
                return [_timer(doc) async for doc in self._collection.find({"claim": token})]
            if slot == current or await self._collection.count_documents({"slot": slot}, limit=1):
                return []
            # An elapsed, empty slot: jump to the next live one with one query rather than one per slot
            # (after a long stop there can be hundreds of thousands of empty slots).
            following = await self._collection.find_one(
                {"slot": {"$gt": slot, "$lte": current}}, {"slot": 1}, sort=[("slot", ASCENDING)]
            )
            slot = following["slot"] if following else current
            await self._state.update_one({"_id": "watermark"}, {"$max": {"slot": slot - 1}})
        return []

    async def sweep_behind_watermark(self) -> bool:
        """Move the watermark back if a live timer sits behind it (a scheduler whose clock lagged the
        runners'); True if it did. One query, meant to run every few minutes, not every poll."""
        watermark = await self._watermark()
        behind = await self._collection.find_one(
            {"slot": {"$ne": None, "$lte": watermark}}, {"slot": 1}, sort=[("slot", ASCENDING)]
        )
        if behind is None:
            return False
        await self._state.update_one({"_id": "watermark"}, {"$min": {"slot": behind["slot"] - 1}})
        return True

    async def mark_fired(self, key: str, owner: str, session: AsyncClientSession) -> None:
        # CANCELLED too: a handler that settles its object cancels the object's timers, its own
        # among them (a handover's expiry, a deadline met); that is not a lost claim. The owner
        # check is what tells a claim taken over after the lease ran out.
        result = await self._collection.update_one(
            {"_id": key, "status": {"$in": [CLAIMED, CANCELLED]}, "owner": owner},
            {"$set": {"status": FIRED, "fired_at": self._clock.now(), "slot": None, "wake_at": None, "claim": None}},
            session=session,
        )
        if result.modified_count != 1:
            raise LostClaim(key)


def _timer(doc: dict[str, Any]) -> Timer:
    return Timer(
        key=doc["_id"],
        kind=doc["kind"],
        due_at=doc["due_at"],
        payload=doc["payload"],
        status=doc["status"],
        attempts=doc.get("attempts", 0),
    )


class TimerRunner:
    """Fires due timers through their kind's handler, one transaction per timer."""

    SWEEP_EVERY = timedelta(minutes=5)

    def __init__(
        self,
        store: TimerStore,
        uow: MongoUnitOfWork,
        handlers: dict[str, TimerHandler],
        *,
        owner: str,
        clock: Clock,
        poll_seconds: float,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._store = store
        self._uow = uow
        self._handlers = handlers
        self._owner = owner
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._lease = lease
        self._progress = ProgressLog(log, "timers fired")

    async def fire_due(self, limit: int | None = None) -> int:
        """Fire every timer due now (catch-up included); returns how many fired."""
        fired = 0
        while limit is None or fired < limit:
            with suppress_instrumentation():  # polling is not a workflow: keep it out of traces
                batch = await self._store.claim_due(self._owner, self._lease)
            if not batch:
                return fired
            fired += await self._fire(batch)
        return fired

    async def _fire(self, timers: list[Timer]) -> int:
        """Fire a claimed batch in one transaction; if any of it fails, fire them one by one."""
        runnable = [t for t in timers if t.kind in self._handlers]
        for timer in timers:
            if timer.kind not in self._handlers:
                log.error("no handler for timer kind %s; left claimed for a service that has one", timer.kind)

        async def work(tx: Transaction, batch: list[Timer]) -> None:
            for timer in batch:
                await self._handlers[timer.kind](timer, tx)
                await self._store.mark_fired(timer.key, self._owner, tx.session)

        try:
            await self._uow.run(lambda tx: work(tx, runnable))
        except LostClaim:
            if len(runnable) == 1:
                return 0
        except Exception:
            if len(runnable) == 1:
                TIMER_FAILURES.labels(service_name()).inc()
                log.exception("timer of kind %s failed; it is retried when its lease expires", runnable[0].kind)
                return 0
        else:
            for timer in runnable:
                TIMERS_FIRED.labels(service_name(), timer.kind).inc()
                self._progress.note(timer.kind)
            return len(runnable)
        return sum([await self._fire([timer]) for timer in runnable])  # isolate the one that failed

    async def run_forever(self) -> None:
        last_sweep = 0.0
        while True:
            try:
                if time.monotonic() - last_sweep > self.SWEEP_EVERY.total_seconds():
                    with suppress_instrumentation():
                        await self._store.sweep_behind_watermark()
                    last_sweep = time.monotonic()
                await self.fire_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer loop failed; retrying")
            await asyncio.sleep(self._poll_seconds)
