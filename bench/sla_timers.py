"""Benchmark: N open patient messages with pending SLA timers; the clock jumps past every deadline.

Measures, on the embedded SecantusDB (or MONGODB_URI):
  - baseline: raw insert_one and find_one_and_update rates on the same server;
  - the timer store's schedule (insert) rate;
  - the time to fire every overdue timer (arrivals spread over a week, so deadlines spread over
    days, as in real use) through the real messaging handler (message update, two
    events into the outbox, timer marked fired, one transaction each), with W concurrent runners;
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from launcher.embedded import EmbeddedServers
from services.messaging.adapters.repository import MessagingRepository
from services.messaging.domain.model import Message, Sla
from services.messaging.domain.sla import reply_deadline
from services.messaging.service_layer.handlers import OVERDUE_TIMER, MessagingService
from shared.audit import AuditLog
from shared.clock import FixedClock
from shared.observability.workflow import WorkflowRef
from shared.storage.timers import PENDING, TimerRunner, TimerStore, slot_of
from shared.storage.unit_of_work import OUTBOX_COLLECTION, MongoUnitOfWork

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SPREAD = timedelta(days=7)


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


def message_document(i: int, deadline: Any) -> dict[str, Any]:
    message_id = f"m-{i}"
    sla = Sla(
        due_soon_at=deadline.due_soon_at,
        deadline=deadline.deadline,
        workflow=WorkflowRef(
            kind="reply_sla", workflow_id=message_id, trace_id=uuid.uuid4().hex, span_id=uuid.uuid4().hex[:16]
        ),
    )
    message = Message(
        id=message_id,
        conversation_id=f"c-{i}",
        plan_id=f"p-{i}",
        unit_id="SE2321000016-BENCH",
        sender_kind="patient",
        sender_ref="patient",
        text="benchmark",
        status="sent",
        created_at=START,
        sent_at=START,
        sla=sla,
    )
    doc = message.model_dump()
    doc["_id"] = doc.pop("id")
    return doc


async def run(uri: str, messages: int, runners: int, schedule_samples: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = client[f"bench_sla_{uuid.uuid4().hex[:6]}"]
    clock = FixedClock(START)
    uow = MongoUnitOfWork(
        client,
        db,
        clock=clock,
        source="/careplan/messaging",
        audit_log=AuditLog(db, service="messaging", pepper="bench-pepper", clock=clock),
    )
    store = TimerStore(db, clock)
    await store.ensure_indexes()
    repo = MessagingRepository(db)
    await repo.ensure_indexes()
    service = MessagingService(uow, repo, store)

    insert_rate, claim_rate = await baseline(db, schedule_samples)
    print(
        f"baseline  insert_one {insert_rate:,.0f}/s   find_one_and_update {claim_rate:,.0f}/s "
        f"({schedule_samples} ops each)"
    )

    deadline = reply_deadline(START)
    started = time.perf_counter()
    for i in range(schedule_samples):
        await store.schedule(f"sample:{i}", "sample", deadline.overdue_at, {})
    schedule_seconds = time.perf_counter() - started
    await db["timers"].delete_many({"kind": "sample"})
    print(
        f"timers    schedule (insert_one, unique key) {rate(schedule_samples, schedule_seconds)}"
        f"   ratio vs raw insert {schedule_samples / schedule_seconds / insert_rate:.2f}"
    )

    started = time.perf_counter()
    batch = 5000
    latest = START
    for offset in range(0, messages, batch):
        count = min(batch, messages - offset)
        deadlines = [reply_deadline(arrival(offset + i, messages)) for i in range(count)]
        latest = max(latest, deadlines[-1].overdue_at)
        await db["messages"].insert_many([message_document(offset + i, d) for i, d in enumerate(deadlines)])
        await db["timers"].insert_many(
            [
                {
                    "_id": f"{OVERDUE_TIMER}:m-{offset + i}",
                    "kind": OVERDUE_TIMER,
                    "due_at": d.overdue_at,
                    "payload": {"message_id": f"m-{offset + i}"},
                    "status": PENDING,
                    "attempts": 0,
                    "owner": None,
                    "claim": None,
                    "wake_at": d.overdue_at,
                    "slot": slot_of(d.overdue_at),
                    "created_at": START,
                }
                for i, d in enumerate(deadlines)
            ]
        )
    setup = time.perf_counter() - started
    print(
        f"setup     {messages:,} open messages (arrivals over {SPREAD.days} days) with pending overdue timers "
        f"in {setup:.1f}s ({rate(2 * messages, setup)} documents)"
    )

    clock.set(latest + timedelta(days=1))  # the clock jumps past every deadline
    workers = [
        TimerRunner(store, uow, {OVERDUE_TIMER: service.on_overdue}, owner=f"runner-{n}", clock=clock, poll_seconds=0.1)
        for n in range(runners)
    ]
    started = time.perf_counter()
    fired = sum(await asyncio.gather(*(w.fire_due() for w in workers)))
    fire_seconds = time.perf_counter() - started
    print(
        f"fire      {fired:,} timers fired by {runners} runners in {fire_seconds:.1f}s: "
        f"{rate(fired, fire_seconds)}   ratio vs raw find_one_and_update {fired / fire_seconds / claim_rate:.2f}"
    )

    still_pending = await db["timers"].count_documents({"status": {"$ne": "fired"}})
    overdue_events = await db[OUTBOX_COLLECTION].count_documents({"ce_type": "se.careplan.messaging.reply_overdue.v1"})
    distinct = len(
        await db[OUTBOX_COLLECTION].distinct("data.message_id", {"ce_type": "se.careplan.messaging.reply_overdue.v1"})
    )
    flagged = await db["messages"].count_documents({"sla.state": "overdue"})
    print(
        f"check     fired {fired:,} of {messages:,}; not fired {still_pending}; overdue events {overdue_events:,} "
        f"for {distinct:,} distinct messages; messages flagged {flagged:,}; "
        f"lost {messages - distinct}, duplicated {overdue_events - distinct}"
    )
    await client.drop_database(db.name)
    await client.close()


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
