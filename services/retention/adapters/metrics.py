"""Prometheus gauges of the purge saga: purges waiting for receipts, and whose (sampled on scrape).

Labels name services of the platform, never a plan or a person."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import Gauge
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from shared.clock import Clock
from shared.contracts.purge import PURGING_SERVICES

PURGES_WAITING = Gauge("careplan_purges_waiting", "Purges requested and not yet completed")
PURGE_RECEIPTS_MISSING = Gauge(
    "careplan_purge_receipts_missing",
    "Purges under way whose receipt from this participant has not come",
    ["participant"],
)
PURGE_OLDEST_WAITING_AGE = Gauge(
    "careplan_purge_oldest_waiting_age_seconds", "How long the oldest purge under way has waited (0 when none)"
)


class PurgeProbe:
    """Reads the purges under way (an indexed match on their state; the receipts' keys only)."""

    name = "purges"

    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self._purges = db["purges"]
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._purges.create_index([("state", ASCENDING)])

    async def sample(self) -> None:
        missing = dict.fromkeys(PURGING_SERVICES, 0)
        waiting, oldest = 0, None
        with suppress_instrumentation():  # a scrape is not a workflow
            async for purge in self._purges.find({"state": "requested"}, {"receipts": 1, "requested_at": 1}):
                waiting += 1
                oldest = purge["requested_at"] if oldest is None else min(oldest, purge["requested_at"])
                for service in missing.keys() - (purge.get("receipts") or {}).keys():
                    missing[service] += 1
        PURGES_WAITING.set(waiting)
        for service, count in missing.items():
            PURGE_RECEIPTS_MISSING.labels(service).set(count)
        age = (self._clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        PURGE_OLDEST_WAITING_AGE.set(max(0.0, age))
