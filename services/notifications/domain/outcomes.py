"""What an attempt at a delivery leads to: the text to send (or why not now), and what the provider's
outcome does to the ledger entry, with the events it raises. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from services.notifications.domain.model import Delivery
from services.notifications.domain.policy import MAX_ATTEMPTS, backoff, sms_allowed_at
from services.notifications.domain.templates import MissingVariable, Text, text_for
from shared.contracts import notifications as events
from shared.messaging.events import Event

QUIET_HOURS = "sms quiet hours"
FINAL = ("sent", "failed")


@dataclass(frozen=True)
class Outcome:
    """`sent`; `retry` (a transient failure, maybe with the provider's Retry-After); `failed` for good."""

    status: Literal["sent", "retry", "failed"]
    reason: str = ""
    retry_after_seconds: float | None = None

    @property
    def counts_as_attempt(self) -> bool:
        """Waiting out the SMS quiet hours is not an attempt."""
        return self.reason != QUIET_HOURS


@dataclass(frozen=True)
class Ready:
    """A delivery that may go out now: its address and rendered text."""

    delivery: Delivery
    address: str
    text: Text


def text_of(delivery: Delivery) -> Text:
    """The delivery's text (a staff-written one if it has one); `MissingVariable` if it cannot be rendered."""
    custom = None
    if delivery.custom_subject is not None and delivery.custom_body is not None:
        custom = Text(subject=delivery.custom_subject, body=delivery.custom_body)
    return text_for(
        delivery.template, delivery.variables, protected_identity=delivery.protected_identity, custom=custom
    )


def prepare(delivery: Delivery, now: datetime) -> Ready | Outcome:
    """Ready to send, or the outcome known without a provider (quiet hours, a missing variable or address)."""
    if delivery.channel == "sms" and (allowed := sms_allowed_at(now)) > now:
        return Outcome("retry", QUIET_HOURS, (allowed - now).total_seconds())
    try:
        text = text_of(delivery)
    except MissingVariable as exc:
        return Outcome("failed", str(exc))
    if not delivery.address:
        return Outcome("failed", f"no {delivery.channel} address")
    return Ready(delivery, delivery.address, text)


RetryGroup = tuple[datetime, str, int]
"""(due, state, attempts): retries due together share one timer."""


@dataclass
class Settlement:
    """The ledger updates, events, retries and permanent failures of one batch of outcomes."""

    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    retries: dict[RetryGroup, list[str]] = field(default_factory=dict)
    failed: list[Delivery] = field(default_factory=list)
    _announced: dict[str, list[str]] = field(default_factory=dict)

    def sent(self, delivery: Delivery, attempts: int, now: datetime) -> None:
        self.updates[delivery.id] = {"state": "sent", "sent_at": now, "attempts": attempts, "last_error": None}
        if delivery.trigger_kind == "announcement":  # one event per batch, not one per recipient
            self._announced.setdefault(delivery.trigger_id, []).append(delivery.id)
            return
        self.events.append(
            events.NotificationDelivered(
                delivery_id=delivery.id,
                trigger_id=delivery.trigger_id,
                trigger_kind=delivery.trigger_kind,
                channel=delivery.channel,
                plan_id=delivery.plan_id,
            )
        )

    def retry(self, delivery: Delivery, outcome: Outcome, attempts: int, now: datetime) -> None:
        wait = (
            timedelta(seconds=outcome.retry_after_seconds)
            if outcome.retry_after_seconds is not None
            else backoff(attempts)
        )
        state = "queued" if outcome.counts_as_attempt else "deferred"
        due = whole_second(now + wait)
        self.updates[delivery.id] = {
            "state": state,
            "attempts": attempts,
            "last_error": outcome.reason,
            "next_attempt_at": due,
        }
        self.retries.setdefault((due, state, attempts), []).append(delivery.id)

    def fail(self, delivery: Delivery, reason: str, attempts: int) -> None:
        self.updates[delivery.id] = {"state": "failed", "attempts": attempts, "last_error": reason}
        common = {"delivery_id": delivery.id, "trigger_id": delivery.trigger_id, "channel": delivery.channel}
        self.events += [
            events.NotificationFailed(
                **common, trigger_kind=delivery.trigger_kind, plan_id=delivery.plan_id, reason=reason
            ),
            events.DeliveryDeadLettered(**common, reason=reason),
        ]
        self.failed.append(delivery)

    def close(self) -> Settlement:
        for trigger_id, delivered in self._announced.items():
            self.events.append(
                events.AnnouncementDeliveries(batch_key=delivered[0], trigger_id=trigger_id, delivery_ids=delivered)
            )
        self._announced = {}
        return self


def settle(results: list[tuple[Delivery, Outcome]], now: datetime) -> Settlement:
    """Sent, retried later (backoff or the provider's Retry-After; deferred for quiet hours), or failed
    for good (a permanent error, or attempts exhausted)."""
    settlement = Settlement()
    for delivery, outcome in results:
        attempts = delivery.attempts + (1 if outcome.counts_as_attempt else 0)
        if outcome.status == "sent":
            settlement.sent(delivery, attempts, now)
        elif outcome.status == "retry" and attempts < MAX_ATTEMPTS:
            settlement.retry(delivery, outcome, attempts, now)
        else:
            reason = outcome.reason if outcome.status == "failed" else f"gave up after {attempts}: {outcome.reason}"
            settlement.fail(delivery, reason, attempts)
    return settlement.close()


def whole_second(moment: datetime) -> datetime:
    """Rounded up to a whole second, so retries due together share one timer."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)
