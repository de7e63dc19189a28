"""A service's part in the purge saga: delete, remember the plan id, answer with counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.clock import FixedClock
from shared.contracts import messaging
from shared.contracts.retention import PurgeRequested
from shared.purge import PurgeParticipant

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class ListPurger:
    """Plan data in a dict of collections, deleted by plan id."""

    def __init__(self) -> None:
        self.data: dict[str, list[str]] = {"conversations": ["p1", "p1", "p2"], "messages": ["p1", "p2"]}

    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]:
        deleted = {}
        for name, rows in self.data.items():
            deleted[name] = rows.count(plan_id)
            self.data[name] = [r for r in rows if r != plan_id]
        return deleted


class SetTombstones:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    async def add(self, plan_id: str, purge_id: str, at: datetime, session: Any = None) -> None:
        self.ids.setdefault(plan_id, purge_id)

    async def contains(self, plan_id: str, session: Any = None) -> bool:
        return plan_id in self.ids


def request(services: list[str], attempt: int = 1) -> PurgeRequested:
    return PurgeRequested(plan_id="p1", purge_id="g1", requested_at=NOW, attempt=attempt, services=services)


async def test_a_purge_deletes_only_that_plan_and_answers_with_counts() -> None:
    from tests.fakes import FakeUnitOfWork

    purger, tombstones = ListPurger(), SetTombstones()
    uow = FakeUnitOfWork(FixedClock(NOW), purger, tombstones)
    participant = PurgeParticipant("messaging", purger, tombstones, messaging.PurgeReceipt)
    await uow.run(lambda tx: participant.on_purge_requested(request(["plans", "messaging"]), None, tx))
    assert purger.data == {"conversations": ["p2"], "messages": ["p2"]}  # the other plan is intact
    assert await tombstones.contains("p1") and not await tombstones.contains("p2")
    [receipt] = uow.events_of(messaging.PurgeReceipt)
    assert receipt.ce_type == "se.careplan.messaging.purge_receipt.v1"
    assert (receipt.plan_id, receipt.purge_id, receipt.service) == ("p1", "g1", "messaging")
    assert receipt.deleted == {"conversations": 2, "messages": 1} and receipt.purged_at == NOW


async def test_a_re_request_for_other_services_is_ignored_and_one_for_us_is_answered_again() -> None:
    from tests.fakes import FakeUnitOfWork

    purger, tombstones = ListPurger(), SetTombstones()
    uow = FakeUnitOfWork(FixedClock(NOW), purger, tombstones)
    participant = PurgeParticipant("messaging", purger, tombstones, messaging.PurgeReceipt)
    await uow.run(lambda tx: participant.on_purge_requested(request(["forms"], attempt=2), None, tx))
    assert uow.published == [] and purger.data["conversations"] == ["p1", "p1", "p2"]
    for attempt in (1, 2):
        await uow.run(lambda tx, a=attempt: participant.on_purge_requested(request(["messaging"], a), None, tx))
    first, second = uow.events_of(messaging.PurgeReceipt)
    assert first.deleted["conversations"] == 2 and second.deleted["conversations"] == 0


def test_the_participant_handles_requests_even_for_a_purged_plan() -> None:
    participant = PurgeParticipant("messaging", ListPurger(), SetTombstones(), messaging.PurgeReceipt)
    [subscription] = participant.subscriptions()
    assert subscription.ce_type == PurgeRequested.ce_type and subscription.allow_purged
