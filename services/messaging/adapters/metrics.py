"""Prometheus metrics of the reply SLA (no labels that could carry personal data)."""

from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import Counter, Gauge, Histogram
from pymongo.asynchronous.database import AsyncDatabase

from services.messaging.adapters.repository import OPEN_SLA_STATES

SLA_FLAGS = Counter("careplan_reply_sla_flags_total", "Reply-SLA flags raised", ["kind"])
SLA_BREACHES = Counter("careplan_reply_sla_breaches_total", "Patient messages not answered by the deadline")
TIME_TO_REPLY = Histogram(
    "careplan_reply_time_to_reply_seconds",
    "From a patient message to the staff reply that answered it",
    buckets=(3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400),
)
REPLIES_AWAITED = Gauge(
    "careplan_reply_sla_awaiting",
    "Patient messages awaiting a reply, by SLA state (open, due_soon, overdue); sampled on scrape",
    ["state"],
)


class ReplySlaProbe:
    """How many patient messages wait for a reply in each SLA state (one indexed count each)."""

    name = "reply_sla"

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._messages = db["messages"]

    async def sample(self) -> None:
        with suppress_instrumentation():  # a scrape is not a workflow
            for state in OPEN_SLA_STATES:
                REPLIES_AWAITED.labels(state).set(await self._messages.count_documents({"sla.state": state}))
