"""What the notifications use cases need from the outside world: stores, providers, rate limits and
the internal work queue. MongoDB, SMTP, the SMS gateway, Redis and Kafka implement these in
`adapters/`; in-memory fakes implement them in `tests/unit/notifications/fakes.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

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
from shared.messaging.events import Event


class Recipients(Protocol):
    """Notifications' own read model of plans with a copy of each patient's preferences (what an
    announcement's fan-out streams), and the preferences themselves. Not an access rule."""

    async def save_started(self, plan: PlanRecipient) -> None:
        """Upsert a started plan (an `active: false` it already has stays: the end may come first)."""

    async def end(self, plan_id: str) -> None:
        """The plan takes no more announcements."""

    async def move(self, plan_id: str, unit_id: str) -> None:
        """The plan is now held by `unit_id` (a completed handover)."""

    async def copy_preferences(self, personnummer: str) -> None:
        """Bring the copy of the patient's preferences on their plans up to date (newest version wins)."""

    def fanout(self, announcement: Announcement) -> AsyncIterator[FanoutRecipient]:
        """Every active plan in the announcement's scope with its patient's chosen channels, streamed."""
        ...

    async def active_plans(self, plan_ids: list[str]) -> list[PlanRecipient]: ...

    async def preferences(self, personnummer: str) -> Preferences: ...

    async def preferences_of(self, personnummers: list[str]) -> dict[str, Preferences]: ...

    async def save_preferences(self, personnummer: str, preferences: Preferences) -> None:
        """Store the choice (numbered), then copy it onto the patient's plans."""


class StaffDirectory(Protocol):
    """Staff directory entries, keyed by (unit, HSA-id)."""

    async def save(self, member: StaffMember) -> None: ...

    async def member(self, unit_id: str, hsa_id: str) -> StaffMember | None: ...

    async def with_role(self, unit_id: str, role: str) -> list[StaffMember]: ...


class Ledger(Protocol):
    """The delivery ledger (one entry per trigger, recipient and channel) and announcements' tallies."""

    async def add(self, deliveries: list[Delivery]) -> set[str]:
        """Insert new entries; returns the ids of those that existed already (left as they are)."""

    async def by_id(self, ids: list[str]) -> list[Delivery]: ...

    async def of_trigger(self, trigger_id: str) -> list[Delivery]: ...

    async def count_states(self, trigger_id: str) -> dict[str, int]: ...

    async def record_outcomes(self, updates: dict[str, dict[str, Any]], session: Any) -> dict[str, int]:
        """Store outcomes, never over a final one; returns how many became sent and failed by this call."""

    async def tally(self, announcement_id: str, counts: dict[str, int], session: Any) -> None: ...

    async def announcement_outcomes(self, announcement_id: str) -> dict[str, int]: ...


class Inbox(Protocol):
    """Patients' 1177 inboxes."""

    async def add(self, items: list[InboxItem]) -> None:
        """Insert items; ones already there (a redelivery) stay as they are."""

    async def of(self, personnummer: str) -> list[InboxItem]: ...

    async def mark_read(self, item_id: str, personnummer: str, at: datetime) -> bool: ...


class Bulletins(Protocol):
    """Announcements and unit banners."""

    async def add_announcement(self, announcement: Announcement, session: Any) -> None: ...

    async def announcement(self, announcement_id: str) -> Announcement | None: ...

    async def set_fanout_totals(self, announcement_id: str, batches: int, recipients: int) -> None: ...

    async def batch_done(self, announcement_id: str, number: int) -> None: ...

    async def record_check(self, announcement_id: str, progress: int, *, resumed: bool, session: Any) -> None: ...

    async def add_banner(self, banner: Banner) -> None: ...

    async def delete_banner(self, banner_id: str, unit_id: str) -> bool: ...

    async def banners_of_units(self, unit_ids: list[str], now: datetime) -> list[Banner]: ...


@dataclass(frozen=True)
class Stores:
    """Every store of the service, wired once (MongoDB in the service, in-memory fakes in unit tests)."""

    recipients: Recipients
    staff: StaffDirectory
    ledger: Ledger
    inbox: Inbox
    bulletins: Bulletins


class Provider(Protocol):
    """An e-mail or SMS provider: one call ends in one outcome."""

    name: str

    async def send(self, *, delivery_id: str, address: str, subject: str, body: str) -> Outcome: ...


@runtime_checkable
class BatchProvider(Provider, Protocol):
    """A provider that takes one text to many addresses in one call."""

    async def send_batch(self, messages: list[tuple[str, str]], *, subject: str, body: str) -> list[Outcome]:
        """`messages` are (delivery id, address); an outcome per message, in order."""
        ...


class RateLimiter(Protocol):
    """A provider's rate limit, shared by every replica."""

    async def acquire(self, messages: int = 1) -> int:
        """Wait until `messages` more may be sent; returns the second of the last grant."""
        ...


class WorkQueue(Protocol):
    """The service's internal work topic, written outside a transaction (announcement fan-out)."""

    async def put(self, event: Event, *, event_id: str) -> Awaitable[Any]:
        """Hand the event to the broker under a fixed id (a repeat is recognised by consumers); returns
        what to await for the broker's acknowledgement."""
        ...
