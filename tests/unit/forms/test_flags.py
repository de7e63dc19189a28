"""Flags for the unit's lists and the unit's own rules: results in given intervals, inactivity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.forms.domain.battery import FlagRuleSpec
from services.forms.service_layer.flags import INACTIVITY_TIMER
from shared.contracts import forms as events
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from tests.unit.forms.conftest import OTHER_UNIT, STRANGER, THERAPIST, UNIT, World

ISI_SUBCLINICAL = {f"q{n}": "2" for n in range(1, 8)}  # 14: Subklinisk insomni, not flagged by the form
COLLEAGUE = Staff(hsa_id="SE2321000016-T003", unit_id=UNIT, roles=frozenset({Role.PATIENT_ADMIN}))


async def unflagged(world: World, plan_id: str) -> list[str]:
    return sorted(f.kind for f in await world.service.flags.of_plan(plan_id, THERAPIST) if f.handled_at is None)


async def test_a_unit_rule_flags_a_result_the_form_itself_does_not(world: World) -> None:
    rule = await world.service.flags.add_rule(
        FlagRuleSpec(kind="result", form_id="isi", result_id="total", labels=["Subklinisk insomni"]), THERAPIST
    )
    assert (rule.unit_id, rule.created_by) == (UNIT, THERAPIST.hsa_id)
    plan_id, patient = await world.start_plan(refs=("isi",))
    response = await world.service.responses.respond(plan_id, "isi", ISI_SUBCLINICAL, draft=False, by=patient)
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    assert (flag.kind, flag.label, flag.response_id) == ("result", "Subklinisk insomni", response.id)
    assert world.uow.audit_log.actions()[-1] == ("read", "flags", plan_id)


async def test_another_units_rule_does_not_apply(world: World) -> None:
    await world.service.flags.add_rule(
        FlagRuleSpec(kind="result", form_id="isi", result_id="total", labels=["Subklinisk insomni"]), STRANGER
    )
    plan_id, patient = await world.start_plan(refs=("isi",))
    await world.service.responses.respond(plan_id, "isi", ISI_SUBCLINICAL, draft=False, by=patient)
    assert await unflagged(world, plan_id) == []
    assert [r.unit_id for r in await world.service.flags.rules(STRANGER)] == [OTHER_UNIT]
    assert await world.service.flags.rules(THERAPIST) == []


async def test_a_handled_flag_leaves_the_lists_once(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 8}, draft=False, by=patient)
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    handled = await world.service.flags.handle(flag.id, COLLEAGUE)
    assert (handled.handled_by, handled.handled_at) == (COLLEAGUE.hsa_id, world.clock.now())
    again = await world.service.flags.handle(flag.id, THERAPIST)
    assert again.handled_by == COLLEAGUE.hsa_id
    assert [(e.flag_id, e.handled_by) for e in world.events(events.FlagHandled)] == [(flag.id, COLLEAGUE.hsa_id)]
    assert ("update", "flag", flag.id) in world.uow.audit_log.actions()
    assert await unflagged(world, plan_id) == []


async def test_another_units_staff_can_neither_see_nor_handle_a_flag(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 8}, draft=False, by=patient)
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    with pytest.raises(NotFound, match="no such flag"):
        await world.service.flags.handle(flag.id, STRANGER)
    with pytest.raises(NotFound, match="no such flag"):
        await world.service.flags.handle("nope", THERAPIST)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.flags.of_plan(plan_id, STRANGER)
    assert world.events(events.FlagHandled) == []


async def test_inactivity_is_flagged_once_per_silence_and_activity_restarts_the_count(world: World) -> None:
    await world.service.flags.add_rule(FlagRuleSpec(kind="inactivity", days=7), THERAPIST)
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    assert world.pending() == [INACTIVITY_TIMER]
    await world.pass_time(days=6)
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 1}, draft=False, by=patient)
    await world.pass_time(days=6, hours=23)  # seven days after the answer, not after the start
    assert await unflagged(world, plan_id) == []
    await world.patient_message(plan_id)
    await world.pass_time(days=7, hours=1)
    assert await unflagged(world, plan_id) == ["inactivity"]
    await world.pass_time(days=10)
    assert await unflagged(world, plan_id) == ["inactivity"]
    [raised] = [e for e in world.events(events.FlagRaised) if e.kind == "inactivity"]
    assert raised.unit_id == UNIT
    assert world.pending() == []  # one timer per rule and plan, fired


async def test_a_new_inactivity_rule_counts_for_the_units_active_plans_at_once(world: World) -> None:
    ours, _ = await world.start_plan()
    _theirs, _ = await world.start_plan(unit=OTHER_UNIT)
    ended, _ = await world.start_plan()
    await world.end_plan(ended)
    world.clock.advance(timedelta(days=2))
    await world.service.flags.add_rule(FlagRuleSpec(kind="inactivity", days=3), THERAPIST)
    assert [t.payload["plan_id"] for t in world.timers.pending()] == [ours]
    await world.pass_time(days=1, hours=1)  # three days after the start: the silence began before the rule
    assert await unflagged(world, ours) == ["inactivity"]
    assert [f.plan_id for f in world.stores.flags.items.values()] == [ours]  # type: ignore[attr-defined]


async def test_a_deleted_rule_flags_nothing_more_and_only_the_units_own_may_be_deleted(world: World) -> None:
    rule = await world.service.flags.add_rule(FlagRuleSpec(kind="inactivity", days=2), THERAPIST)
    plan_id, _ = await world.start_plan()
    with pytest.raises(NotFound, match="no such flag rule") as refused:
        await world.service.flags.delete_rule(rule.id, STRANGER)
    assert refused.value.field == "rule_id"
    await world.service.flags.delete_rule(rule.id, THERAPIST)
    assert await world.service.flags.rules(THERAPIST) == []
    await world.pass_time(days=5)
    assert await unflagged(world, plan_id) == []
