"""Prometheus metrics of deliveries (channel and outcome only: never a recipient or a trigger)."""

from prometheus_client import Counter

DELIVERY_ATTEMPTS = Counter(
    "careplan_delivery_attempts_total",
    "Delivery attempts by channel and outcome (sent, retry, failed); a retried delivery counts each attempt",
    ["channel", "outcome"],
)

ANNOUNCEMENTS_RESUMED = Counter(
    "careplan_announcements_resumed_total",
    "Stalled announcement fan-outs published again by the fan-out check (`split`: the whole split, "
    "`batches`: the missing batches)",
    ["stage"],
)


def count_outcomes(outcomes: list[tuple[str, str]]) -> None:
    """Count (channel, outcome) pairs of recorded attempts."""
    for channel, outcome in outcomes:
        DELIVERY_ATTEMPTS.labels(channel, outcome).inc()
