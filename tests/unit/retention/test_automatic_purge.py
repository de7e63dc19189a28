"""The purge at the limit: after the grace period the plan is purged without force once exported; not
exported yet, the purge waits for `plan_exported`; an export that never completes is overruled by the
limit after `export_wait` (forced, the reason audited)."""

from __future__ import annotations

from datetime import timedelta

from services.retention.domain.model import RETENTION_LIMIT
from services.retention.service_layer.stores import RetentionPolicy
from shared.contracts.export import EXPORTING_SERVICES
from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import ExportRequested, PlanExported, PurgeRequested
from tests.unit.retention.fakes import NOW, RetentionWorld
from tests.unit.retention.test_exports import export_part

GRACE = timedelta(days=30)


async def ended_at_the_limit(policy: RetentionPolicy | None = None) -> RetentionWorld:
    world = RetentionWorld(policy or RetentionPolicy(purge_grace=GRACE, export_wait=timedelta(days=7)))
    await world.start("p1")
    world.clock.set(NOW + RETENTION_LIMIT)
    await world.fire_due()
    await world.end("p1", reason="limit")
    return world


def export_of(world: RetentionWorld) -> str:
    return str(world.uow.events_of(ExportRequested)[-1].export_id)


async def test_an_exported_plan_is_purged_without_force_after_the_grace_period() -> None:
    world = await ended_at_the_limit()
    await world.deliver(*(export_part(s, export_of(world)) for s in EXPORTING_SERVICES))
    world.clock.advance(GRACE - timedelta(days=1))
    await world.fire_due()
    assert world.uow.events_of(PurgeRequested) == []
    world.clock.advance(timedelta(days=1))
    await world.fire_due()
    [requested] = world.uow.events_of(PurgeRequested)
    purge = world.purges.items["p1"]
    assert requested.purge_id == purge.purge_id and requested.services == list(PURGING_SERVICES)
    assert (purge.requested_by, purge.forced, purge.export_id) == ("system", False, export_of(world))


async def test_an_unexported_plan_at_the_limit_waits_for_its_export_then_is_purged_without_force() -> None:
    world = await ended_at_the_limit()
    export_id = export_of(world)
    await world.deliver(export_part("plans", export_id))  # the rest is late (a service is down)
    world.clock.advance(GRACE)
    await world.fire_due()
    assert world.uow.events_of(PurgeRequested) == [] and world.purges.items == {}
    asked = world.uow.events_of(ExportRequested)[-1]
    assert (asked.export_id, asked.services) == (export_id, [s for s in EXPORTING_SERVICES if s != "plans"])
    waiting = world.uow.audit_log.records[-1]
    assert (waiting.actor_kind, waiting.action, waiting.patient_ref) == ("system", "purge", None)
    assert "waits for the export" in waiting.reason
    await world.deliver(*(export_part(s, export_id) for s in EXPORTING_SERVICES))
    await world.pump()  # plan_exported reaches retention's own consumer
    [requested] = world.uow.events_of(PurgeRequested)
    purge = world.purges.items["p1"]
    assert (purge.forced, purge.export_id, requested.purge_id) == (False, export_id, purge.purge_id)
    assert world.timers.pending("retention.export_wait") == []


async def test_the_limit_overrules_an_export_that_never_completes_forced_with_the_reason() -> None:
    world = await ended_at_the_limit()
    world.clock.advance(GRACE)
    await world.fire_due()
    world.clock.advance(timedelta(days=7))
    await world.fire_due()
    [requested] = world.uow.events_of(PurgeRequested)
    purge = world.purges.items["p1"]
    assert (purge.forced, purge.export_id, purge.requested_by) == (True, None, "system") and requested.attempt == 1
    assert purge.reason == "limit reached: the export for the journal did not complete within 7 days"
    audit = next(r for r in reversed(world.uow.audit_log.records) if r.action == "purge" and "forced" in r.reason)
    assert audit.actor_kind == "system" and purge.reason in audit.reason
    await world.deliver(*(export_part(s, export_of(world)) for s in EXPORTING_SERVICES))
    await world.pump()
    assert len(world.uow.events_of(PurgeRequested)) == 1  # a late export starts no second purge


async def test_an_export_by_request_or_at_an_early_end_starts_no_purge() -> None:
    world = RetentionWorld()
    await world.start("p1")
    await world.end("p1")
    await world.deliver(*(export_part(s, export_of(world)) for s in EXPORTING_SERVICES))
    await world.pump()
    assert len(world.uow.events_of(PlanExported)) == 1 and world.uow.events_of(PurgeRequested) == []


async def test_the_automatic_purge_timer_fired_again_changes_nothing() -> None:
    world = await ended_at_the_limit()
    await world.deliver(*(export_part(s, export_of(world)) for s in EXPORTING_SERVICES))
    world.clock.advance(GRACE)
    await world.fire_due()
    fired_again = world.timers.timers["retention.auto_purge:p1"]
    await world.uow.run(lambda tx: world.services.automatic_purge.on_automatic_purge_timer(fired_again, tx))
    assert len(world.uow.events_of(PurgeRequested)) == 1
