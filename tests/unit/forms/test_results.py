"""Results over time: the table and the chart, for staff and for the patient."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.kernel.errors import NotFound
from shared.kernel.principals import Patient
from tests.unit.forms.conftest import STRANGER, THERAPIST, World


async def answered(world: World, form_id: str, *answers: dict[str, object]) -> tuple[str, Patient]:
    plan_id, patient = await world.start_plan(refs=(form_id,))
    for answer in answers:
        await world.service.responses.respond(plan_id, form_id, dict(answer), draft=False, by=patient)
        world.clock.advance(timedelta(days=7))
    await world.service.responses.respond(plan_id, form_id, {}, draft=True, by=patient)
    return plan_id, patient


async def test_the_table_has_a_row_per_submission_and_the_intervals_explained(world: World) -> None:
    plan_id, _patient = await answered(world, "distress_thermometer", {"distress": 3}, {"distress": 7})
    table = await world.service.results.table(plan_id, "distress_thermometer", THERAPIST)
    assert [row.results[0].value for row in table.rows] == [3, 7]
    assert [row.results[0].label for row in table.rows] == ["Låg", "Förhöjd"]
    assert [c.result_id for c in table.results] == ["distress"]
    assert table.results[0].intervals[1].explanation.startswith("Förhöjd oro")
    assert world.uow.audit_log.actions()[-1] == ("read", "form_results.distress_thermometer", plan_id)


async def test_the_patient_sees_only_results_shown_to_patients(world: World) -> None:
    plan_id, patient = await answered(world, "distress_thermometer", {"distress": 3})
    table = await world.service.results.table(plan_id, "distress_thermometer", patient)
    assert [c.result_id for c in table.results] == ["distress"] and len(table.rows) == 1
    staff_only, patient2 = await answered(world, "audit", {f"q{n}": "0" for n in range(1, 11)})
    with pytest.raises(NotFound, match="for staff"):
        await world.service.results.table(staff_only, "audit", patient2)
    assert len((await world.service.results.table(staff_only, "audit", THERAPIST)).rows) == 1


async def test_the_chart_draws_each_value_over_the_intervals(world: World) -> None:
    plan_id, patient = await answered(world, "distress_thermometer", {"distress": 3}, {"distress": 7})
    svg = await world.service.results.chart(plan_id, "distress_thermometer", "distress", patient)
    assert svg.count('class="point"') == 2 and svg.count('class="band"') == 2
    with pytest.raises(NotFound, match="no result 'total'"):
        await world.service.results.chart(plan_id, "distress_thermometer", "total", THERAPIST)


async def test_results_are_only_for_the_plans_unit_and_patient(world: World) -> None:
    plan_id, _ = await answered(world, "distress_thermometer", {"distress": 3})
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.results.table(plan_id, "distress_thermometer", STRANGER)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.results.chart(plan_id, "distress_thermometer", "distress", STRANGER)
    assert [a for a in world.uow.audit_log.actions() if a[0] == "read"] == []


async def test_a_result_staff_keep_to_themselves_is_left_out_for_the_patient(world: World) -> None:
    plan_id, patient = await answered(world, "phq_9", {f"q{n}": "1" for n in range(1, 10)})
    staff = await world.service.results.table(plan_id, "phq_9", THERAPIST)
    mine = await world.service.results.table(plan_id, "phq_9", patient)
    assert [c.result_id for c in staff.results] == ["total", "item9"]
    assert [[r.result_id for r in row.results] for row in staff.rows] == [["total", "item9"]]
    assert [c.result_id for c in mine.results] == ["total"]
    assert [[r.result_id for r in row.results] for row in mine.rows] == [["total"]]
    with pytest.raises(NotFound, match="no result 'item9'"):
        await world.service.results.chart(plan_id, "phq_9", "item9", patient)
