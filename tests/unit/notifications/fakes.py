"""In-memory stand-ins for the notifications service's ports (`service_layer/ports.py`), and a harness
that wires the real use cases over them. They behave like the MongoDB, SMTP, SMS-gateway, Redis and
Kafka adapters in the ways a use case can observe (entries are unique by id, final outcomes are never
overwritten, preferences copies keep the newest version, rate limits hold per second)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.domain.model import (
    Announcement,
    Banner,
    Delivery,
    FanoutRecipient,
    InboxItem,
    PlanRecipient,
    Preferences,
    StaffMember,
)
from services.notifications.domain.outcomes import Outcome
from services.notifications.service_layer.delivery import Deliverer, Sender
from services.notifications.service_layer.ports import Stores
from services.notifications.service_layer.service import NotificationsService
from shared.clock import FixedClock
from shared.messaging.events import Event, ReceivedEvent
from shared.ownership import OwnershipState, PlanOwnership
from tests.fakes import FakeTimers, FakeUnitOfWork, InMemoryOwnershipRepository

PEPPER = "unit-test-pepper"


class InMemoryRecipients:
    """Plans as documents (with the copy of the patient's preferences), and numbered preferences."""

    def __init__(self) -> None:
        self.plans: dict[str, dict[str, Any]] = {}
        self.chosen: dict[str, tuple[Preferences, int]] = {}

    async def save_started(self, plan: PlanRecipient) -> None:
        doc = self.plans.setdefault(plan.plan_id, {"active": plan.active})
        doc.update(plan.model_dump(exclude={"active"}))

    async def end(self, plan_id: str) -> None:
        self.plans.setdefault(plan_id, {})["active"] = False

    async def move(self, plan_id: str, unit_id: str) -> None:
        if plan_id in self.plans:
            self.plans[plan_id]["unit_id"] = unit_id

    async def copy_preferences(self, personnummer: str) -> None:
        if personnummer in self.chosen:
            self._copy(personnummer)

    def _copy(self, personnummer: str) -> None:
        preferences, version = self.chosen[personnummer]
        for doc in self.plans.values():
            if doc.get("patient_personnummer") == personnummer and doc.get("preferences_version", -1) < version:
                doc["preferences"], doc["preferences_version"] = preferences.model_copy(), version

    async def fanout(self, announcement: Announcement) -> AsyncIterator[FanoutRecipient]:
        for plan_id, doc in sorted(self.plans.items()):  # plan-id order, as the MongoDB store
            if not doc.get("active") or not _in_scope(doc, announcement):
                continue
            chosen = doc.get("preferences") or Preferences()
            yield FanoutRecipient(
                plan_id=plan_id,
                unit_id=doc["unit_id"],
                personnummer=doc["patient_personnummer"],
                protected_identity=doc.get("protected_identity", False),
                addresses={c: chosen.address(c) for c in chosen.channels()},
            )

    async def active_plans(self, plan_ids: list[str]) -> list[PlanRecipient]:
        docs = [self.plans[i] for i in dict.fromkeys(plan_ids) if i in self.plans]
        return [PlanRecipient.model_validate(d) for d in docs if d.get("active")]

    async def preferences(self, personnummer: str) -> Preferences:
        return self.chosen.get(personnummer, (Preferences(), 0))[0].model_copy()

    async def preferences_of(self, personnummers: list[str]) -> dict[str, Preferences]:
        return {p: await self.preferences(p) for p in personnummers}

    async def save_preferences(self, personnummer: str, preferences: Preferences) -> None:
        version = self.chosen.get(personnummer, (None, 0))[1] + 1
        self.chosen[personnummer] = (preferences.model_copy(), version)
        self._copy(personnummer)


def _in_scope(doc: dict[str, Any], announcement: Announcement) -> bool:
    if announcement.scope == "unit":
        return bool(doc.get("unit_id") == announcement.unit_id)
    if announcement.scope == "program_version":
        return (doc.get("program_id"), doc.get("program_version")) == (
            announcement.program_id,
            announcement.program_version,
        )
    return True


class InMemoryStaffDirectory:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], StaffMember] = {}

    async def save(self, member: StaffMember) -> None:
        self.entries[(member.unit_id, member.hsa_id)] = member.model_copy()

    async def member(self, unit_id: str, hsa_id: str) -> StaffMember | None:
        found = self.entries.get((unit_id, hsa_id))
        return found.model_copy() if found else None

    async def with_role(self, unit_id: str, role: str) -> list[StaffMember]:
        return [m.model_copy() for (unit, _), m in self.entries.items() if unit == unit_id and role in m.roles]


