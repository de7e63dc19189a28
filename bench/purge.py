"""Benchmark of the purge saga, against baselines measured in the same run on the same database:

  (a) single-plan purge latency, idle: `POST /plans/{id}/purge` until `GET` says `completed` (all six
      services' receipts in), one plan at a time;
  (b) the same while a notification fan-out runs (started as bench/fanout.py starts one);
  (c) the rate of a bulk purge of N ended plans of one unit, with the code `careplan purge` runs
      (launcher.bulk_purge);
  baselines: raw `delete_many` on the same MongoDB of N documents shaped like a plan's ownership copy
      in each of the six service databases, (i) plan by plan (six deletes per plan, same concurrency)
      and (ii) one `delete_many` per database.

The plans of (a) and (b) are started and ended through the plans API; the N plans of (c) are copies
of one real ended plan in every service database (launcher.plan_clones: the API manages about half a
plan per second here, exports included; `--seed http` uses it anyway). Both seeding rates are
printed. (b) runs last: the fan-out leaves tens of thousands of documents behind, and the embedded
database slows down as it grows. No export is in a purge's way here: every purge is forced with a
reason, as a data admin may do.

    python bench/purge.py --plans 1000
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
from pymongo import AsyncMongoClient

from launcher.bulk_purge import BulkPurgeOptions, BulkPurgeReport, bulk_purge
from launcher.demo import load_demo_data
from launcher.loadtest import FanoutReport, FanoutTarget, run_fanout
from launcher.purge_load import (
    FORCE_REASON,
    LoadTarget,
    delete_many_baselines,
    handling_rates,
    inbox_marks,
    percentile,
    purge_latency_ms,
    seed_copied_plans,
    seed_ended_plans,
    settle,
    tomorrow,
)
from launcher.stack import Platform, seconds_to_noon_stockholm
from shared.kernel.roles import Role


@dataclass
class Figures:
    """What one run measured."""

    seeding: dict[str, tuple[int, float]] = field(default_factory=dict)
    """"http" / "copy" → (plans, seconds)."""
    idle_ms: list[float] = field(default_factory=list)
    busy_ms: list[float] = field(default_factory=list)
    fanout: FanoutReport | None = None
    bulk: BulkPurgeReport | None = None
    handling: dict[str, tuple[int, float]] = field(default_factory=dict)
    """During (c): events handled and their rate, per service and kind."""
    per_plan_deletes: float = 0.0
    one_delete_many: float = 0.0


async def latencies_during_fanout(
    fanout_target: FanoutTarget, purge: tuple[httpx.AsyncClient, dict[str, str]], plan_ids: list[str], args: Any
) -> tuple[list[float], FanoutReport]:
    """Purge latencies sampled while the fan-out delivers (a sample counts only if the fan-out was
    still running when it ended), and the fan-out's own report."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(fanout_target.mongodb_uri)
    deliveries = client[fanout_target.database]["deliveries"]
    before = await deliveries.estimated_document_count()
    channels = args.fanout_channels.split(",")
    fanout = asyncio.create_task(run_fanout(fanout_target, args.fanout_recipients, channels, show_progress=False))
    while not fanout.done():  # until the announcement's deliveries are under way
        if await deliveries.estimated_document_count() > before:
            break
        await asyncio.sleep(0.2)
    await client.close()
    samples = []
    for plan_id in plan_ids:
        if fanout.done():
            break
        latency = await purge_latency_ms(*purge, plan_id)
        if not fanout.done():
            samples.append(latency)
    return samples, await fanout


async def measure(target: LoadTarget, fanout_target: FanoutTarget, args: Any) -> Figures:
    """Seed, then (a), (c) and the baselines on the same databases, then (b) last: the fan-out leaves
    tens of thousands of documents behind, and the embedded database slows down as it grows."""
    figures = Figures()
    single, bulk_unit = f"SE2321000016-BPS{uuid.uuid4().hex[:4]}", f"SE2321000016-BPB{uuid.uuid4().hex[:4]}"
    samples = await _seed(figures, "http", target, single, 2 * args.samples, args)
    await _seed(figures, args.seed, target, bulk_unit, args.plans, args, first=2 * args.samples)
    await settle(target)
    async with httpx.AsyncClient(base_url=target.urls["retention"], timeout=60) as api:
        headers = target.headers(single, Role.DATA_ADMIN)
        figures.idle_ms = [await purge_latency_ms(api, headers, plan_id) for plan_id in samples[: args.samples]]
        _say(f"(a) {len(figures.idle_ms)} idle samples")
        await settle(target)
        await _bulk(figures, target, api, bulk_unit, args)
        _say(f"(c) bulk purge of {figures.bulk.listed if figures.bulk else 0:,} plans done")
        figures.per_plan_deletes, figures.one_delete_many = await delete_many_baselines(
            target, args.plans, args.concurrency
        )
        await settle(target)
        figures.busy_ms, figures.fanout = await latencies_during_fanout(
            fanout_target, (api, headers), samples[args.samples :], args
        )
        _say(f"(b) {len(figures.busy_ms)} samples during the fan-out")
    return figures


async def _bulk(figures: Figures, target: LoadTarget, api: httpx.AsyncClient, unit: str, args: Any) -> None:
    """(c): the unit's ended plans purged by the code `careplan purge` runs, and what each service handled."""
    options = BulkPurgeOptions(
        ended_before=tomorrow(), force=True, reason=FORCE_REASON, concurrency=args.concurrency, window=args.window
    )
    marks = await inbox_marks(target)
    figures.bulk = await bulk_purge(api, target.token(unit, Role.DATA_ADMIN), options)
    figures.handling = await handling_rates(target, marks)


