"""Prometheus metrics of the reply SLA (no labels that could carry personal data)."""

from prometheus_client import Counter, Histogram

SLA_FLAGS = Counter("careplan_reply_sla_flags_total", "Reply-SLA flags raised", ["kind"])
SLA_BREACHES = Counter("careplan_reply_sla_breaches_total", "Patient messages not answered by the deadline")
TIME_TO_REPLY = Histogram(
    "careplan_reply_time_to_reply_seconds",
    "From a patient message to the staff reply that answered it",
    buckets=(3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400),
)
