"""The purge benchmark's workload (bench/purge.py), kept apart like the fan-out's (launcher.loadtest):
real ended plans seeded through the plans API, one purge timed from request to completion, and the
raw `delete_many` baselines on the same MongoDB."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from launcher.demo import staff_token
from launcher.plan_clones import copy_plan, personnummer_for, template_documents
from launcher.purge_api import purge_state, request_purge
from shared.kernel.roles import Role
from shared.ownership import OwnershipState, PlanOwnership
from shared.ownership.repository import OWNERSHIP_COLLECTION

PROGRAM = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}
FORCE_REASON = "benchmark: no journal export in this run"
"""There is no journal export in the benchmark: every purge is forced, with this reason."""
POLL_SECONDS = 0.1
"""How often a single purge is polled: the latency's resolution."""


@dataclass
class LoadTarget:
    """Where the running platform is, and the key its dev tokens are signed with."""

    urls: dict[str, str]
    mongodb_uri: str
    databases: list[str]
    private_key: bytes

    def headers(self, unit: str, role: Role) -> dict[str, str]:
        """A bearer token of a member of staff of `unit` with `role`."""
        return {"Authorization": f"Bearer {self.token(unit, role)}"}

    def token(self, unit: str, role: Role) -> str:
        return staff_token(self.private_key, f"{unit}-{role.value[:4].upper()}", [role], unit=unit)


async def seed_ended_plans(target: LoadTarget, unit: str, count: int, concurrency: int, first: int) -> list[str]:
    """`count` plans of `unit` started and ended through the plans API, then waited for until every
    service's ownership copy says ended (what a purge needs: retention lists and purges them)."""
    headers = target.headers(unit, Role.THERAPIST)
    plan_ids: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, api: httpx.AsyncClient) -> None:
        body = {"personnummer": personnummer_for(i), "patient_name": "Bench, Person"}
        async with gate:
            started = await api.post("/plans", headers=headers, json=body | PROGRAM)
            started.raise_for_status()
            plan_id = started.json()["id"]
            ended = await api.post(f"/plans/{plan_id}/end", headers=headers, json={"reason": "completed"})
            ended.raise_for_status()
        plan_ids.append(plan_id)

    async with httpx.AsyncClient(base_url=target.urls["plans"], timeout=120) as api:
        await asyncio.gather(*(one(first + i, api) for i in range(count)))
    await _ended_everywhere(target, unit, count)
    return plan_ids


async def _ended_everywhere(target: LoadTarget, unit: str, count: int, timeout: float = 1800) -> None:
    """Until every service that keeps ownership copies (any, e.g. of the demo plans) has `count`
    ended ones of the unit (handover keeps none today)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri)
    copies = [client[db][OWNERSHIP_COLLECTION] for db in target.databases]
    deadline = time.monotonic() + timeout
    try:
        while True:
            counts = [
                await c.count_documents({"unit_id": unit, "state": "ended"}) for c in copies if await c.find_one({})
            ]
            if counts and min(counts) >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"ended plans known per service after {timeout:.0f}s: {counts} of {count}")
            await asyncio.sleep(0.5)
    finally:
        await client.close()


async def seed_copied_plans(target: LoadTarget, unit: str, count: int, first: int) -> list[str]:
    """`count` ended plans of `unit`: one real one (through the API), the rest copies of it in every
    service database (see launcher.plan_clones), made once the platform is quiet."""
    real = await seed_ended_plans(target, unit, 1, 1, first=first)
    await settle(target)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri, tz_aware=True)
    try:
        template = await template_documents(client, target.databases, real[0])
        ownership = next(docs[0] for (_, collection), docs in template.items() if collection == OWNERSHIP_COLLECTION)
        copies = await copy_plan(client, template, real[0], ownership["patient_personnummer"], count - 1, first + 1)
    finally:
        await client.close()
    return real + copies


async def settle(target: LoadTarget, quiet_seconds: float = 3.0, timeout: float = 1800) -> None:
    """Until no service has handled an event for `quiet_seconds` (their inbox records stop growing):
    the exports and notifications that ending plans set off are done, and do not disturb a measurement."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri)
    inboxes = [client[db]["inbox"] for db in target.databases]
    last, quiet_since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            handled = sum([await inbox.estimated_document_count() for inbox in inboxes])
            if handled != last:
                last, quiet_since = handled, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_seconds:
                return
            await asyncio.sleep(0.5)
    finally:
        await client.close()


PURGE_EVENTS = {
    "purge requests": {"$regex": r"\.purge_requested\.v1$"},
    "receipts": {"$regex": r"\.purge_receipt\.v1$"},
}
"""The purge saga's events, by the `ce_type` the consumers' inbox records keep."""