async def _seed(
    figures: Figures, how: str, target: LoadTarget, unit: str, count: int, args: Any, first: int = 0
) -> list[str]:
    """Ended plans through the API ("http") or as copies of one ("copy"); the time goes into `figures`."""
    started = time.perf_counter()
    if how == "http":
        plan_ids = await seed_ended_plans(target, unit, count, args.concurrency, first=first)
        await settle(target)  # the exports and notifications the ends set off count as seeding
    else:
        plan_ids = await seed_copied_plans(target, unit, count, first=first)
    plans, seconds = figures.seeding.get(how, (0, 0.0))
    figures.seeding[how] = (plans + count, seconds + time.perf_counter() - started)
    _say(f"seeded {count:,} ended plans ({how}) in {time.perf_counter() - started:.1f}s")
    return plan_ids


def _say(text: str) -> None:
    print(text, flush=True)


def table(figures: Figures, args: Any) -> list[str]:
    bulk = figures.bulk
    assert bulk is not None
    rate = len(bulk.completed) / bulk.seconds if bulk.seconds else 0.0
    fanout = figures.fanout
    during = f"fan-out {fanout.deliveries_per_second:,.0f} deliveries/s" if fanout else "no fan-out"
    lines = [
        f"seeding {how}: {plans:,} ended plans in {seconds:.1f}s ({plans / max(seconds, 1e-9):,.1f} plans/s)"
        for how, (plans, seconds) in figures.seeding.items()
    ]
    lines += [
        f"{'':44}{'p50':>10}{'p99':>10}{'samples':>9}",
    ]
    for name, ms in (
        ("(a) single purge, idle", figures.idle_ms),
        ("(b) single purge, during fan-out", figures.busy_ms),
    ):
        lines.append(f"{name:44}{percentile(ms, 0.5):>7,.0f} ms{percentile(ms, 0.99):>7,.0f} ms{len(ms):>9}")
    lines += [
        f"    (b) ran next to: {during}",
        f"{'':44}{'plans/s':>10}{'seconds':>10}{'plans':>9}",
        f"{'(c) bulk purge (careplan purge code)':44}{rate:>10,.1f}{bulk.seconds:>10,.1f}{bulk.listed:>9,}",
        f"    completed {len(bulk.completed):,}  refused {bulk.refused_count:,}  failed {bulk.failed_count:,}  "
        f"(concurrency {args.concurrency}, window {args.window})",
        "    events handled during (c), per service: "
        + ", ".join(f"{name} {n:,} at {rate:,.1f}/s" for name, (n, rate) in sorted(figures.handling.items())),
        f"{'baseline: delete_many per plan, 6 databases':44}{figures.per_plan_deletes:>10,.0f}",
        f"{'baseline: one delete_many per database':44}{figures.one_delete_many:>10,.0f}",
        f"ratio (c) / per-plan delete_many: {rate / figures.per_plan_deletes:.3f}",
    ]
    return lines


def main() -> None:
    args = _parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the platform on `timeout` or `kill` too
    platform = _platform()
    try:
        platform.start_servers()
        platform.start_services()
        load_demo_data(platform.urls["plans"], platform.urls["forms"], platform.private_key.read_bytes())
        figures = asyncio.run(measure(*targets(platform), args))
        print(f"purge benchmark: {os.cpu_count()} cores, six services, embedded servers", flush=True)
        print("\n".join(table(figures, args)))
    finally:
        platform.stop()


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=10_000, help="ended plans purged in bulk (c)")
    parser.add_argument("--samples", type=int, default=50, help="single purges timed in (a) and in (b)")
    parser.add_argument("--concurrency", type=int, default=8, help="for seeding, the bulk purge and the baseline")
    parser.add_argument("--window", type=int, default=25, help="the bulk purge's purges under way at once")
    parser.add_argument("--fanout-recipients", type=int, default=30_000)
    parser.add_argument("--fanout-channels", default="sms", help="comma-separated: inbox, email, sms")
    parser.add_argument(
        "--seed",
        choices=("copy", "http"),
        default="copy",
        help="the N plans of (c): copies of a real one, or all via the API",
    )
    return parser.parse_args()


def _platform() -> Platform:
    """Embedded servers in a fresh directory; notifications without rate limits, its clock at noon (SMS hours)."""
    return Platform(
        Path(tempfile.mkdtemp(prefix="bench-purge-")),
        mongo_in_memory=True,
        service_overrides={
            "notifications": {
                "SMS_RATE_LIMIT_PER_SECOND": "100000",
                "EMAIL_RATE_LIMIT_PER_SECOND": "100000",
                "CLOCK_OFFSET_SECONDS": str(seconds_to_noon_stockholm()),
            }
        },
    )


def targets(platform: Platform) -> tuple[LoadTarget, FanoutTarget]:
    """The running platform as the purge workload and the fan-out see it."""
    assert platform.addresses is not None, "start the platform first"
    mongodb_uri, key = platform.addresses.mongodb_uri, platform.private_key.read_bytes()
    databases = [f"{platform.database_prefix}careplan_{service}" for service in platform.urls]
    fanout = FanoutTarget(
        notifications_url=platform.urls["notifications"],
        mongodb_uri=mongodb_uri,
        database=f"{platform.database_prefix}careplan_notifications",
        sinks_dir=Path(platform.sinks["directory"]),
        private_key=key,
    )
    return LoadTarget(urls=platform.urls, mongodb_uri=mongodb_uri, databases=databases, private_key=key), fanout


if __name__ == "__main__":
    main()
