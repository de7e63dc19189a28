"""Benchmark: N open patient messages with pending SLA timers; the clock jumps past every deadline.

Measures, on the embedded SecantusDB (or MONGODB_URI):
  - baseline: raw insert_one and find_one_and_update rates on the same server;
  - the timer store's schedule (insert) rate;
  - the time to fire every overdue timer (arrivals spread over a week, so deadlines spread over
    days, as in real use; each message already flagged due soon) through the real messaging handler
    (ownership and message read, message update, two events into the outbox, timer marked fired,
    one transaction each), with W concurrent runners;
  - a check that each message was flagged exactly once.

    python bench/sla_timers.py --messages 100000 --runners 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from launcher.embedded import EmbeddedServers
from services.messaging.adapters.repository import MongoConversationRepository, MongoMessageRepository
from services.messaging.domain.model import Message, Sla
from services.messaging.domain.sla import ReplyDeadline, reply_deadline
from services.messaging.service_layer.service import MessagingService
from services.messaging.service_layer.sla import OVERDUE_TIMER
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.contracts.messaging import ReplyOverdue
from shared.observability.workflow import WorkflowRef
from shared.ownership import MongoOwnershipRepository, PlanOwnership
from shared.ownership.repository import OWNERSHIP_COLLECTION
from shared.storage.documents import to_document
from shared.storage.timers import PENDING, TimerRunner, TimerStore, slot_of
from shared.storage.unit_of_work import OUTBOX_COLLECTION, MongoUnitOfWork

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SPREAD = timedelta(days=7)
BENCH_UNIT = "SE2321000016-BENCH"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "n/a"


async def baseline(db: Any, samples: int) -> tuple[float, float]:
    collection = db["baseline"]
    started = time.perf_counter()
    for i in range(samples):
        await collection.insert_one({"_id": i, "state": "pending", "due": i})
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(samples):
        await collection.find_one_and_update({"_id": i, "state": "pending"}, {"$set": {"state": "done"}})
    updated = time.perf_counter() - started
    return samples / inserted, samples / updated


def arrival(i: int, messages: int) -> datetime:
    """Patient messages arrive spread over a week, as they do (each with its own deadline)."""
    return START + timedelta(seconds=i * SPREAD.total_seconds() / messages)


def message_document(i: int, deadline: ReplyDeadline) -> dict[str, Any]:
    message_id = f"m-{i}"
    sla = Sla(
        due_soon_at=deadline.due_soon_at,
        deadline=deadline.deadline,
        state="due_soon",  # its due-soon flag was raised on the deadline's morning, as it would have been
        workflow=WorkflowRef(
            kind="reply_sla", workflow_id=message_id, trace_id=uuid.uuid4().hex, span_id=uuid.uuid4().hex[:16]
        ),
    )
    message = Message(
        id=message_id,
        conversation_id=f"c-{i}",
        plan_id=f"p-{i}",
        sender_kind="patient",
        sender_ref="patient",
        text="benchmark",
        status="sent",
        created_at=START,
        sent_at=START,
        sla=sla,
    )
    return to_document(message)


def ownership_document(i: int) -> dict[str, Any]:
    """Each message's plan, active at the bench unit (the timer handler checks the plan has not ended)."""
    ownership = PlanOwnership(plan_id=f"p-{i}", unit_id=BENCH_UNIT, patient_personnummer="191212121212")
    return {"_id": ownership.plan_id, **ownership.model_dump()}


def timer_document(i: int, deadline: ReplyDeadline) -> dict[str, Any]:
    """A pending overdue timer as `TimerStore.schedule` stores it (inserted in bulk here)."""
    return {
        "_id": f"{OVERDUE_TIMER}:m-{i}",
        "kind": OVERDUE_TIMER,
        "due_at": deadline.overdue_at,
        "payload": {"message_id": f"m-{i}"},
        "status": PENDING,
        "attempts": 0,
        "owner": None,
        "claim": None,
        "wake_at": deadline.overdue_at,
        "slot": slot_of(deadline.overdue_at),
        "created_at": START,
    }


@dataclass
class Bench:
    """The database, clock and messaging service under measurement."""

    client: AsyncMongoClient[dict[str, Any]]
    db: Any
    clock: FixedClock
    uow: MongoUnitOfWork
    store: TimerStore
    service: MessagingService

    @classmethod
    async def open(cls, uri: str) -> Bench:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
        db = client[f"bench_sla_{uuid.uuid4().hex[:6]}"]
        clock = FixedClock(START)
        audit_log = AuditLog(db, service="messaging", pepper="bench-pepper", clock=clock)
        uow = MongoUnitOfWork(client, db, clock=clock, source="/careplan/messaging", audit_log=audit_log)
        store = TimerStore(db, clock)
        ownership = MongoOwnershipRepository(db)
        conversations, messages = MongoConversationRepository(db), MongoMessageRepository(db)
        for indexed in (store, ownership, conversations, messages):
            await indexed.ensure_indexes()
        service = MessagingService.create(uow, ownership, conversations, messages, store)
        return cls(client, db, clock, uow, store, service)

    async def close(self) -> None:
        await self.client.drop_database(self.db.name)
        await self.client.close()


