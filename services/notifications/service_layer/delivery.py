"""Delivering a batch of ledger entries: quiet hours, rate limits, providers, outcomes, retries, fallback.

Each ledger entry is one (trigger, recipient, channel): redelivered triggers find their entries and
skip what was sent. Outcomes of a batch, their events and the retry timers commit in one transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifications.adapters import metrics
from services.notifications.domain.model import Delivery, InboxItem
from services.notifications.domain.outcomes import FINAL, Outcome, Ready, prepare, settle, text_of
from services.notifications.domain.templates import MissingVariable
from services.notifications.domain.triggers import email_fallback
from services.notifications.service_layer.ports import BatchProvider, Provider, RateLimiter, Stores
from shared.contracts import notifications as events
from shared.kernel.identity import pseudonym
from shared.messaging.events import ReceivedEvent
from shared.storage.timers import Timer, TimerScheduler
from shared.storage.unit_of_work import Transaction, UnitOfWork

RETRY_TIMER = "notifications.delivery_due"
Result = tuple[Delivery, Outcome]


@dataclass(frozen=True)
class Sender:
    """How one channel goes out: its provider, its shared rate limit, and how many same-text messages
    go in one provider call (1: one call each)."""

    provider: Provider
    limit: RateLimiter
    batch_size: int = 1


class Deliverer:
    def __init__(
        self,
        uow: UnitOfWork,
        stores: Stores,
        timers: TimerScheduler,
        senders: dict[str, Sender],
        *,
        pepper: str,
        concurrency: int = 64,
    ) -> None:
        self.uow = uow
        self.stores = stores
        self.timers = timers
        self.senders = senders
        self._pepper = pepper
        self._slots = asyncio.Semaphore(concurrency)

    def recipient_ref(self, recipient: str) -> str:
        """The pseudonym that stands for a recipient in ledger ids, events and provider references."""
        return pseudonym(recipient, self._pepper)[:32]

    async def deliver(self, new: list[Delivery]) -> None:
        """Record new ledger entries (existing ones are kept) and attempt every one not yet final."""
        existing = await self.stores.ledger.add(new)
        known = await self.stores.ledger.by_id(list(existing)) if existing else []  # a redelivered trigger
        await self._attempt([d for d in new if d.id not in existing] + [d for d in known if d.state not in FINAL])

    async def attempt(self, delivery_ids: list[str]) -> None:
        """Attempt the entries again (their retry or deferral is due); final ones are left alone."""
        await self._attempt([d for d in await self.stores.ledger.by_id(delivery_ids) if d.state not in FINAL])

    async def on_deliveries_due(self, event: events.DeliveriesDue, _: ReceivedEvent | None, __: Any) -> None:
        await self.attempt(event.delivery_ids)

    async def on_retry_timer(self, timer: Timer, tx: Transaction) -> None:
        """Retries or deferrals are due: hand them to a worker through the work topic."""
        ids = timer.payload.get("delivery_ids") or [timer.payload["delivery_id"]]
        tx.publish(events.DeliveriesDue(key=ids[0], delivery_ids=ids))

    async def _attempt(self, pending: list[Delivery]) -> None:
        if not pending:
            return
        now = self.uow.clock.now()
        results = await self._to_inboxes([d for d in pending if d.channel == "inbox"], now)
        ready: list[Ready] = []
        for delivery in (d for d in pending if d.channel != "inbox"):
            prepared = prepare(delivery, now)
            if isinstance(prepared, Ready):
                ready.append(prepared)
            else:
                results.append((delivery, prepared))
        results += await self._send(ready)
        fallbacks = await self.uow.run(lambda tx: self._record(results, tx))
        metrics.count_outcomes([(delivery.channel, outcome.status) for delivery, outcome in results])
        if fallbacks:
            await self.deliver(fallbacks)

    async def _to_inboxes(self, deliveries: list[Delivery], now: datetime) -> list[Result]:
        """The 1177 inbox is ours: one bulk write for the batch (an item id is its delivery id: once only)."""
        results: list[Result] = []
        items = []
        for delivery in deliveries:
            try:
                text = text_of(delivery)
            except MissingVariable as exc:
                results.append((delivery, Outcome("failed", str(exc))))
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
            results.append((delivery, Outcome("sent")))
        await self.stores.inbox.add(items)
        return results

    # -- providers -----------------------------------------------------------------------------
    async def _send(self, ready: list[Ready]) -> list[Result]:
        singles = [r for r in ready if not self._batched(r)]
        groups = self._groups([r for r in ready if self._batched(r)])
        single_outcomes, group_outcomes = await asyncio.gather(
            asyncio.gather(*(self._send_one(r) for r in singles)),
            asyncio.gather(*(self._send_group(group) for group in groups)),
        )
        results = list(zip((r.delivery for r in singles), single_outcomes, strict=True))
        for group, outcomes in zip(groups, group_outcomes, strict=True):
            results += zip((r.delivery for r in group), outcomes, strict=True)
        return results

    def _batched(self, ready: Ready) -> bool:
        sender = self.senders[ready.delivery.channel]
        return sender.batch_size > 1 and isinstance(sender.provider, BatchProvider)

    def _groups(self, ready: list[Ready]) -> list[list[Ready]]:
        """Deliveries with the same channel and text, in groups of at most the channel's batch size."""
        same: dict[tuple[str, str, str], list[Ready]] = {}
        for r in ready:
            same.setdefault((r.delivery.channel, r.text.subject, r.text.body), []).append(r)
        return [
            group[i : i + self.senders[channel].batch_size]
            for (channel, _, _), group in same.items()
            for i in range(0, len(group), self.senders[channel].batch_size)
        ]

    async def _send_one(self, ready: Ready) -> Outcome:
        sender = self.senders[ready.delivery.channel]
        async with self._slots:
            await sender.limit.acquire()
            return await sender.provider.send(
                delivery_id=ready.delivery.id, address=ready.address, subject=ready.text.subject, body=ready.text.body
            )

    async def _send_group(self, group: list[Ready]) -> list[Outcome]:
        sender, text = self.senders[group[0].delivery.channel], group[0].text
        if not isinstance(sender.provider, BatchProvider):  # never: only batch providers are grouped
            return [await self._send_one(r) for r in group]
        async with self._slots:
            await sender.limit.acquire(len(group))
            return await sender.provider.send_batch(
                [(r.delivery.id, r.address) for r in group], subject=text.subject, body=text.body
            )

    # -- outcomes ------------------------------------------------------------------------------
    async def _record(self, results: list[Result], tx: Transaction) -> list[Delivery]:
        """Store outcomes, publish their events, schedule retries; returns the fallback deliveries to make."""
        now = tx.clock.now()
        settlement = settle(results, now)
        tx.publish(*settlement.events)
        for (due, state, attempts), ids in settlement.retries.items():  # one timer for all due at once
            key = f"{RETRY_TIMER}:{ids[0]}:{attempts}:{state}"
            await self.timers.schedule(key, RETRY_TIMER, due, {"delivery_ids": ids}, session=tx.session)
        await self._store_outcomes(settlement.updates, results, tx)
        fallbacks = [await self._fallback(failed, now) for failed in settlement.failed]
        return [f for f in fallbacks if f is not None]

    async def _store_outcomes(self, updates: dict[str, dict[str, Any]], results: list[Result], tx: Transaction) -> None:
        """Outcomes to the ledger; an announcement's progress counts each delivery that became final once."""
        announced: dict[str, set[str]] = {}
        for delivery, _ in results:
            if delivery.trigger_kind == "announcement":
                announced.setdefault(delivery.trigger_id, set()).add(delivery.id)
        for trigger_id, ids in announced.items():
            counts = await self.stores.ledger.record_outcomes({i: updates[i] for i in ids}, tx.session)
            await self.stores.ledger.tally(trigger_id.removeprefix("announcement:"), counts, tx.session)
        counted = set().union(*announced.values())
        await self.stores.ledger.record_outcomes({i: u for i, u in updates.items() if i not in counted}, tx.session)

    async def _fallback(self, failed: Delivery, now: datetime) -> Delivery | None:
        if failed.channel != "sms" or failed.recipient_kind != "patient":
            return None
        preferences = await self.stores.recipients.preferences(failed.recipient)
        return email_fallback(failed, preferences, self.recipient_ref(failed.recipient), now)
