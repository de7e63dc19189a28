"""Retention as a purge participant, and the consumers' subscriptions (by contract, never literals)."""

from __future__ import annotations

from datetime import timedelta

from services.retention.domain.purge import PurgeReceiptView
from services.retention.entrypoints.consumers import (
    RECEIPT_TOPICS,
    plan_event_subscriptions,
    receipt_subscriptions,
)
from shared.contracts import plans, retention
from shared.contracts.purge import PURGING_SERVICES, receipt_type
from shared.messaging.events import EVENT_TYPES
from tests.unit.retention.fakes import NOW, RetentionWorld


def request(services: list[str], attempt: int = 1, plan_id: str = "p1") -> retention.PurgeRequested:
    return retention.PurgeRequested(
        plan_id=plan_id, purge_id="g1", requested_at=NOW, attempt=attempt, services=services
    )


async def test_retention_deletes_its_data_of_the_plan_and_answers_with_its_receipt() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.start("p2")
    world.clock.advance(timedelta(hours=1))
    await world.deliver(request(list(PURGING_SERVICES)))
    [answer] = world.uow.events_of(retention.PurgeReceipt)
    assert answer == retention.PurgeReceipt(
        plan_id="p1",
        purge_id="g1",
        service="retention",
        deleted={"schedules": 1, "plan_ownership": 1, "timers": 3, "exports": 0, "export_parts": 0},
        purged_at=NOW + timedelta(hours=1),
    )
    assert answer.topic == retention.RETENTION_TOPIC and answer.ce_type == receipt_type("retention")
    assert world.schedules.items.keys() == {"p2"} and world.ownership.items.keys() == {"p2"}
    assert {t.payload["plan_id"] for t in world.timers.timers.values()} == {"p2"}


async def test_a_re_request_for_other_services_is_not_answered_and_a_repeat_is_answered_again() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.deliver(request(["plans", "forms"], attempt=2))
    assert world.uow.events_of(retention.PurgeReceipt) == [] and "p1" in world.schedules.items
    await world.deliver(request(["retention"]), request(["retention", "plans"], attempt=2))
    first, second = world.uow.events_of(retention.PurgeReceipt)
    assert first.deleted["schedules"] == 1
    assert second.deleted == {"schedules": 0, "plan_ownership": 0, "timers": 0, "exports": 0, "export_parts": 0}


def test_every_participants_receipt_is_consumed_from_its_own_contracts_topic() -> None:
    world = RetentionWorld()
    subscriptions = receipt_subscriptions(world.services)
    assert [s.ce_type for s in subscriptions] == [receipt_type(s) for s in PURGING_SERVICES]
    assert all(s.payload_model is PurgeReceiptView for s in subscriptions)
    for service in PURGING_SERVICES:
        contract = EVENT_TYPES[receipt_type(service)]
        assert contract.topic == RECEIPT_TOPICS[service], service


def test_the_ownership_copy_is_maintained_first_in_the_plan_events_consumer() -> None:
    world = RetentionWorld()
    types = [s.ce_type for s in plan_event_subscriptions(world.services)]
    assert types[:3] == [plans.PlanStarted.ce_type, plans.PlanEnded.ce_type, plans.ResponsibleChanged.ce_type]
    # then the schedule's (started, ended) and the export at the end, after every ownership subscription
    assert types[-3:] == [plans.PlanStarted.ce_type, plans.PlanEnded.ce_type, plans.PlanEnded.ce_type]
    assert types.count(plans.PlanStarted.ce_type) == 2