async def measure_schedule(bench: Bench, samples: int, insert_rate: float) -> None:
    deadline = reply_deadline(START)
    started = time.perf_counter()
    for i in range(samples):
        await bench.store.schedule(f"sample:{i}", "sample", deadline.overdue_at, {})
    seconds = time.perf_counter() - started
    await bench.db["timers"].delete_many({"kind": "sample"})
    print(
        f"timers    schedule (insert_one, unique key) {rate(samples, seconds)}"
        f"   ratio vs raw insert {samples / seconds / insert_rate:.2f}"
    )


async def set_up_messages(bench: Bench, messages: int, batch: int = 5000) -> datetime:
    """Open patient messages with pending overdue timers; returns the latest overdue moment."""
    started = time.perf_counter()
    latest = START
    for offset in range(0, messages, batch):
        numbers = range(offset, min(offset + batch, messages))
        deadlines = [reply_deadline(arrival(i, messages)) for i in numbers]
        latest = max(latest, deadlines[-1].overdue_at)
        await bench.db["messages"].insert_many(
            [message_document(i, d) for i, d in zip(numbers, deadlines, strict=True)]
        )
        await bench.db[OWNERSHIP_COLLECTION].insert_many([ownership_document(i) for i in numbers])
        await bench.db["timers"].insert_many([timer_document(i, d) for i, d in zip(numbers, deadlines, strict=True)])
    setup = time.perf_counter() - started
    print(
        f"setup     {messages:,} open messages (arrivals over {SPREAD.days} days) with pending overdue timers "
        f"in {setup:.1f}s ({rate(3 * messages, setup)} documents)"
    )
    return latest


async def fire_all(bench: Bench, runners: int, claim_rate: float) -> int:
    handlers = bench.service.sla.timer_handlers()
    workers = [
        TimerRunner(bench.store, bench.uow, handlers, owner=f"runner-{n}", clock=bench.clock, poll_seconds=0.1)
        for n in range(runners)
    ]
    started = time.perf_counter()
    fired = sum(await asyncio.gather(*(w.fire_due() for w in workers)))
    seconds = time.perf_counter() - started
    print(
        f"fire      {fired:,} timers fired by {runners} runners in {seconds:.1f}s: "
        f"{rate(fired, seconds)}   ratio vs raw find_one_and_update {fired / seconds / claim_rate:.2f}"
    )
    return fired


async def check(bench: Bench, messages: int, fired: int) -> None:
    """Each message flagged overdue exactly once."""
    outbox = bench.db[OUTBOX_COLLECTION]
    still_pending = await bench.db["timers"].count_documents({"status": {"$ne": "fired"}})
    overdue_events = await outbox.count_documents({"ce_type": ReplyOverdue.ce_type})
    distinct = len(await outbox.distinct("data.message_id", {"ce_type": ReplyOverdue.ce_type}))
    flagged = await bench.db["messages"].count_documents({"sla.state": "overdue"})
    print(
        f"check     fired {fired:,} of {messages:,}; not fired {still_pending}; overdue events {overdue_events:,} "
        f"for {distinct:,} distinct messages; messages flagged {flagged:,}; "
        f"lost {messages - distinct}, duplicated {overdue_events - distinct}"
    )


async def run(uri: str, messages: int, runners: int, schedule_samples: int) -> None:
    bench = await Bench.open(uri)
    try:
        insert_rate, claim_rate = await baseline(bench.db, schedule_samples)
        print(
            f"baseline  insert_one {insert_rate:,.0f}/s   find_one_and_update {claim_rate:,.0f}/s "
            f"({schedule_samples} ops each)"
        )
        await measure_schedule(bench, schedule_samples, insert_rate)
        latest = await set_up_messages(bench, messages)
        bench.clock.set(latest + timedelta(days=1))  # the clock jumps past every deadline
        fired = await fire_all(bench, runners, claim_rate)
        await check(bench, messages, fired)
    finally:
        await bench.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runners", type=int, default=4, help="concurrent timer runners (as service replicas)")
    parser.add_argument("--samples", type=int, default=2000, help="operations for the baseline and schedule rates")
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI")
    servers = None
    if not uri:
        servers = EmbeddedServers(Path(tempfile.mkdtemp(prefix="bench-sla-")), mongo_in_memory=True)
        uri = servers.start().mongodb_uri
    try:
        asyncio.run(run(uri, args.messages, args.runners, args.samples))
    finally:
        if servers:
            servers.stop()


if __name__ == "__main__":
    main()
