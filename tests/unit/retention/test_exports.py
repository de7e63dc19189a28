"""The export saga's use cases against fakes: a plan that ends is exported, the services' parts come in
(in any order, duplicated), missing ones are asked for again, the complete export is rendered and
kept, read by the admins only, and deleted with the plan's purge."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from services.retention.domain.views import PurgeCommand
from shared.contracts.export import EXPORTING_SERVICES, export_part_type
from shared.contracts.retention import ExportRequested, PlanExported, PurgeReceipt, PurgeRequested
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.messaging.consumer import PermanentFailure
from shared.messaging.events import EVENT_TYPES, Event
from tests.unit.retention.export_samples import MESSAGE, all_parts
from tests.unit.retention.fakes import NOW, OTHER_UNIT, PNR, UNIT, RetentionWorld

RETRY = "retention.export_retry"


def admin(unit: str = UNIT, role: Role = Role.DATA_ADMIN) -> Staff:
    return Staff(hsa_id="SE2321000016-D1", unit_id=unit, roles=frozenset({role}))


def export_part(service: str, export_id: str, plan_id: str = "p1", content: dict[str, Any] | None = None) -> Event:
    """The service's own contract event (its class, its topic), as it answers an export request."""
    cls = EVENT_TYPES[export_part_type(service)]
    body = all_parts()[service] if content is None else content
    return cls.model_validate(
        {"plan_id": plan_id, "export_id": export_id, "service": service, "produced_at": NOW, "content": body}
    )


async def ended(world: RetentionWorld | None = None, plan_id: str = "p1") -> tuple[RetentionWorld, str]:
    """A world where the plan has ended (and so its export was requested); the export's id."""
    world = world or RetentionWorld()
    await world.start(plan_id)
    await world.end(plan_id)
    requested = [e for e in world.uow.events_of(ExportRequested) if e.plan_id == plan_id]
    return world, requested[-1].export_id


async def test_a_plan_that_ends_is_exported_once_by_asking_every_service() -> None:
    world, export_id = await ended()
    [requested] = world.uow.events_of(ExportRequested)
    assert (requested.plan_id, requested.attempt, requested.services) == ("p1", 1, list(EXPORTING_SERVICES))
    assert [(t.key, t.due_at) for t in world.timers.pending(RETRY)] == [
        (f"{RETRY}:{export_id}:1", NOW + timedelta(minutes=1))
    ]
    await world.end("p1")  # a replayed end
    assert len(world.uow.events_of(ExportRequested)) == 1
    assert world.uow.audit_log.records[-1].reason == f"export {export_id} requested"


async def test_every_part_in_any_order_and_duplicated_completes_the_export_once() -> None:
    world, export_id = await ended()
    shuffled = list(EXPORTING_SERVICES) * 2
    random.Random(3).shuffle(shuffled)
    await world.deliver(*(export_part(s, export_id) for s in shuffled))
    [exported] = world.uow.events_of(PlanExported)
    assert (exported.plan_id, exported.export_id) == ("p1", export_id)
    assert world.exports.items[export_id].state == "completed"
    assert world.schedules.items["p1"].export_id == export_id  # a purge no longer needs force
    assert world.export_parts.items == {}  # assembled: the parts are gone
    assert world.timers.pending(RETRY) == []
    bundle = await world.services.export_reads.bundle_of("p1", export_id, admin())
    texts = [e["resource"]["payload"][0]["contentString"] for e in bundle["entry"] if "payload" in e["resource"]]
    assert MESSAGE in texts
    assert world.exports.pdfs[export_id].startswith(b"%PDF")


async def test_a_missing_part_is_asked_for_again_with_backoff_until_it_comes() -> None:
    world, export_id = await ended()
    await world.deliver(*(export_part(s, export_id) for s in ("plans", "messaging", "forms", "handover")))
    assert world.export_parts.items.keys() == {(export_id, s) for s in ("plans", "messaging", "forms", "handover")}
    world.clock.advance(timedelta(minutes=1))
    assert await world.fire_due() == 1
    again = world.uow.events_of(ExportRequested)[-1]
    assert (again.export_id, again.attempt, again.services) == (export_id, 2, ["notifications"])
    assert [t.due_at for t in world.timers.pending(RETRY)] == [NOW + timedelta(minutes=3)]
    await world.deliver(export_part("notifications", export_id))
    assert len(world.uow.events_of(PlanExported)) == 1 and world.timers.pending(RETRY) == []


async def test_a_part_that_breaks_its_model_is_refused_and_keeps_nothing() -> None:
    world, export_id = await ended()
    with pytest.raises(PermanentFailure, match="the part of plans is not valid: started_at"):
        await world.deliver(export_part("plans", export_id, content=all_parts()["plans"] | {"started_at": "soon"}))
    assert world.export_parts.items == {} and world.exports.items[export_id].parts == {}


