"""Retention's schedule use cases against fakes: the 730-day limit, reminders, and what reads see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.retention.domain.model import RETENTION_LIMIT
from services.retention.service_layer.stores import EXPORT_RETRY_TIMER, RetentionPolicy
from shared.contracts.plans import ResponsibleChanged
from shared.contracts.retention import PurgeReminderDue, RetentionLimitReached
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.ownership import PlanOwnership
from shared.storage.timers import Timer
from tests.unit.retention.fakes import NOW, OTHER_UNIT, PNR, UNIT, RetentionWorld


def staff(unit: str = UNIT, *roles: Role) -> Staff:
    return Staff(hsa_id="SE2321000016-T1", unit_id=unit, roles=frozenset(roles or {Role.THERAPIST}))


async def test_a_started_plan_gets_its_limit_and_reminder_timers() -> None:
    world = RetentionWorld(RetentionPolicy(reminder_days=(60, 14)))
    await world.start("p1")
    limit = NOW + RETENTION_LIMIT
    assert [(t.key, t.due_at) for t in world.timers.pending()] == [
        ("retention.reminder:60:p1", limit - timedelta(days=60)),
        ("retention.reminder:14:p1", limit - timedelta(days=14)),
        ("retention.limit:p1", limit),
    ]
    view = await world.services.schedules.retention_of("p1", staff())
    assert (view.status, view.limit_at, view.unit_id) == ("active", limit, UNIT)


async def test_a_replayed_start_changes_nothing() -> None:
    world = RetentionWorld()
    await world.start("p1")
    world.clock.advance(timedelta(days=3))
    await world.start("p1")  # a replay with a later time must not move the limit
    view = await world.services.schedules.retention_of("p1", staff())
    assert view.started_at == NOW and len(world.timers.pending()) == 3


async def test_reading_the_schedule_is_audited_and_follows_ownership() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.services.schedules.retention_of("p1", staff())
    record = world.uow.audit_log.records[-1]
    assert (record.action, record.resource, record.resource_id, record.patient_ref, record.unit_id) == (
        "read",
        "plan.retention",
        "p1",
        PNR,
        UNIT,
    )
    with pytest.raises(NotFound, match="no such plan"):
        await world.services.schedules.retention_of("p1", staff(OTHER_UNIT))
    with pytest.raises(NotFound, match="no such plan"):
        await world.services.schedules.retention_of("unknown", staff())
    moved = world.ownership.items["p1"].model_copy(update={"unit_id": OTHER_UNIT, "version": 2})
    world.ownership.items["p1"] = moved  # handed over: the new unit reads it, the old one no longer does
    assert (await world.services.schedules.retention_of("p1", staff(OTHER_UNIT))).unit_id == OTHER_UNIT
    with pytest.raises(NotFound):
        await world.services.schedules.retention_of("p1", staff())


def schedule_timers(world: RetentionWorld) -> list[Timer]:
    """The plan's pending timers but its export's re-requests (an ended plan is exported: see test_exports)."""
    return [t for t in world.timers.pending() if t.kind != EXPORT_RETRY_TIMER]


async def test_an_ended_plan_is_still_readable_and_is_not_reminded() -> None:
    world = RetentionWorld()
    await world.start("p1")
    world.clock.advance(timedelta(days=100))
    await world.end("p1")
    view = await world.services.schedules.retention_of("p1", staff())
    assert (view.status, view.ended_at) == ("ended", world.clock.now())
    assert [t.key for t in schedule_timers(world)] == ["retention.limit:p1"]  # reminders cancelled
    world.clock.set(NOW + RETENTION_LIMIT - timedelta(days=60))
    reminder = world.timers.timers["retention.reminder:60:p1"]  # as if it fired before its cancel
    await world.uow.run(lambda tx: world.services.schedules.on_reminder_timer(reminder, tx))
    assert world.uow.events_of(PurgeReminderDue) == []


async def test_a_reminder_is_published_for_an_active_plan_with_its_current_unit() -> None:
    world = RetentionWorld()
    await world.start("p1")
    world.ownership.items["p1"] = world.ownership.items["p1"].model_copy(update={"unit_id": OTHER_UNIT})
    world.clock.set(NOW + RETENTION_LIMIT - timedelta(days=60))
    assert await world.fire_due() == 1
    assert world.uow.events_of(PurgeReminderDue) == [
        PurgeReminderDue(plan_id="p1", unit_id=OTHER_UNIT, days_left=60, limit_at=NOW + RETENTION_LIMIT)
    ]


async def test_at_the_limit_an_active_plan_reaches_it_once() -> None:
    world = RetentionWorld()
    await world.start("p1")
    world.clock.set(NOW + RETENTION_LIMIT)
    assert await world.fire_due() == 3  # both reminders (late) and the limit
    assert world.uow.events_of(RetentionLimitReached) == [
        RetentionLimitReached(plan_id="p1", unit_id=UNIT, limit_at=NOW + RETENTION_LIMIT)
    ]
    view = await world.services.schedules.retention_of("p1", staff())
    assert view.status == "limit_reached"
    assert world.timers.pending() == []


async def test_a_plan_ended_at_its_limit_is_purged_after_the_grace_period() -> None:
    world = RetentionWorld(RetentionPolicy(purge_grace=timedelta(days=30)))
    await world.start("p1")
    world.clock.set(NOW + RETENTION_LIMIT)
    await world.fire_due()
    await world.end("p1", reason="limit")
    assert [(t.key, t.due_at) for t in schedule_timers(world)] == [
        ("retention.auto_purge:p1", NOW + RETENTION_LIMIT + timedelta(days=30))
    ]


async def test_a_plan_ended_early_gets_no_automatic_purge_until_its_limit_then_at_once() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.end("p1", reason="completed")
    assert [t.key for t in schedule_timers(world)] == ["retention.limit:p1"]
    world.clock.set(NOW + RETENTION_LIMIT)
    await world.fire_due()
    assert world.uow.events_of(RetentionLimitReached) == []  # nothing for the plans service to end
    assert [(t.key, t.due_at) for t in schedule_timers(world)] == [("retention.auto_purge:p1", NOW + RETENTION_LIMIT)]


async def test_the_ownership_copy_follows_the_plans_events() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.deliver(
        ResponsibleChanged(plan_id="p1", unit_id=UNIT, previous_hsa_id="SE2321000016-T1", responsible_hsa_id="X-2")
    )
    await world.end("p1")
    ownership = world.ownership.items["p1"]
    assert isinstance(ownership, PlanOwnership)
    assert (ownership.state, ownership.responsible_hsa_id, ownership.patient_personnummer) == ("ended", "X-2", PNR)
