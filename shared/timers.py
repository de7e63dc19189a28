"""Durable timers in MongoDB: due time in UTC, a unique key, claimed with a lease, fired exactly once.

A timer's effect (normally events into the outbox) and its `fired` mark commit in one
transaction, and the mark is conditional on still holding the claim: whatever crashes, the
effect happens once. On start the runner fires everything that came due while nothing ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation
from pydantic import BaseModel
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.clock import Clock
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)
TIMERS_COLLECTION = "timers"
PENDING, CLAIMED, FIRED, CANCELLED = "pending", "claimed", "fired", "cancelled"


class Timer(BaseModel):
    """A stored timer."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int = 0


TimerHandler = Callable[[Timer, Transaction], Awaitable[None]]


class LostClaim(Exception):
    """The timer was claimed by someone else (our lease expired) before we could mark it fired."""


class TimerStore:
    """Schedules, cancels, claims and completes timers."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self._collection = db[TIMERS_COLLECTION]
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self._collection.create_index([("status", ASCENDING), ("lease_until", ASCENDING)])

    async def schedule(self, key: str, kind: str, due_at: datetime, payload: dict[str, Any] | None = None,
                       session: AsyncClientSession | None = None) -> bool:
        """Create a timer; False (and nothing changed) if one with this key exists already."""
        try:
            await self._collection.insert_one(
                {"_id": key, "kind": kind, "due_at": due_at, "payload": payload or {}, "status": PENDING,
                 "attempts": 0, "lease_until": None, "owner": None, "created_at": self._clock.now()},
                session=session,
            )
        except DuplicateKeyError:
            return False
        return True

    async def cancel(self, key: str, session: AsyncClientSession | None = None) -> bool:
        """Cancel a timer that has not fired; True if it was pending."""
        result = await self._collection.update_one(
            {"_id": key, "status": {"$in": [PENDING, CLAIMED]}}, {"$set": {"status": CANCELLED}}, session=session
        )
        return result.modified_count == 1

    async def get(self, key: str) -> Timer | None:
        doc = await self._collection.find_one({"_id": key})
        return _timer(doc) if doc else None

    async def claim_due(self, owner: str, lease: timedelta) -> Timer | None:
        """Atomically take the earliest due timer (or one whose claimant's lease ran out)."""
        now = self._clock.now()
        for query in ({"status": PENDING, "due_at": {"$lte": now}}, {"status": CLAIMED, "lease_until": {"$lt": now}}):
            doc = await self._collection.find_one_and_update(
                query,
                {"$set": {"status": CLAIMED, "owner": owner, "lease_until": now + lease}, "$inc": {"attempts": 1}},
                sort=[("due_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if doc:
                return _timer(doc)
        return None

    async def mark_fired(self, key: str, owner: str, session: AsyncClientSession) -> None:
        result = await self._collection.update_one(
            {"_id": key, "status": CLAIMED, "owner": owner},
            {"$set": {"status": FIRED, "fired_at": self._clock.now(), "lease_until": None}},
            session=session,
        )
        if result.modified_count != 1:
            raise LostClaim(key)

    async def next_due(self) -> datetime | None:
        doc = await self._collection.find_one({"status": PENDING}, {"due_at": 1}, sort=[("due_at", ASCENDING)])
        return doc["due_at"] if doc else None


def _timer(doc: dict[str, Any]) -> Timer:
    return Timer(key=doc["_id"], kind=doc["kind"], due_at=doc["due_at"], payload=doc["payload"],
                 status=doc["status"], attempts=doc.get("attempts", 0))


class TimerRunner:
    """Fires due timers through their kind's handler, one transaction per timer."""

    def __init__(self, store: TimerStore, uow: UnitOfWork, handlers: dict[str, TimerHandler], *, owner: str,
                 clock: Clock, poll_seconds: float, lease: timedelta = timedelta(seconds=60)) -> None:
        self._store = store
        self._uow = uow
        self._handlers = handlers
        self._owner = owner
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._lease = lease

    async def fire_due(self, limit: int | None = None) -> int:
        """Fire every timer due now (catch-up included); returns how many fired."""
        fired = 0
        while limit is None or fired < limit:
            with suppress_instrumentation():  # polling is not a workflow: keep it out of traces
                timer = await self._store.claim_due(self._owner, self._lease)
            if timer is None:
                return fired
            if await self._fire(timer):
                fired += 1
        return fired

    async def _fire(self, timer: Timer) -> bool:
        handler = self._handlers.get(timer.kind)
        if handler is None:
            log.error("no handler for timer kind %s; left claimed for a service that has one", timer.kind)
            return False

        async def work(tx: Transaction) -> None:
            await handler(timer, tx)
            await self._store.mark_fired(timer.key, self._owner, tx.session)

        try:
            await self._uow.run(work)
        except LostClaim:
            return False
        except Exception:
            log.exception("timer of kind %s failed; it is retried when its lease expires", timer.kind)
            return False
        return True

    async def run_forever(self) -> None:
        while True:
            try:
                await self.fire_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer loop failed; retrying")
            await asyncio.sleep(self._poll_seconds)
