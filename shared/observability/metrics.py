"""The platform's own Prometheus metrics: what every service's mechanisms count, and the backlog gauges
sampled from its database and the broker when Prometheus scrapes `/metrics`.

Labels are bounded and never personal: a service, a consumer group, a topic, a partition, a timer
kind, a channel, a state, a reason category. Alerting rules and the dashboard
(`deploy/k8s/base/monitoring`) use only the names defined here and in the services' metrics
modules; a test checks them against `/metrics` of running services.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)
_service = "unknown"


def install_service_name(name: str) -> None:
    """The `service` label of this process's metrics (one service per process; set by the runtime)."""
    global _service
    _service = name


def service_name() -> str:
    """The `service` label of this process's metrics."""
    return _service


# -- counted as it happens --------------------------------------------------------------------------
DEAD_LETTERS = Counter(
    "careplan_dead_letters_total",
    "Records sent to the dead-letter topic, by consumer and reason category",
    ["service", "consumer", "reason"],
)
EVENTS_RELAYED = Counter("careplan_outbox_relayed_total", "Events the outbox relay published", ["service"])
TIMERS_FIRED = Counter("careplan_timers_fired_total", "Durable timers fired", ["service", "kind"])
TIMER_FAILURES = Counter("careplan_timer_failures_total", "Timer batches that failed and wait for a retry", ["service"])

# -- sampled at scrape time -------------------------------------------------------------------------
OUTBOX_BACKLOG = Gauge(
    "careplan_outbox_backlog", "Events committed but not yet acknowledged by the broker", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "careplan_outbox_oldest_age_seconds", "Age of the oldest event waiting in the outbox (0 when empty)", ["service"]
)
TIMER_BACKLOG = Gauge("careplan_timer_backlog", "Durable timers due and not yet fired", ["service", "kind"])
TIMER_OLDEST_DUE_AGE = Gauge(
    "careplan_timer_oldest_due_age_seconds", "How long the oldest due timer has waited (0 when none)", ["service"]
)
CONSUMER_LAG = Gauge(
    "careplan_consumer_lag",
    "Records on a partition not yet processed by a consumer group (end offset minus committed offset)",
    ["service", "group", "topic", "partition"],
)
DEAD_LETTER_RECORDS = Gauge(
    "careplan_dead_letter_records",
    "Records on the dead-letter topic (end minus start offsets, all partitions; the same figure from every service)",
    ["service"],
)
BACKLOG_SAMPLE_FAILURES = Counter(
    "careplan_backlog_sample_failures_total",
    "Backlog samples that failed or timed out (the gauges keep their last value)",
    ["service", "probe"],
)


class BacklogProbe(Protocol):
    """Something that sets backlog gauges from a database or the broker when asked."""

    name: str

    async def sample(self) -> None:
        """Read the current figures and set the gauges."""


class BacklogSampler:
    """Samples every probe when Prometheus scrapes, at most every `min_interval` seconds, each within
    `timeout` seconds: a slow or unreachable server delays a scrape by at most that, never hangs it,
    and several scrapers (or replicas' scrapes) do not multiply the load on the databases."""

    def __init__(
        self, service: str, probes: Sequence[BacklogProbe], *, min_interval: float = 10.0, timeout: float = 2.0
    ) -> None:
        self.service = service
        self.probes = list(probes)
        self._min_interval = min_interval
        self._timeout = timeout
        self._sampled_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Sample every probe unless that was done within the interval."""
        async with self._lock:
            if time.monotonic() - self._sampled_at < self._min_interval:
                return
            await asyncio.gather(*(self._sample(probe) for probe in self.probes))
            self._sampled_at = time.monotonic()

    async def _sample(self, probe: BacklogProbe) -> None:
        try:
            await asyncio.wait_for(probe.sample(), self._timeout)
        except Exception as exc:  # noqa: BLE001 - a probe must never break the scrape
            BACKLOG_SAMPLE_FAILURES.labels(self.service, probe.name).inc()
            log.warning("backlog probe %s failed: %s", probe.name, type(exc).__name__)

    async def close(self) -> None:
        """Close probes that hold connections."""
        for probe in self.probes:
            closer = getattr(probe, "close", None)
            if closer is not None:
                await closer()
