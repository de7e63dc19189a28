"""Reading plans: staff view, patient view, the patient's plans, unit lists and FHIR; every read audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.plans.domain import commands
from services.plans.domain.flags import Flag, FlagKind
from services.plans.domain.lists import ListFilter, UnitList
from shared.kernel.errors import NotFound
from tests.unit.plans.conftest import (
    COLLEAGUE,
    ELSEWHERE,
    NOW,
    OTHER_PATIENT,
    OTHER_PNR,
    PATIENT,
    PNR,
    THERAPIST,
    World,
)


async def test_staff_of_the_unit_read_a_plan_and_the_read_is_audited(world: World) -> None:
    plan = await world.start()
    view = await world.service.reads.staff_view(plan.id, COLLEAGUE)
    assert (view.id, view.patient_personnummer, view.progress.days_left) == (plan.id, PNR, 730)
    [read] = [r for r in world.uow.audit_log.records if r.action == "read"]
    assert (read.resource, read.actor_ref, read.patient_ref) == ("plan", COLLEAGUE.hsa_id, PNR)


async def test_another_units_staff_get_the_answer_of_a_missing_plan(world: World) -> None:
    plan = await world.start()
    with pytest.raises(NotFound) as foreign:
        await world.service.reads.staff_view(plan.id, ELSEWHERE)
    with pytest.raises(NotFound) as missing:
        await world.service.reads.staff_view("no-such-plan", THERAPIST)
    assert str(foreign.value) == str(missing.value)
    assert [r for r in world.uow.audit_log.records if r.action == "read"] == []


async def test_the_patient_reads_their_view_and_that_counts_as_activity(world: World) -> None:
    plan = await world.start()
    world.clock.advance(timedelta(hours=1))
    view = await world.service.reads.patient_view(plan.id, PATIENT)
    assert [m.id for m in view.modules] == ["intro"]
    assert [s.id for m in view.modules for sec in m.sections for s in sec.steps] == ["welcome"]
    assert world.plans.items[plan.id].last_active_at == NOW + timedelta(hours=1)
    assert ("read", "plan.patient_view", plan.id) in world.uow.audit_log.actions()


async def test_staff_preview_the_patients_view_without_counting_as_activity(world: World) -> None:
    plan = await world.start()
    preview = await world.service.reads.patient_view(plan.id, THERAPIST)
    assert preview == await world.service.reads.patient_view(plan.id, PATIENT)
    world.clock.advance(timedelta(hours=1))
    await world.service.reads.patient_view(plan.id, THERAPIST)
    assert world.plans.items[plan.id].last_active_at == NOW


async def test_another_patient_gets_the_answer_of_a_missing_plan(world: World) -> None:
    plan = await world.start()
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.reads.patient_view(plan.id, OTHER_PATIENT)


async def test_the_patient_lists_their_active_plans_at_every_unit_newest_first(world: World) -> None:
    here = await world.start()
    world.clock.advance(timedelta(days=1))
    there = await world.start(by=ELSEWHERE)
    someone_else = await world.start(by=COLLEAGUE, personnummer=OTHER_PNR)
    await world.service.lifecycle.end_plan(here.id, commands.EndPlan(), THERAPIST)
    world.clock.advance(timedelta(days=1))
    again = await world.start()

    mine = await world.service.reads.patient_plans(PATIENT)
    assert [v.id for v in mine] == [again.id, there.id]  # not the ended one, nor someone else's
    reads = [r.resource_id for r in world.uow.audit_log.records if r.resource == "plan.patient_view"]
    assert reads == [again.id, there.id]
    assert world.plans.items[there.id].last_active_at == NOW + timedelta(days=2)
    assert world.plans.items[someone_else.id].last_active_at is None


async def test_unit_lists_mine_all_and_ended_with_masking_and_audit(world: World) -> None:
    mine = await world.start()
    world.clock.advance(timedelta(minutes=1))
    hidden = await world.start(by=COLLEAGUE, personnummer=OTHER_PNR, protected_identity=True)
    world.clock.advance(timedelta(minutes=1))
    gone = await world.start(by=COLLEAGUE, personnummer="195001012391")
    await world.service.lifecycle.end_plan(gone.id, commands.EndPlan(), COLLEAGUE)
    await world.start(by=ELSEWHERE)
    reads = world.service.reads
    everything = ListFilter()

    all_page = await reads.unit_list(UnitList.ALL, everything, 1, 25, THERAPIST)
    assert [r.plan_id for r in all_page.items] == [hidden.id, mine.id] and all_page.total == 2
    masked = all_page.items[0]
    assert (masked.patient_name, masked.personnummer) == ("Skyddade personuppgifter", "1912XXXX-XXXX")
    assert [r.plan_id for r in (await reads.unit_list(UnitList.MINE, everything, 1, 25, THERAPIST)).items] == [mine.id]
    assert [r.plan_id for r in (await reads.unit_list(UnitList.ENDED, everything, 1, 25, THERAPIST)).items] == [gone.id]
    second = await reads.unit_list(UnitList.ALL, everything, 2, 1, THERAPIST)
    assert ([r.plan_id for r in second.items], second.total, second.page) == ([mine.id], 2, 2)
    rows_read = [r.resource_id for r in world.uow.audit_log.records if r.resource == "plan.list_row"]
    assert rows_read == [hidden.id, mine.id, mine.id, gone.id, mine.id]


async def test_unit_lists_filter_by_flag(world: World) -> None:
    flagged = await world.start()
    calm = await world.start(by=COLLEAGUE, personnummer=OTHER_PNR)
    await world.plans.raise_flag(flagged.id, Flag(key="k", kind=FlagKind.RESULT, raised_at=NOW), None)
    reads, all_ = world.service.reads, UnitList.ALL
    by_kind = await reads.unit_list(all_, ListFilter(flag=FlagKind.RESULT), 1, 25, THERAPIST)
    assert [r.plan_id for r in by_kind.items] == [flagged.id]
    assert [f.kind for f in by_kind.items[0].flags] == [FlagKind.RESULT]
    unflagged = await reads.unit_list(all_, ListFilter(flagged=False), 1, 25, THERAPIST)
    assert [r.plan_id for r in unflagged.items] == [calm.id]


async def test_the_fhir_care_plan_has_the_modules_as_activities(world: World) -> None:
    plan = await world.start()
    await world.service.editing.add_contact(plan.id, commands.AddContact(name="Karin", responsible=True), THERAPIST)
    resource = await world.service.reads.fhir_care_plan(plan.id, COLLEAGUE)
    assert (resource["resourceType"], resource["status"], resource["intent"]) == ("CarePlan", "active", "plan")
    assert resource["subject"]["identifier"]["value"] == PNR
    assert [a["detail"]["status"] for a in resource["activity"]] == ["in-progress", "not-started"]
    assert resource["activity"][0]["progress"] == [{"text": "Synliga steg: Hej"}]
    team = resource["contained"][0]["participant"]
    assert [p["member"].get("display") for p in team] == ["Karin", None]
    assert team[0]["onBehalfOf"]["identifier"]["value"] == THERAPIST.unit_id
    assert "end" not in resource["period"]
    assert ("read", "plan.fhir", plan.id) in world.uow.audit_log.actions()
    await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(), THERAPIST)
    ended = await world.service.reads.fhir_care_plan(plan.id, COLLEAGUE)
    assert ended["status"] == "completed" and ended["period"]["end"] == NOW.isoformat()
    with pytest.raises(NotFound):
        await world.service.reads.fhir_care_plan(plan.id, ELSEWHERE)