class InMemoryLedger:
    def __init__(self) -> None:
        self.deliveries: dict[str, Delivery] = {}
        self.tallies: list[tuple[str, dict[str, int]]] = []

    async def add(self, deliveries: list[Delivery]) -> set[str]:
        existing = {d.id for d in deliveries if d.id in self.deliveries}
        self.deliveries.update({d.id: d.model_copy() for d in deliveries if d.id not in existing})
        return existing

    async def by_id(self, ids: list[str]) -> list[Delivery]:
        return [self.deliveries[i].model_copy() for i in dict.fromkeys(ids) if i in self.deliveries]

    async def of_trigger(self, trigger_id: str) -> list[Delivery]:
        return [d.model_copy() for d in self.deliveries.values() if d.trigger_id == trigger_id]

    async def count_states(self, trigger_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for delivery in await self.of_trigger(trigger_id):
            counts[delivery.state] = counts.get(delivery.state, 0) + 1
        return counts

    async def record_outcomes(self, updates: dict[str, dict[str, Any]], session: Any) -> dict[str, int]:
        counts = {"sent": 0, "failed": 0}
        for delivery_id, update in updates.items():
            current = self.deliveries.get(delivery_id)
            if current is None or current.state in ("sent", "failed"):
                continue
            self.deliveries[delivery_id] = current.model_copy(update=update)
            if update["state"] in counts:
                counts[update["state"]] += 1
        return counts

    async def tally(self, announcement_id: str, counts: dict[str, int], session: Any) -> None:
        if any(counts.values()):
            self.tallies.append((announcement_id, dict(counts)))

    async def announcement_outcomes(self, announcement_id: str) -> dict[str, int]:
        totals = {"sent": 0, "failed": 0}
        for tallied, counts in self.tallies:
            if tallied == announcement_id:
                totals = {k: totals[k] + counts.get(k, 0) for k in totals}
        return {k: v for k, v in totals.items() if v}


class InMemoryInbox:
    def __init__(self) -> None:
        self.items: dict[str, InboxItem] = {}

    async def add(self, items: list[InboxItem]) -> None:
        for item in items:
            self.items.setdefault(item.id, item.model_copy())

    async def of(self, personnummer: str) -> list[InboxItem]:
        mine = [i.model_copy() for i in self.items.values() if i.personnummer == personnummer]
        return sorted(mine, key=lambda i: i.created_at, reverse=True)[:200]

    async def mark_read(self, item_id: str, personnummer: str, at: datetime) -> bool:
        item = self.items.get(item_id)
        if item is None or item.personnummer != personnummer:
            return False
        item.read_at = at
        return True


class InMemoryBulletins:
    def __init__(self) -> None:
        self.announcements: dict[str, Announcement] = {}
        self.banners: dict[str, Banner] = {}

    async def add_announcement(self, announcement: Announcement, session: Any) -> None:
        self.announcements[announcement.id] = announcement.model_copy()

    async def announcement(self, announcement_id: str) -> Announcement | None:
        found = self.announcements.get(announcement_id)
        return found.model_copy() if found else None

    async def set_fanout_totals(self, announcement_id: str, batches: int, recipients: int) -> None:
        if announcement_id in self.announcements:
            self.announcements[announcement_id].batches = batches
            self.announcements[announcement_id].recipients = recipients

    async def batch_done(self, announcement_id: str, number: int) -> None:
        announcement = self.announcements.get(announcement_id)
        if announcement is not None and number not in announcement.batches_done:
            announcement.batches_done.append(number)

    async def record_check(self, announcement_id: str, progress: int, *, resumed: bool, session: Any) -> None:
        announcement = self.announcements.get(announcement_id)
        if announcement is not None:
            announcement.checked_progress = progress
            announcement.resumed += int(resumed)

    async def add_banner(self, banner: Banner) -> None:
        self.banners[banner.id] = banner.model_copy()

    async def delete_banner(self, banner_id: str, unit_id: str) -> bool:
        banner = self.banners.get(banner_id)
        if banner is None or banner.unit_id != unit_id:
            return False
        del self.banners[banner_id]
        return True

    async def banners_of_units(self, unit_ids: list[str], now: datetime) -> list[Banner]:
        return [
            b.model_copy()
            for b in self.banners.values()
            if b.unit_id in unit_ids and (b.valid_until is None or b.valid_until > now)
        ]


@dataclass
class Sent:
    """One message a fake provider was asked to send, and when (by the test's clock)."""

    delivery_id: str
    address: str
    subject: str
    body: str
    at: datetime


class FakeProvider:
    """Records what it was asked to send. `script` holds outcomes for the next calls (then: sent);
    `refused` addresses are refused for good (a permanent 4xx)."""

    def __init__(self, name: str, clock: FixedClock, *outcomes: Outcome) -> None:
        self.name = name
        self.clock = clock
        self.script = list(outcomes)
        self.refused: set[str] = set()
        self.sent: list[Sent] = []
        self.calls = 0

    async def send(self, *, delivery_id: str, address: str, subject: str, body: str) -> Outcome:
        self.calls += 1
        if address in self.refused:
            return Outcome("failed", "refused (400)")
        outcome = self.script.pop(0) if self.script else Outcome("sent")
        if outcome.status == "sent":
            self.sent.append(Sent(delivery_id, address, subject, body, self.clock.now()))
        return outcome


class FakeBatchProvider(FakeProvider):
    """A provider that also takes one text to many addresses in one call (as the SMS gateway does)."""

    def __init__(self, name: str, clock: FixedClock, *outcomes: Outcome) -> None:
        super().__init__(name, clock, *outcomes)
        self.batches: list[list[str]] = []

    async def send_batch(self, messages: list[tuple[str, str]], *, subject: str, body: str) -> list[Outcome]:
        self.batches.append([address for _, address in messages])
        return [await self.send(delivery_id=i, address=a, subject=subject, body=body) for i, a in messages]


class FakeRateLimiter:
    """`per_second` messages per second of the test's clock; a caller over the budget waits (the clock
    moves on to the next second, as a real wait would)."""

    def __init__(self, clock: FixedClock, per_second: int) -> None:
        self.clock = clock
        self.per_second = per_second
        self.used: dict[int, int] = {}

    async def acquire(self, messages: int = 1) -> int:
        while True:
            second = int(self.clock.now().timestamp())
            granted = min(messages, self.per_second - self.used.get(second, 0))
            self.used[second] = self.used.get(second, 0) + granted
            messages -= granted
            if messages == 0:
                return second
            self.clock.set(datetime.fromtimestamp(second + 1, UTC))


class FakeWorkQueue:
    """The work topic: events kept in order with their ids (a repeated id is kept once, as consumers
    would skip it)."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}

    async def put(self, event: Event, *, event_id: str) -> Awaitable[Any]:
        self.events.setdefault(event_id, event)
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    def of(self, event_type: type[Event]) -> list[Any]:
        return [e for e in self.events.values() if isinstance(e, event_type)]


def fake_stores() -> Stores:
    return Stores(
        recipients=InMemoryRecipients(),
        staff=InMemoryStaffDirectory(),
        ledger=InMemoryLedger(),
        inbox=InMemoryInbox(),
        bulletins=InMemoryBulletins(),
    )


def received(event_id: str = "event-1", ce_type: str = "test") -> ReceivedEvent:
    return ReceivedEvent(id=event_id, ce_type=ce_type, source="/tests", time=None, key=None, data={})


@dataclass
class Harness:
    """The notifications use cases over fakes, with the fakes at hand for assertions."""

    clock: FixedClock
    stores: Stores = field(default_factory=fake_stores)
    ownership: InMemoryOwnershipRepository = field(default_factory=InMemoryOwnershipRepository)
    timers: FakeTimers = field(default_factory=FakeTimers)
    work: FakeWorkQueue = field(default_factory=FakeWorkQueue)
    sms_batch_size: int = 1
    sms_per_second: int = 1000

    def __post_init__(self) -> None:
        self.uow = FakeUnitOfWork(self.clock, self.stores.ledger, self.stores.bulletins, self.timers)
        self.email = FakeProvider("smtp", self.clock)
        self.sms = FakeBatchProvider("sms-gateway", self.clock)
        self.email_limit = FakeRateLimiter(self.clock, 1000)
        self.sms_limit = FakeRateLimiter(self.clock, self.sms_per_second)
        senders = {
            "email": Sender(self.email, self.email_limit),
            "sms": Sender(self.sms, self.sms_limit, batch_size=self.sms_batch_size),
        }
        self.deliverer = Deliverer(self.uow, self.stores, self.timers, senders, pepper=PEPPER)
        self.service = NotificationsService(self.uow, self.stores, self.ownership, self.deliverer, self.work)

    @property
    def recipients(self) -> InMemoryRecipients:
        assert isinstance(self.stores.recipients, InMemoryRecipients)
        return self.stores.recipients

    @property
    def ledger(self) -> InMemoryLedger:
        assert isinstance(self.stores.ledger, InMemoryLedger)
        return self.stores.ledger

    @property
    def inbox(self) -> InMemoryInbox:
        assert isinstance(self.stores.inbox, InMemoryInbox)
        return self.stores.inbox

    async def plan(
        self,
        plan_id: str,
        unit_id: str,
        personnummer: str,
        *,
        responsible: str = "SE2321000016-T001",
        protected: bool = False,
        program: tuple[str, str] = ("prog", "1.0"),
        state: OwnershipState = OwnershipState.ACTIVE,
    ) -> PlanOwnership:
        """A started plan, as both the ownership copy and the read model hold it once its start is seen."""
        ownership = PlanOwnership(
            plan_id=plan_id,
            unit_id=unit_id,
            patient_personnummer=personnummer,
            protected_identity=protected,
            responsible_hsa_id=responsible,
            program_id=program[0],
            program_version=program[1],
            state=state,
        )
        await self.ownership.save(ownership)
        await self.service.read_model.on_plan_started(
            PlanRecipient(
                plan_id=plan_id,
                unit_id=unit_id,
                patient_personnummer=personnummer,
                protected_identity=protected,
                program_id=program[0],
                program_version=program[1],
                responsible_hsa_id=responsible,
            ),
            None,
            None,
        )
        return ownership

    def deliveries(self, trigger_id: str | None = None) -> list[Delivery]:
        return [d for d in self.ledger.deliveries.values() if trigger_id in (None, d.trigger_id)]

    def later(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)