async def inbox_marks(target: LoadTarget) -> dict[tuple[str, str], Any]:
    """The latest inbox record of each kind of purge event per service database, in that service's
    own clock (a service may run with a clock offset): the start line for `handling_rates`."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri, tz_aware=True)
    marks: dict[tuple[str, str], Any] = {}
    try:
        for db in target.databases:
            for kind, ce_type in PURGE_EVENTS.items():
                latest = await client[db]["inbox"].find_one({"ce_type": ce_type}, {"at": 1}, sort=[("at", -1)])
                marks[(db, kind)] = latest["at"] if latest else datetime(1970, 1, 1, tzinfo=UTC)
    finally:
        await client.close()
    return marks


async def handling_rates(target: LoadTarget, marks: dict[tuple[str, str], Any]) -> dict[str, tuple[int, float]]:
    """Per service: (purge events handled since `marks`, per second while it handled them), from the
    consumers' inbox records (kept after a purge); "retention receipts" are the six receipts a purge
    costs retention. The slowest bounds a bulk purge's rate."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri, tz_aware=True)
    rates: dict[str, tuple[int, float]] = {}
    try:
        for (db, kind), since in marks.items():
            query = {"ce_type": PURGE_EVENTS[kind], "at": {"$gt": since}}
            times = sorted([doc["at"] async for doc in client[db]["inbox"].find(query, {"at": 1})])
            if len(times) > 1:
                span = (times[-1] - times[0]).total_seconds()
                rates[f"{db.rsplit('careplan_', 1)[-1]} {kind}"] = (len(times), len(times) / max(span, 1e-9))
    finally:
        await client.close()
    return rates


async def purge_latency_ms(api: httpx.AsyncClient, headers: dict[str, str], plan_id: str) -> float:
    """From the purge request until retention reports it completed (all six receipts in)."""
    started = time.perf_counter()
    outcome, detail = await request_purge(api, headers, plan_id, {"force": True, "reason": FORCE_REASON})
    if outcome != "requested":
        raise RuntimeError(f"purge of {plan_id} {outcome}: {detail}")
    while time.perf_counter() - started < 300:
        state = await purge_state(api, headers, plan_id)
        if isinstance(state, dict) and state["state"] == "completed":
            return (time.perf_counter() - started) * 1000
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"purge of {plan_id} not completed after 300 s")


def tomorrow() -> date:
    """The day after today (UTC): `ended_before` it takes every plan ended so far."""
    return (datetime.now(UTC) + timedelta(days=1)).date()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN without values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def delete_many_baselines(target: LoadTarget, count: int, concurrency: int) -> tuple[float, float]:
    """(plans/s deleting plan by plan, six `delete_many` each; plans/s with one `delete_many` per
    database) for `count` documents shaped like a plan's ownership copy in every service database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri)
    collections = [client[db]["bench_baseline"] for db in target.databases]
    tag = uuid.uuid4().hex[:8]
    ids = [f"baseline-{tag}-{i}" for i in range(count)]
    try:
        await _insert_shaped(collections, ids, tag)
        gate = asyncio.Semaphore(concurrency)

        async def one_plan(plan_id: str) -> None:
            async with gate:
                for collection in collections:
                    await collection.delete_many({"_id": plan_id})

        started = time.perf_counter()
        await asyncio.gather(*(one_plan(plan_id) for plan_id in ids))
        per_plan = count / (time.perf_counter() - started)
        await _insert_shaped(collections, ids, tag)
        started = time.perf_counter()
        for collection in collections:
            await collection.delete_many({"bench": tag})
        return per_plan, count / (time.perf_counter() - started)
    finally:
        for collection in collections:
            await collection.drop()
        await client.close()


async def _insert_shaped(collections: list[Any], ids: list[str], tag: str) -> None:
    """Documents shaped like an ended plan's ownership copy (the one document every service holds)."""
    shape = PlanOwnership(
        plan_id="", unit_id="SE2321000016-BASE01", patient_personnummer="", responsible_hsa_id="SE2321000016-THER01",
        state=OwnershipState.ENDED, started_at=datetime.now(UTC), ended_at=datetime.now(UTC), **PROGRAM,
    ).model_dump()  # fmt: skip
    for collection in collections:
        docs = [
            shape | {"_id": plan_id, "plan_id": plan_id, "patient_personnummer": f"19500101{i:04d}", "bench": tag}
            for i, plan_id in enumerate(ids)
        ]
        for start in range(0, len(docs), 5000):
            await collection.insert_many(docs[start : start + 5000])
