"""Delivering a batch of ledger entries: quiet hours, rate limits, providers, outcomes, retries, fallback.

Each ledger entry is one (trigger, recipient, channel): redelivered triggers find their entries and
skip what was sent. Outcomes of a batch, their events and the retry timers commit in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from services.notifications.adapters.providers import BatchProvider, Outcome, Provider
from services.notifications.adapters.rate_limit import SharedRateLimit
from services.notifications.adapters.repository import NotificationsRepository
from services.notifications.domain.model import Delivery, InboxItem
from services.notifications.domain.policy import MAX_ATTEMPTS, backoff, sms_allowed_at
from services.notifications.domain.templates import MissingVariable, Text, text_for
from shared.contracts import notifications as events
from shared.kernel.identity import pseudonym
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)
RETRY_TIMER = "notifications.delivery_due"
FINAL = ("sent", "failed")


class Deliverer:
    def __init__(
        self,
        uow: UnitOfWork,
        repo: NotificationsRepository,
        timers: TimerStore,
        providers: dict[str, Provider],
        limits: dict[str, SharedRateLimit],
        *,
        pepper: str,
        concurrency: int = 64,
        batch_sizes: dict[str, int] | None = None,
    ) -> None:
        self.uow = uow
        self._batch_sizes = batch_sizes or {}
        self._pepper = pepper
        self.repo = repo
        self.timers = timers
        self.providers = providers
        self.limits = limits
        self._slots = asyncio.Semaphore(concurrency)

    async def deliver(self, new: list[Delivery]) -> None:
        """Record new ledger entries (existing ones are kept) and attempt every one not yet final."""
        existing = await self.repo.add_deliveries(new)
        known = await self.repo.deliveries_by_id(list(existing)) if existing else []  # a redelivered trigger
        await self._attempt([d for d in new if d.id not in existing] + [d for d in known if d.state not in FINAL])

    async def attempt(self, delivery_ids: list[str]) -> None:
        await self._attempt([d for d in await self.repo.deliveries_by_id(delivery_ids) if d.state not in FINAL])

    async def _attempt(self, pending: list[Delivery]) -> None:
        if not pending:
            return
        inbox = [d for d in pending if d.channel == "inbox"]
        results = list(zip(inbox, await self._to_inboxes(inbox), strict=True))
        singles: list[tuple[Delivery, Text]] = []
        batched: list[tuple[Delivery, Text]] = []
        for delivery in (d for d in pending if d.channel != "inbox"):
            checked = self._check(delivery)
            if isinstance(checked, Outcome):
                results.append((delivery, checked))
            else:
                (batched if self._batch_sizes.get(delivery.channel, 1) > 1 else singles).append((delivery, checked))
        groups = self._batches(batched)
        single_outcomes, group_outcomes = await asyncio.gather(
            asyncio.gather(*(self._send_one(d, text) for d, text in singles)),
            asyncio.gather(*(self._send_batch(group) for group in groups)),
        )
        results += zip((d for d, _ in singles), single_outcomes, strict=True)
        for group, outcomes in zip(groups, group_outcomes, strict=True):
            results += zip((d for d, _ in group), outcomes, strict=True)
        fallbacks = await self.uow.run(lambda tx: self._record(results, tx))
        if fallbacks:
            await self.deliver(fallbacks)

    def _check(self, delivery: Delivery) -> Outcome | Text:
        """The text to send, or the outcome already known (quiet hours, a missing variable or address)."""
        now = self.uow.clock.now()
        if delivery.channel == "sms" and (allowed := sms_allowed_at(now)) > now:
            return Outcome("retry", "sms quiet hours", (allowed - now).total_seconds())
        try:
            text = self._text(delivery)
        except MissingVariable as exc:
            return Outcome("failed", str(exc))
        if not delivery.address:
            return Outcome("failed", f"no {delivery.channel} address")
        return text

    async def _send_one(self, delivery: Delivery, text: Text) -> Outcome:
        async with self._slots:
            await self.limits[delivery.channel].acquire()
            return await self.providers[delivery.channel].send(
                delivery_id=delivery.id, address=delivery.address, subject=text.subject, body=text.body
            )

    def _batches(self, ready: list[tuple[Delivery, Text]]) -> list[list[tuple[Delivery, Text]]]:
        """Deliveries with the same channel and text, in groups of at most the channel's batch size."""
        same: dict[tuple[str, str, str], list[tuple[Delivery, Text]]] = {}
        for delivery, text in ready:
            same.setdefault((delivery.channel, text.subject, text.body), []).append((delivery, text))
        return [
            group[i : i + self._batch_sizes[channel]]
            for (channel, _, _), group in same.items()
            for i in range(0, len(group), self._batch_sizes[channel])
        ]

    async def _send_batch(self, group: list[tuple[Delivery, Text]]) -> list[Outcome]:
        channel, text = group[0][0].channel, group[0][1]
        provider: BatchProvider = self.providers[channel]  # type: ignore[assignment]
        async with self._slots:
            await self.limits[channel].acquire(len(group))
            return await provider.send_batch(
                [(d.id, d.address) for d, _ in group],  # type: ignore[misc]
                subject=text.subject,
                body=text.body,
            )

    async def _to_inboxes(self, deliveries: list[Delivery]) -> list[Outcome]:
        """The 1177 inbox is ours: one bulk write for the batch (an item id is its delivery id: once only)."""
        now = self.uow.clock.now()
        outcomes: list[Outcome] = []
        items = []
        for delivery in deliveries:
            try:
                text = self._text(delivery)
            except MissingVariable as exc:
                outcomes.append(Outcome("failed", str(exc)))
                continue
            items.append(
                InboxItem(
                    id=delivery.id,
                    personnummer=delivery.recipient,
                    subject=text.subject,
                    body=text.body,
                    created_at=now,
                )
            )
            outcomes.append(Outcome("sent"))
        await self.repo.add_inbox_items(items)
        return outcomes

    @staticmethod
    def _text(delivery: Delivery) -> Text:
        custom = None
        if delivery.custom_subject is not None and delivery.custom_body is not None:
            custom = Text(subject=delivery.custom_subject, body=delivery.custom_body)
        return text_for(
            delivery.template, delivery.variables, protected_identity=delivery.protected_identity, custom=custom
        )

    async def _record(self, results: list[tuple[Delivery, Outcome]], tx: Transaction) -> list[Delivery]:
        """Store outcomes, publish events, schedule retries; returns the fallback deliveries to make."""
        now = tx.clock.now()
        updates: dict[str, dict[str, Any]] = {}
        fallbacks: list[Delivery] = []
        fanned_out: dict[str, list[str]] = {}
        retries: dict[tuple[datetime, str, int], list[str]] = {}
        for delivery, outcome in results:
            common = {"delivery_id": delivery.id, "trigger_id": delivery.trigger_id, "channel": delivery.channel}
            attempts = delivery.attempts + (0 if outcome.reason == "sms quiet hours" else 1)
            if outcome.status == "sent":
                updates[delivery.id] = {"state": "sent", "sent_at": now, "attempts": attempts, "last_error": None}
                if delivery.trigger_kind == "announcement":  # one event per batch, not per recipient
                    fanned_out.setdefault(delivery.trigger_id, []).append(delivery.id)
                else:
                    tx.publish(
                        events.NotificationDelivered(
                            **common, trigger_kind=delivery.trigger_kind, plan_id=delivery.plan_id
                        )
                    )
            elif outcome.status == "retry" and attempts < MAX_ATTEMPTS:
                wait = (
                    timedelta(seconds=outcome.retry_after_seconds)
                    if outcome.retry_after_seconds is not None
                    else backoff(attempts)
                )
                state = "deferred" if outcome.reason == "sms quiet hours" else "queued"
                due = _whole_second(now + wait)
                updates[delivery.id] = {
                    "state": state,
                    "attempts": attempts,
                    "last_error": outcome.reason,
                    "next_attempt_at": due,
                }
                retries.setdefault((due, state, attempts), []).append(delivery.id)
            else:
                reason = outcome.reason if outcome.status == "failed" else f"gave up after {attempts}: {outcome.reason}"
                updates[delivery.id] = {"state": "failed", "attempts": attempts, "last_error": reason}
                tx.publish(
                    events.NotificationFailed(
                        **common, trigger_kind=delivery.trigger_kind, plan_id=delivery.plan_id, reason=reason
                    ),
                    events.DeliveryDeadLettered(**common, reason=reason),
                )
                fallback = await self._fallback(delivery, now)
                if fallback:
                    fallbacks.append(fallback)
        for trigger_id, delivered in fanned_out.items():
            tx.publish(
                events.AnnouncementDeliveries(batch_key=delivered[0], trigger_id=trigger_id, delivery_ids=delivered)
            )
        for (due, state, attempts), ids in retries.items():  # one timer for all due at once (e.g. 08:00)
            await self.timers.schedule(
                f"{RETRY_TIMER}:{ids[0]}:{attempts}:{state}",
                RETRY_TIMER,
                due,
                {"delivery_ids": ids},
                session=tx.session,
            )
        await self._store_outcomes(updates, results, tx)
        return fallbacks

    async def _store_outcomes(
        self, updates: dict[str, dict[str, Any]], results: list[tuple[Delivery, Outcome]], tx: Transaction
    ) -> None:
        """Outcomes to the ledger; an announcement's progress counts each delivery that became final once."""
        announced: dict[str, set[str]] = {}
        for delivery, _ in results:
            if delivery.trigger_kind == "announcement":
                announced.setdefault(delivery.trigger_id, set()).add(delivery.id)
        for trigger_id, ids in announced.items():
            counts = await self.repo.record_outcomes({i: updates[i] for i in ids}, tx.session)
            await self.repo.count_announcement_outcomes(trigger_id.removeprefix("announcement:"), counts, tx.session)
        counted = set().union(*announced.values())
        await self.repo.record_outcomes({i: u for i, u in updates.items() if i not in counted}, tx.session)

    async def _fallback(self, delivery: Delivery, now: Any) -> Delivery | None:
        """An SMS that failed for good goes by e-mail instead, if the patient enabled e-mail."""
        if delivery.channel != "sms" or delivery.recipient_kind != "patient":
            return None
        preferences = await self.repo.get_preferences(delivery.recipient)
        if not preferences.email_enabled or not preferences.email:
            return None
        return delivery.model_copy(
            update={
                "id": Delivery.key(delivery.trigger_id, self.recipient_ref(delivery.recipient), "email"),
                "channel": "email",
                "address": str(preferences.email),
                "state": "queued",
                "attempts": 0,
                "last_error": None,
                "created_at": now,
                "fallback_of": delivery.id,
            }
        )

    def recipient_ref(self, recipient: str) -> str:
        return pseudonym(recipient, self._pepper)[:32]

    async def on_retry_timer(self, timer: Timer, tx: Transaction) -> None:
        """Retries or deferrals are due: hand them to a worker through the work topic."""
        ids = timer.payload.get("delivery_ids") or [timer.payload["delivery_id"]]
        tx.publish(events.DeliveriesDue(key=ids[0], delivery_ids=ids))


def _whole_second(moment: datetime) -> datetime:
    """Rounded up to a whole second, so retries due together share one timer."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)
