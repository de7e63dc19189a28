"""Bulk purge: every plan of a unit that ended before a date, purged through retention's own API.

The data admin's token does everything, so every purge is authorised and audited exactly like a
single one (`POST /plans/{id}/purge`). The unit's ended plans are listed first, all pages, because a
purge removes the plan from that list (paging while purging would skip plans). The purges are then
requested (`concurrency` requests at a time) and followed (`GET /plans/{id}/purge`) until each is
`completed`, i.e. all six services' receipts are in, with at most `window` purges under way at once:
asking for thousands at once only queues them in the services, and a purge queued longer than the
saga's first retry delay (a minute) is asked again of every service that has not answered yet, which
adds work exactly when the platform is busiest. Nothing personal is printed: plan ids are random
UUIDs, and retention's refusal reasons carry no personal data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TextIO

import httpx

from launcher.progress import ProgressLine
from launcher.purge_api import list_ended_plans, purge_state, request_purge

MAX_POLL_SECONDS = 4.0
"""The longest wait between two passes over the purges under way (see `_BulkRun._next_wait`)."""
SHOWN_IDS = 5
"""Plan ids shown per refusal or failure reason in the summary (the count is always complete)."""


@dataclass(frozen=True)
class BulkPurgeOptions:
    """What to purge and how hard to push: `force` (with a `reason`) purges plans without an export."""

    ended_before: date
    force: bool = False
    reason: str = ""
    concurrency: int = 8
    """Purge requests (and state reads) sent at once."""
    window: int = 25
    """Purges requested and not yet completed, at most. A purge waits about window / rate in the
    services' queues: 25 keeps it well under the saga's one-minute first retry down to a rate of
    about 0.5 plans/s (the embedded servers on two cores manage 1 to 1.5)."""
    timeout: float = 600.0
    """Seconds a requested purge may take before it counts as failed (e.g. a service is down)."""
    poll_seconds: float = 0.5


@dataclass
class BulkPurgeReport:
    """The outcome of one bulk purge, plan by plan; no personal data."""

    listed: int = 0
    requested: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def refuse(self, plan_id: str, reason: str) -> None:
        self.refused.setdefault(reason, []).append(plan_id)

    def fail(self, plan_id: str, reason: str) -> None:
        self.failed.setdefault(reason, []).append(plan_id)

    @property
    def refused_count(self) -> int:
        return sum(len(ids) for ids in self.refused.values())

    @property
    def failed_count(self) -> int:
        return sum(len(ids) for ids in self.failed.values())

    @property
    def exit_code(self) -> int:
        """0 when every listed plan is purged (or none was listed), 1 otherwise."""
        return 0 if len(self.completed) == self.listed else 1

    def lines(self) -> list[str]:
        rate = len(self.completed) / self.seconds if self.seconds else 0.0
        lines = [
            f"listed {self.listed:,}  requested {len(self.requested):,}  completed {len(self.completed):,}  "
            f"refused {self.refused_count:,}  failed {self.failed_count:,}",
            f"in {self.seconds:.1f}s: {rate:,.1f} plans purged/s",
        ]
        for title, groups in (("refused", self.refused), ("failed", self.failed)):
            for reason, ids in sorted(groups.items(), key=lambda item: -len(item[1])):
                more = f" and {len(ids) - SHOWN_IDS:,} more" if len(ids) > SHOWN_IDS else ""
                lines.append(f"{title} {len(ids):,}: {reason} (plans {', '.join(ids[:SHOWN_IDS])}{more})")
        return lines


async def purge_plans(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    plan_ids: list[str],
    options: BulkPurgeOptions,
    progress: TextIO | None = None,
) -> BulkPurgeReport:
    """Purge each plan: request it, and follow it until it is completed, `options.window` at a time."""
    report = BulkPurgeReport(listed=len(plan_ids))
    started = time.monotonic()
    await _BulkRun(api, headers, options, report, progress).through(plan_ids)
    report.seconds = time.monotonic() - started
    return report


async def bulk_purge(
    api: httpx.AsyncClient, token: str, options: BulkPurgeOptions, progress: TextIO | None = None
) -> BulkPurgeReport:
    """List the token's unit's ended plans and purge them all (what `careplan purge --yes` runs)."""
    headers = {"Authorization": f"Bearer {token}"}
    plan_ids = await list_ended_plans(api, headers, options.ended_before)
    return await purge_plans(api, headers, plan_ids, options, progress)


class _BulkRun:
    """One bulk purge under way: the purges requested and not completed yet, in request order."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        headers: dict[str, str],
        options: BulkPurgeOptions,
        report: BulkPurgeReport,
        progress: TextIO | None,
    ) -> None:
        self.api, self.headers, self.options, self.report = api, headers, options, report
        self.body = {"force": options.force, "reason": options.reason if options.force else ""}
        self.under_way: dict[str, float] = {}
        """Plan id → when its purge was accepted (dicts keep insertion order: the request order)."""
        self.missing: dict[str, list[str]] = {}
        self.bar = ProgressLine(progress, report.listed, "purging") if progress else None

    async def through(self, plan_ids: list[str]) -> None:
        queue = list(reversed(plan_ids))  # popped from the end: the listing's order
        wait, started = self.options.poll_seconds, time.monotonic()
        while queue or self.under_way:
            room = max(0, self.options.window - len(self.under_way))
            batch = [queue.pop() for _ in range(min(room, len(queue)))]
            if batch:
                await _bounded(self.options.concurrency, [partial(self._request, plan_id) for plan_id in batch])
            if self.under_way:
                await asyncio.sleep(wait)
                wait = self._next_wait(wait, await self._follow(), time.monotonic() - started)
            self._draw()
        if self.bar:
            self.bar.end()

    async def _request(self, plan_id: str) -> None:
        outcome, detail = await request_purge(self.api, self.headers, plan_id, self.body)
        if outcome == "refused":
            self.report.refuse(plan_id, detail)
        elif outcome == "failed":
            self.report.fail(plan_id, detail)
        else:
            self.report.requested.append(plan_id)
            self.under_way[plan_id] = time.monotonic()

    async def _follow(self) -> int:
        """One pass over the purges under way (how many completed); those over their time are failures."""
        under_way = list(self.under_way)
        completed = await _poll_round(self.api, self.headers, under_way, self.options.concurrency, self.missing)
        for plan_id in completed:
            self.report.completed.append(plan_id)
            del self.under_way[plan_id]
        now = time.monotonic()
        for plan_id in [p for p, at in self.under_way.items() if now - at > self.options.timeout]:
            missing = ", ".join(self.missing.get(plan_id, [])) or "unknown"
            why = f"not completed within {self.options.timeout:.0f}s (no receipt yet from {missing})"
            self.report.fail(plan_id, why)
            del self.under_way[plan_id]
        return len(completed)

    def _next_wait(self, wait: float, completed: int, elapsed: float) -> float:
        """Twice as long after a pass that found nothing completed; otherwise long enough for about one
        batch of reads' worth of purges to complete at the rate seen so far. Every read is a request
        and an audit record in retention, which is busy with the purges themselves."""
        if not completed:
            return min(2 * wait, MAX_POLL_SECONDS)
        rate = len(self.report.completed) / max(elapsed, 1e-9)
        return min(MAX_POLL_SECONDS, max(self.options.poll_seconds, self.options.concurrency / rate))

    def _draw(self) -> None:
        if self.bar:
            report = self.report
            self.bar.update(len(report.completed) + report.refused_count + report.failed_count)


async def _poll_round(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    under_way: list[str],
    concurrency: int,
    missing: dict[str, list[str]],
) -> list[str]:
    """The purges found completed in one pass over those under way, in request order, `concurrency`
    reads at a time. Purges complete roughly in the order they were requested, so the pass stops at
    the first batch in which none has completed: reading the ones behind it only adds load."""
    completed: list[str] = []
    for start in range(0, len(under_way), concurrency):
        batch = under_way[start : start + concurrency]
        states = await asyncio.gather(*(purge_state(api, headers, plan_id) for plan_id in batch))
        done = [p for p, s in zip(batch, states, strict=True) if isinstance(s, dict) and s["state"] == "completed"]
        missing.update({p: s.get("missing", []) for p, s in zip(batch, states, strict=True) if isinstance(s, dict)})
        completed += done
        if not done:
            break
    return completed


async def _bounded(limit: int, jobs: list[Callable[[], Awaitable[None]]]) -> None:
    """Run the jobs with at most `limit` at a time."""
    gate = asyncio.Semaphore(max(1, limit))

    async def gated(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(gated(job) for job in jobs))
