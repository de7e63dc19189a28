"""Benchmark of the handover saga, next to a baseline measured in the same run on the same broker:

  (a) for each of N handovers: the time from the receiving unit's accept (its 200) until the
      handing-over unit is refused (404, as for a missing plan) in every service holding plan data:
      plans, messaging, forms, retention and handover, each polled with a token issued before;
  (b) the time from the same accept until the handover reads `completed` (every service confirmed);
  baseline: one event hop on the same broker: a record produced (acks=all) until a consumer
      already waiting on its topic has it.

The plans are started through the plans API at one demo unit and handed over to the other (both
run the demo programs); `--concurrency` handovers are timed at once.

    python bench/handover.py --handovers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from launcher.demo import DEMO_RECEIVING_UNIT, DEMO_UNIT, load_demo_data
from launcher.plan_clones import personnummer_for
from launcher.purge_load import PROGRAM, LoadTarget, percentile
from launcher.stack import Platform
from shared.kernel.roles import Role

REFUSING = {
    "plans": "/plans/{id}",
    "messaging": "/plans/{id}/conversations",
    "forms": "/plans/{id}/flags",
    "retention": "/plans/{id}/retention",
    "handover": "/plans/{id}/handovers",
}
"""One plan read per service holding plan data (notifications has no plan-scoped staff read)."""
POLL_SECONDS = 0.05
HOP_TOPIC = "careplan.bench.hop.v1"


@dataclass
class Figures:
    refused_ms: list[float] = field(default_factory=list)
    completed_ms: list[float] = field(default_factory=list)
    hop_ms: list[float] = field(default_factory=list)
    seeding: tuple[int, float] = (0, 0.0)


@dataclass
class Units:
    sending: str = DEMO_UNIT
    receiving: str = DEMO_RECEIVING_UNIT


async def start_plans(target: LoadTarget, unit: str, count: int, concurrency: int) -> list[str]:
    """`count` plans of `unit` started through the plans API, returned once the handover service knows each."""
    headers, gate, plan_ids = target.headers(unit, Role.THERAPIST), asyncio.Semaphore(concurrency), []
    offset = uuid.uuid4().int % 5000 * 10  # personnummer of their own: a rerun on the same servers starts anew

    async def one(i: int, plans: httpx.AsyncClient, handover: httpx.AsyncClient) -> None:
        body = {"personnummer": personnummer_for(offset + i), "patient_name": "Bench, Person"} | PROGRAM
        async with gate:
            started = await plans.post("/plans", headers=headers, json=body)
            started.raise_for_status()
            plan_id = started.json()["id"]
            await _until(lambda: _status(handover, f"/plans/{plan_id}/handovers", headers), 200, timeout=120)
        plan_ids.append(plan_id)

    async with (
        httpx.AsyncClient(base_url=target.urls["plans"], timeout=60) as plans,
        httpx.AsyncClient(base_url=target.urls["handover"], timeout=60) as handover,
    ):
        await asyncio.gather(*(one(i, plans, handover) for i in range(count)))
    return plan_ids


async def _status(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    return (await api.get(path, headers=headers)).status_code


async def _until(check: Any, wanted: int | str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while await check() != wanted:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"not {wanted} after {timeout:.0f}s")
        await asyncio.sleep(POLL_SECONDS)


async def time_one_handover(
    clients: dict[str, httpx.AsyncClient], target: LoadTarget, units: Units, plan_id: str
) -> tuple[float, float]:
    """(ms until the old unit is refused everywhere, ms until completed) after the accept."""
    old = target.headers(units.sending, Role.THERAPIST)  # issued before the handover
    admin = target.headers(units.receiving, Role.PATIENT_ADMIN)
    body = {"to_unit_id": units.receiving, "consent": {"method": "verbal"}}
    created = await clients["handover"].post(f"/plans/{plan_id}/handovers", headers=old, json=body)
    created.raise_for_status()
    handover_id = created.json()["handover_id"]
    accepted = await clients["handover"].post(
        f"/handovers/{handover_id}/accept", headers=admin, json={"responsible_hsa_id": f"{units.receiving}-THER"}
    )
    accepted.raise_for_status()
    started = time.perf_counter()

    # One service at a time: a refusal, once there, stays, so the last one found is "everywhere", and
    # the benchmark's own reads (each one audited) load the services five times less than in parallel.
    for service, path in REFUSING.items():
        await _until(lambda s=service, p=path: _status(clients[s], p.format(id=plan_id), old), 404, timeout=300)
    refused = (time.perf_counter() - started) * 1000

    async def state() -> str:
        answer = await clients["handover"].get(f"/handovers/{handover_id}", headers=admin)
        return str(answer.json().get("state"))

    await _until(state, "completed", timeout=300)
    return refused, (time.perf_counter() - started) * 1000


async def event_hops(bootstrap: str, samples: int) -> list[float]:
    """Produce (acks=all) → a waiting consumer has it, one record at a time, on a topic of its own."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if HOP_TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(HOP_TOPIC, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(HOP_TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="latest")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        await consumer.seek_to_end()
        hops = []
        for i in range(samples):
            marker = f"hop-{uuid.uuid4().hex}-{i}".encode()
            started = time.perf_counter()
            await producer.send_and_wait(HOP_TOPIC, marker)
            while not any(r.value == marker for rs in (await consumer.getmany(timeout_ms=1000)).values() for r in rs):
                pass
            hops.append((time.perf_counter() - started) * 1000)
        return hops
    finally:
        await producer.stop()
        await consumer.stop()


