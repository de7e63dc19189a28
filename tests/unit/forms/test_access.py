"""Who may read and change a plan's forms data: the platform's one rule (`shared.ownership`), applied
to the plan's current ownership, never to a unit remembered in forms' own documents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from services.forms.domain.battery import BatterySpec
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.ownership import OwnershipState
from tests.conftest import new_personnummer
from tests.unit.forms.conftest import OTHER_UNIT, STRANGER, THERAPIST, World

NEW_HOLDER = Staff(hsa_id="SE2321000016-T010", unit_id=OTHER_UNIT, roles=frozenset({Role.THERAPIST}))
Read = Callable[[World, str, Principal], Awaitable[Any]]
READS: dict[str, Read] = {
    "open forms": lambda w, p, by: w.service.responses.open_forms(p, by),
    "results": lambda w, p, by: w.service.results.table(p, "distress_thermometer", by),
    "chart": lambda w, p, by: w.service.results.chart(p, "distress_thermometer", "distress", by),
    "activity plans": lambda w, p, by: w.service.activities.of_plan(p, by),
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
async def test_another_units_staff_and_another_patient_find_no_such_plan(world: World, read: Read) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await read(world, plan_id, THERAPIST)
    await read(world, plan_id, patient)
    for outsider in (STRANGER, Patient(personnummer=new_personnummer())):
        with pytest.raises(NotFound, match="no such plan"):
            await read(world, plan_id, outsider)
    with pytest.raises(NotFound, match="no such plan"):
        await read(world, "never-started", THERAPIST)


async def test_access_follows_the_plans_current_holder(world: World) -> None:
    """After a handover the new unit's staff may act and the old unit's may not, although forms'
    documents (batteries, flags) still name the unit that held the plan when they were made."""
    plan_id, _ = await world.start_plan(refs=("distress_thermometer",))
    battery = await world.service.batteries.start(
        plan_id, BatterySpec(name="x", form_ids=["isi"], trigger="now"), THERAPIST
    )
    ownership = await world.ownership.get(plan_id)
    assert ownership is not None
    await world.ownership.save(ownership.model_copy(update={"unit_id": OTHER_UNIT, "version": 2}))
    with pytest.raises(NotFound):
        await world.service.batteries.of_plan(plan_id, THERAPIST)
    assert [b.id for b in await world.service.batteries.of_plan(plan_id, NEW_HOLDER)] == [battery.id]
    stopped = await world.service.batteries.stop(plan_id, battery.id, NEW_HOLDER)
    assert stopped.stopped_at is not None


async def test_a_plan_being_handed_over_is_readable_but_read_only(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    ownership = await world.ownership.get(plan_id)
    assert ownership is not None
    await world.ownership.save(ownership.model_copy(update={"state": OwnershipState.TRANSFERRING}))
    assert await world.service.responses.open_forms(plan_id, patient) == {"start": ["distress_thermometer"]}
    with pytest.raises(Conflict, match="handed over"):
        await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 1}, draft=False, by=patient)
    with pytest.raises(Conflict, match="handed over"):
        await world.service.batteries.start(plan_id, BatterySpec(name="x", form_ids=["isi"], trigger="now"), THERAPIST)