async def test_parts_of_unknown_exports_change_nothing() -> None:
    world, _ = await ended()
    await world.deliver(export_part("plans", "no-such-export"))
    assert world.export_parts.items == {} and world.uow.events_of(PlanExported) == []


async def test_an_admin_exports_an_ended_plan_again_but_not_an_active_or_foreign_one() -> None:
    world, first = await ended()
    await world.start("active")
    world.clock.advance(timedelta(days=1))
    again = await world.services.exports.request_export("p1", admin(role=Role.PATIENT_ADMIN))
    assert again.export_id != first and again.missing == list(EXPORTING_SERVICES)
    assert world.uow.events_of(ExportRequested)[-1].export_id == again.export_id
    with pytest.raises(Conflict, match="the plan is active") as active:
        await world.services.exports.request_export("active", admin())
    assert active.value.field == "plan_id"
    for plan_id, by in (("p1", admin(OTHER_UNIT)), ("nowhere", admin())):
        with pytest.raises(NotFound, match=r"^no such plan$"):
            await world.services.exports.request_export(plan_id, by)
    listed = await world.services.export_reads.exports_of("p1", admin())
    assert [e.export_id for e in listed.items] == [again.export_id, first]  # newest first


async def test_reads_need_a_complete_export_of_that_plan_and_are_audited_without_content() -> None:
    world, export_id = await ended()
    await world.start("p2")
    with pytest.raises(Conflict, match="not complete yet") as early:
        await world.services.export_reads.pdf_of("p1", export_id, admin())
    assert early.value.field == "export_id"
    await world.deliver(*(export_part(s, export_id) for s in EXPORTING_SERVICES))
    pdf = await world.services.export_reads.pdf_of("p1", export_id, admin(role=Role.PATIENT_ADMIN))
    assert pdf.startswith(b"%PDF")
    read = world.uow.audit_log.records[-1]
    assert (read.action, read.resource, read.resource_id, read.patient_ref) == ("read", "plan.export", "p1", PNR)
    assert read.reason == f"export {export_id} as PDF"
    with pytest.raises(NotFound, match=r"^no such export$"):
        await world.services.export_reads.bundle_of("p2", export_id, admin())  # another plan's export
    with pytest.raises(NotFound, match=r"^no such plan$"):
        await world.services.export_reads.bundle_of("p1", export_id, admin(OTHER_UNIT))
    listed = await world.services.export_reads.exports_of("p1", admin())
    assert [(e.state, e.received, e.missing) for e in listed.items] == [("completed", list(EXPORTING_SERVICES), [])]
    assert world.uow.audit_log.actions()[-1] == ("read", "plan.exports", "p1")


async def test_an_exported_plan_is_purged_without_force_and_its_exports_go_with_it() -> None:
    world, export_id = await ended()
    await world.deliver(*(export_part(s, export_id) for s in ("plans", "messaging")))
    with pytest.raises(Conflict, match="not been exported"):
        await world.services.purges.request_purge("p1", PurgeCommand(), admin())
    await world.deliver(*(export_part(s, export_id) for s in ("forms", "notifications", "handover")))
    view = await world.services.purges.request_purge("p1", PurgeCommand(), admin())
    assert (view.forced, world.purges.items["p1"].export_id) == (False, export_id)
    await world.pump()  # retention's own participant answers
    [receipt] = world.uow.events_of(PurgeReceipt)
    assert (receipt.deleted["exports"], receipt.deleted["export_parts"]) == (1, 0)
    assert world.exports.items == {} and world.exports.pdfs == {} and world.exports.bundles == {}
    await world.deliver(export_part("plans", export_id))  # a late part: nothing comes back
    assert world.export_parts.items == {} and len(world.uow.events_of(PurgeRequested)) == 1


async def test_a_purge_during_an_export_deletes_the_parts_received_so_far() -> None:
    world, export_id = await ended()
    await world.deliver(export_part("plans", export_id))
    await world.services.purges.request_purge("p1", PurgeCommand(force=True, reason="flyttat"), admin())
    with pytest.raises(Conflict, match="being purged"):
        await world.services.exports.request_export("p1", admin())
    await world.pump()
    [receipt] = world.uow.events_of(PurgeReceipt)
    assert (receipt.deleted["exports"], receipt.deleted["export_parts"]) == (1, 1)
    assert world.export_parts.items == {}
    assert [t.kind for t in world.timers.timers.values()] == ["retention.purge_retry"]  # the export's retry went too
    with pytest.raises(NotFound, match=r"^no such plan$"):  # retention's own data of the plan is gone
        await world.services.exports.request_export("p1", admin())