async def measure(
    target: LoadTarget, bootstrap: str, args: Any, units: Units | None = None, figures: Figures | None = None
) -> Figures:
    """Seed, time the hop baseline, then the handovers (`--concurrency` at once); `figures` fills as it goes."""
    units, figures = units or Units(), figures if figures is not None else Figures()
    started = time.perf_counter()
    plan_ids = await start_plans(target, units.sending, args.handovers, args.concurrency)
    figures.seeding = (len(plan_ids), time.perf_counter() - started)
    _say(f"started {len(plan_ids):,} plans in {figures.seeding[1]:.1f}s")
    figures.hop_ms = await event_hops(bootstrap, args.hop_samples)
    gate = asyncio.Semaphore(args.concurrency)
    clients = {s: httpx.AsyncClient(base_url=target.urls[s], timeout=60) for s in REFUSING}
    try:

        async def one(plan_id: str) -> None:
            async with gate:
                refused, completed = await time_one_handover(clients, target, units, plan_id)
            figures.refused_ms.append(refused)
            figures.completed_ms.append(completed)
            if len(figures.refused_ms) % 100 == 0:
                _say(f"{len(figures.refused_ms):,} handovers timed")

        await asyncio.gather(*(one(p) for p in plan_ids))
    finally:
        for client in clients.values():
            await client.aclose()
    return figures


def table(figures: Figures, args: Any) -> list[str]:
    hop50 = percentile(figures.hop_ms, 0.5)
    lines = [f"{'':52}{'p50':>10}{'p99':>10}{'samples':>9}"]
    for name, ms in (
        ("(a) accept -> old unit refused in every service", figures.refused_ms),
        ("(b) accept -> handover completed", figures.completed_ms),
        ("baseline: one event hop (produce -> consumed)", figures.hop_ms),
    ):
        lines.append(f"{name:52}{percentile(ms, 0.5):>7,.0f} ms{percentile(ms, 0.99):>7,.0f} ms{len(ms):>9}")
    lines.append(
        f"(a) p50 in event hops: {percentile(figures.refused_ms, 0.5) / max(hop50, 1e-9):.1f} "
        f"(handovers {args.concurrency} at once; the services polled in turn every {POLL_SECONDS * 1000:.0f} ms)"
    )
    return lines


def _say(text: str) -> None:
    print(text, flush=True)


def main() -> None:
    args = _parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the platform on `timeout` or `kill` too
    platform = Platform(Path(tempfile.mkdtemp(prefix="bench-handover-")), mongo_in_memory=True)
    try:
        platform.start_servers()
        platform.start_services()
        load_demo_data(platform.urls["plans"], platform.urls["forms"], platform.private_key.read_bytes())
        assert platform.addresses is not None
        target = LoadTarget(platform.urls, platform.addresses.mongodb_uri, [], platform.private_key.read_bytes())
        figures = Figures()
        try:
            asyncio.run(measure(target, platform.addresses.kafka_bootstrap_servers, args, figures=figures))
        finally:  # stopped early (Ctrl-C, timeout): the figures of the handovers timed so far
            print(f"handover benchmark: {os.cpu_count()} cores, six services, embedded servers", flush=True)
            print("\n".join(table(figures, args)), flush=True)
    finally:
        platform.stop()


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handovers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="plans started, and handovers timed, at once")
    parser.add_argument("--hop-samples", type=int, default=200)
    return parser.parse_args()


if __name__ == "__main__":
    main()
