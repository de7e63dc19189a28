"""The purge saga's use cases against fakes: request, receipts, re-requests, completion, tombstone."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from services.retention.domain.model import RETENTION_LIMIT
from services.retention.domain.views import PurgeCommand
from services.retention.service_layer.stores import RetentionPolicy
from shared.contracts import retention
from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import PlanPurged, PurgeRequested
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from tests.unit.retention.fakes import NOW, OTHER_UNIT, PNR, UNIT, RetentionWorld, receipt

FORCE = PurgeCommand(force=True, reason="patient moved abroad")
OTHERS = [s for s in PURGING_SERVICES if s != "retention"]


def admin(unit: str = UNIT, role: Role = Role.DATA_ADMIN) -> Staff:
    return Staff(hsa_id="SE2321000016-D1", unit_id=unit, roles=frozenset({role}))


async def ended_world(*plan_ids: str, policy: RetentionPolicy | None = None) -> RetentionWorld:
    world = RetentionWorld(policy)
    for plan_id in plan_ids or ("p1",):
        await world.start(plan_id)
        await world.end(plan_id)
    return world


async def receipts_from(world: RetentionWorld, services: list[str], plan_id: str = "p1") -> None:
    purge_id = world.uow.events_of(PurgeRequested)[0].purge_id
    await world.deliver(*(receipt(s, plan_id, purge_id, deleted=1) for s in services))


async def test_a_data_admin_purges_an_ended_plan_with_force() -> None:
    world = await ended_world()
    view = await world.services.purges.request_purge("p1", FORCE, admin())
    [requested] = world.uow.events_of(PurgeRequested)
    assert (requested.plan_id, requested.purge_id, requested.attempt) == ("p1", view.purge_id, 1)
    assert requested.services == list(PURGING_SERVICES)
    assert (view.state, view.forced, view.requested_by, view.missing) == (
        "requested",
        True,
        "SE2321000016-D1",
        list(PURGING_SERVICES),
    )
    assert [(t.key, t.due_at) for t in world.timers.pending("retention.purge_retry")] == [
        ("retention.purge_retry:p1:1", NOW + timedelta(minutes=1))
    ]
    audit = world.uow.audit_log.records[-1]
    assert (audit.action, audit.resource_id, audit.patient_ref, audit.actor_ref) == (
        "purge",
        "p1",
        PNR,
        "SE2321000016-D1",
    )
    assert "patient moved abroad" in audit.reason


async def test_asking_again_returns_the_same_purge_with_one_effect() -> None:
    world = await ended_world()
    first = await world.services.purges.request_purge("p1", FORCE, admin())
    again = await world.services.purges.request_purge("p1", PurgeCommand(), admin())
    assert again.purge_id == first.purge_id and len(world.uow.events_of(PurgeRequested)) == 1


async def test_refusals_name_the_reason_and_foreign_plans_look_missing() -> None:
    world = RetentionWorld()
    await world.start("active")
    await world.start("ended")
    await world.end("ended")
    with pytest.raises(Conflict, match="the plan is active"):
        await world.services.purges.request_purge("active", FORCE, admin())
    with pytest.raises(Conflict, match="not been exported"):
        await world.services.purges.request_purge("ended", PurgeCommand(), admin())
    with pytest.raises(Invalid, match="reason"):
        await world.services.purges.request_purge("ended", PurgeCommand(force=True), admin())
    for plan_id, by in [("ended", admin(OTHER_UNIT)), ("unknown", admin())]:
        with pytest.raises(NotFound, match=r"^no such plan$"):
            await world.services.purges.request_purge(plan_id, FORCE, by)
    assert world.uow.events_of(PurgeRequested) == [] and world.purges.items == {}


async def test_retention_answers_its_own_request_and_the_state_shows_the_five_others_missing() -> None:
    world = await ended_world()
    await world.services.purges.request_purge("p1", FORCE, admin())
    await world.pump()  # purge_requested → retention's participant → its receipt → the coordinator
    [own] = world.uow.events_of(retention.PurgeReceipt)
    # The schedule's three timers and the export's re-request; the export requested when the plan ended.
    assert own.deleted == {"schedules": 1, "plan_ownership": 1, "timers": 4, "exports": 1, "export_parts": 0}
    view = await world.services.purges.purge_of("p1", admin(role=Role.PATIENT_ADMIN))
    assert (view.received, view.missing, view.receipts) == (["retention"], OTHERS, {"retention": own.deleted})
    assert world.schedules.items == {} and "p1" not in world.ownership.items
    assert world.uow.audit_log.actions()[-1] == ("read", "plan.purge", "p1")
    with pytest.raises(NotFound):
        await world.services.purges.purge_of("p1", admin(OTHER_UNIT))


async def test_all_receipts_in_any_order_and_duplicated_complete_it_once() -> None:
    world = await ended_world()
    await world.services.purges.request_purge("p1", FORCE, admin())
    await world.pump()
    shuffled = OTHERS * 2
    random.Random(7).shuffle(shuffled)
    await receipts_from(world, shuffled)
    [purged] = world.uow.events_of(PlanPurged)
    assert (purged.plan_id, purged.forced) == ("p1", True)
    assert world.purges.items == {} and world.timers.timers == {}  # retry timers gone with the saga
    tombstone = world.tombstones.items["p1"]
    assert (tombstone.unit_id, sorted(tombstone.receipts)) == (UNIT, sorted(PURGING_SERVICES))
    view = await world.services.purges.purge_of("p1", admin())
    assert (view.state, view.missing, view.purge_id) == ("completed", [], purged.purge_id)
    again = await world.services.purges.request_purge("p1", FORCE, admin())
    assert again.state == "completed" and len(world.uow.events_of(PurgeRequested)) == 1
    completion = [r for r in world.uow.audit_log.records if r.reason.startswith(f"purge {purged.purge_id} completed")]
    assert [(r.actor_kind, r.patient_ref, r.unit_id) for r in completion] == [("system", None, UNIT)]


async def test_a_missing_receipt_is_re_requested_with_backoff_until_it_comes() -> None:
    world = await ended_world()
    await world.services.purges.request_purge("p1", FORCE, admin())
    await world.pump()
    await receipts_from(world, ["plans", "forms", "messaging", "handover"])
    world.clock.advance(timedelta(minutes=1))
    assert await world.fire_due() == 1
    second = world.uow.events_of(PurgeRequested)[-1]
    assert (second.attempt, second.services) == (2, ["notifications"])
    [retry] = world.timers.pending("retention.purge_retry")
    assert retry.due_at == NOW + timedelta(minutes=3)  # 1 minute, then 2 more
    world.clock.advance(timedelta(minutes=1))
    assert await world.fire_due() == 0  # not yet
    world.clock.advance(timedelta(minutes=1))
    await world.fire_due()
    assert world.uow.events_of(PurgeRequested)[-1].attempt == 3
    assert world.timers.pending("retention.purge_retry")[0].due_at == NOW + timedelta(minutes=7)
    await receipts_from(world, ["notifications"])
    assert len(world.uow.events_of(PlanPurged)) == 1 and world.timers.pending() == []


async def test_a_late_plan_event_after_the_purge_does_not_bring_the_plan_back() -> None:
    world = await ended_world()
    await world.services.purges.request_purge("p1", FORCE, admin())
    await world.pump()
    await world.start("p1")  # during the saga: retention's data is already gone
    assert "p1" not in world.schedules.items and "p1" not in world.ownership.items
    await receipts_from(world, OTHERS)
    await world.start("p1")
    await world.end("p1")
    assert world.schedules.items == {} and world.ownership.items == {} and world.timers.timers == {}


async def test_purging_one_of_two_plans_of_a_patient_leaves_the_other_intact() -> None:
    world = await ended_world("p1", "p2")
    before = {k: t.model_copy() for k, t in world.timers.timers.items() if t.payload["plan_id"] == "p2"}
    await world.services.purges.request_purge("p1", FORCE, admin())
    await world.pump()
    await receipts_from(world, OTHERS)
    assert world.tombstones.items.keys() == {"p1"}
    assert world.schedules.items.keys() == {"p2"} and world.ownership.items.keys() == {"p2"}
    assert world.ownership.items["p2"].patient_personnummer == PNR
    assert {k: t for k, t in world.timers.timers.items() if t.payload["plan_id"] == "p2"} == before


async def test_the_units_ended_plans_are_listed_by_page_with_ids_and_dates_only() -> None:
    world = RetentionWorld()
    for n in range(5):
        await world.start(f"p{n}")
        world.clock.advance(timedelta(days=1))
        await world.end(f"p{n}")
    await world.start("active")
    await world.start("foreign", unit=OTHER_UNIT)
    await world.end("foreign", unit=OTHER_UNIT)
    before = (NOW + timedelta(days=5)).date() + timedelta(days=1)  # the last one ended on the 7th
    first = await world.services.purges.ended_plans(admin(), before, page=1, page_size=3)
    second = await world.services.purges.ended_plans(admin(), before, page=2, page_size=3)
    assert [r.plan_id for r in first.items] == ["p0", "p1", "p2"] and first.next_page == 2
    assert [r.plan_id for r in second.items] == ["p3", "p4"] and second.next_page is None
    early = await world.services.purges.ended_plans(admin(), date(2026, 3, 5), page=1, page_size=10)
    assert [r.plan_id for r in early.items] == ["p0", "p1"]  # ended on the 3rd and 4th
    assert set(first.items[0].model_dump()) == {"plan_id", "ended_at", "started_at"}
    assert world.uow.audit_log.actions()[-1] == ("read", "unit.ended_plans", UNIT)


async def test_purge_state_of_a_plan_without_a_purge_is_not_found_and_foreign_looks_missing() -> None:
    world = await ended_world()
    with pytest.raises(NotFound, match="no purge has been requested"):
        await world.services.purges.purge_of("p1", admin())
    with pytest.raises(NotFound, match=r"^no such plan$"):
        await world.services.purges.purge_of("p1", admin(OTHER_UNIT))


async def test_at_the_limit_an_exported_plan_is_purged_without_force() -> None:
    world = RetentionWorld(RetentionPolicy(purge_grace=timedelta(0)))
    await world.start("p1")
    world.clock.set(NOW + RETENTION_LIMIT)
    await world.fire_due()
    await world.end("p1", reason="limit")
    world.schedules.items["p1"].export_id = "export-1"  # what the export step will record
    await world.fire_due()
    purge = world.purges.items["p1"]
    assert (purge.forced, purge.reason, purge.export_id, purge.requested_by) == (False, "", "export-1", "system")
