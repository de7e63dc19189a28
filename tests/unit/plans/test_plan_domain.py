"""Rules of the plan aggregate that the use cases rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.plans.domain.content import Actor
from services.plans.domain.plan import Plan
from shared.kernel.errors import Conflict, Forbidden
from shared.ownership.model import OwnershipState
from tests.unit.plans.conftest import NOW, PNR, PROGRAM, UNIT


def new_plan() -> Plan:
    return Plan.start(
        PROGRAM,
        unit_id=UNIT,
        personnummer=PNR,
        patient_name="P",
        protected_identity=True,
        responsible_hsa_id="SE2321000016-T001",
        started_by="SE2321000016-T001",
        now=NOW,
    )


def test_the_ownership_of_a_plan_is_built_from_it() -> None:
    plan = new_plan()
    ownership = plan.ownership(version=3)
    assert ownership.model_dump() == {
        "plan_id": plan.id,
        "unit_id": UNIT,
        "patient_personnummer": PNR,
        "protected_identity": True,
        "responsible_hsa_id": "SE2321000016-T001",
        "program_id": "prog",
        "program_version": "1.0",
        "state": OwnershipState.ACTIVE,
        "version": 3,
        "started_at": NOW,
        "ended_at": None,
    }
    plan.end(by=Actor.system(), reason="limit", now=NOW + timedelta(days=730))
    ended = plan.ownership()
    assert (ended.state, ended.ended_at, ended.version) == (OwnershipState.ENDED, NOW + timedelta(days=730), 1)


def test_an_ended_plan_refuses_every_change() -> None:
    plan = new_plan()
    plan.end(by=Actor.staff("SE2321000016-T001"), reason="completed", now=NOW)
    with pytest.raises(Conflict):
        plan.end(by=Actor.system(), reason="limit", now=NOW)
    with pytest.raises(Conflict):
        plan.set_step_visibility("welcome", False)
    assert plan.end_reason == "completed"


def test_a_patient_cannot_end_a_plan() -> None:
    plan = new_plan()
    with pytest.raises(Forbidden):
        plan.end(by=Actor.patient(), reason="other", now=NOW)
    assert plan.active


def test_plans_ended_before_the_system_could_end_them_read_their_staff_member() -> None:
    stored = new_plan().model_dump() | {"status": "ended", "ended_by": "SE2321000016-T001", "ended_at": NOW}
    assert Plan.model_validate(stored).ended_by == Actor.staff("SE2321000016-T001")
