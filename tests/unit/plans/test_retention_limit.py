"""Day 730: the retention service says the limit is reached and the plans service ends the plan, as
the system, once."""

from __future__ import annotations

from datetime import timedelta

from services.plans.domain import commands
from services.plans.domain.content import Actor
from services.plans.service_layer.lifecycle import LIMIT_REASON
from shared.contracts import plans as events
from shared.contracts.retention import RetentionLimitReached
from shared.ownership.model import OwnershipState
from tests.unit.plans.conftest import NOW, THERAPIST, UNIT, World

LATER = NOW + timedelta(days=730)


def limit_reached(plan_id: str) -> RetentionLimitReached:
    return RetentionLimitReached(plan_id=plan_id, unit_id=UNIT, limit_at=LATER)


async def deliver(world: World, event: RetentionLimitReached) -> None:
    await world.uow.run(lambda tx: world.service.lifecycle.end_at_retention_limit(event, None, tx))


async def test_the_system_ends_the_plan_at_the_limit(world: World) -> None:
    plan = await world.start()
    world.clock.set(LATER)
    await deliver(world, limit_reached(plan.id))

    stored = world.plans.items[plan.id]
    assert (stored.active, stored.ended_at, stored.end_reason) == (False, LATER, "limit")
    assert stored.ended_by == Actor.system() and stored.ended_by.hsa_id is None
    [ended] = world.uow.events_of(events.PlanEnded)
    assert (ended.plan_id, ended.unit_id, ended.reason, ended.ended_at) == (plan.id, UNIT, LIMIT_REASON, LATER)
    ownership = await world.ownership.get(plan.id)
    assert ownership is not None and ownership.state is OwnershipState.ENDED
    [record] = [r for r in world.uow.audit_log.records if r.action == "update"]
    assert (record.actor_kind, record.resource_id, record.reason) == ("system", plan.id, "retention limit reached")
    assert (await world.service.reads.staff_view(plan.id, THERAPIST)).status == "ended"


async def test_a_second_delivery_changes_nothing(world: World) -> None:
    plan = await world.start()
    await deliver(world, limit_reached(plan.id))
    revision = world.plans.items[plan.id].revision
    await deliver(world, limit_reached(plan.id))
    assert len(world.uow.events_of(events.PlanEnded)) == 1
    assert world.plans.items[plan.id].revision == revision


async def test_a_plan_staff_ended_earlier_keeps_its_reason(world: World) -> None:
    plan = await world.start()
    await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(reason="completed"), THERAPIST)
    await deliver(world, limit_reached(plan.id))
    assert [e.reason for e in world.uow.events_of(events.PlanEnded)] == ["completed"]
    assert world.plans.items[plan.id].ended_by == Actor.staff(THERAPIST.hsa_id, THERAPIST.name)


async def test_an_unknown_plan_is_ignored(world: World) -> None:
    await deliver(world, limit_reached("no-such-plan"))
    assert world.uow.published == [] and world.ownership.items == {}
