"""The one access rule, and the ownership copy kept from the plans service's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.clock import FixedClock
from shared.contracts.plans import (
    OwnershipTransferred,
    OwnershipTransferReverted,
    OwnershipTransferring,
    PlanEnded,
    PlanStarted,
    ResponsibleChanged,
)
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.ownership import OwnershipProjector, OwnershipState, PlanOwnership, authorize
from tests.fakes import FakeUnitOfWork, InMemoryOwnershipRepository

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UNIT, OTHER_UNIT = "SE2321000016-AAAA", "SE2321000016-BBBB"
PNR, OTHER_PNR = "194107086995", "191212121212"


def ownership(**changes: object) -> PlanOwnership:
    return PlanOwnership(plan_id="p1", unit_id=UNIT, patient_personnummer=PNR).model_copy(update=changes)


def staff(unit: str = UNIT) -> Staff:
    return Staff(hsa_id="SE2321000016-T1", unit_id=unit, roles=frozenset({Role.THERAPIST}))


def started(plan_id: str = "p1") -> PlanStarted:
    return PlanStarted(
        plan_id=plan_id,
        unit_id=UNIT,
        patient_personnummer=PNR,
        protected_identity=False,
        program_id="prog",
        program_version="1.0",
        responsible_hsa_id="SE2321000016-T1",
        started_at=NOW,
    )


def test_staff_of_the_holding_unit_and_the_patient_may_see_the_plan() -> None:
    assert authorize(ownership(), staff()).plan_id == "p1"
    assert authorize(ownership(), Patient(personnummer=PNR)).plan_id == "p1"


@pytest.mark.parametrize("principal", [staff(OTHER_UNIT), Patient(personnummer=OTHER_PNR)])
def test_anyone_else_gets_the_answer_of_a_missing_plan(principal: Staff | Patient) -> None:
    with pytest.raises(NotFound) as foreign:
        authorize(ownership(), principal)
    with pytest.raises(NotFound) as missing:
        authorize(None, principal)
    assert str(foreign.value) == str(missing.value) == "no such plan"


def test_ownership_follows_the_current_holder_not_an_earlier_one() -> None:
    moved = ownership(unit_id=OTHER_UNIT, version=2)
    with pytest.raises(NotFound):
        authorize(moved, staff(UNIT))
    assert authorize(moved, staff(OTHER_UNIT)).version == 2


@pytest.mark.parametrize(
    ("state", "reason"), [(OwnershipState.ENDED, "ended"), (OwnershipState.TRANSFERRING, "handed over")]
)
def test_an_ended_or_moving_plan_is_read_only(state: OwnershipState, reason: str) -> None:
    plan = ownership(state=state)
    assert authorize(plan, staff()) is plan  # still readable
    with pytest.raises(Conflict, match=reason):
        plan.require_writable()
    ownership().require_writable()  # an active plan is writable


async def test_the_projector_keeps_the_copy_from_plan_events_and_replays_change_nothing() -> None:
    repo = InMemoryOwnershipRepository()
    projector = OwnershipProjector(repo)
    uow = FakeUnitOfWork(FixedClock(NOW), repo)
    await uow.run(lambda tx: projector.on_plan_started(started(), None, tx))
    await uow.run(
        lambda tx: projector.on_responsible_changed(
            ResponsibleChanged(
                plan_id="p1", unit_id=UNIT, previous_hsa_id="SE2321000016-T1", responsible_hsa_id="SE2321000016-T2"
            ),
            None,
            tx,
        )
    )
    await uow.run(lambda tx: projector.on_plan_started(started(), None, tx))  # a replay
    kept = await repo.get("p1")
    assert kept is not None and kept.responsible_hsa_id == "SE2321000016-T2" and kept.active
    await uow.run(
        lambda tx: projector.on_plan_ended(
            PlanEnded(plan_id="p1", unit_id=UNIT, ended_at=NOW, reason="limit"), None, tx
        )
    )
    ended = await repo.get("p1")
    assert ended is not None and ended.state is OwnershipState.ENDED and ended.ended_at == NOW
    assert [o.plan_id for o in await repo.of_patient(PNR)] == ["p1"]


def test_the_projector_subscribes_to_the_plans_contract() -> None:
    types = [s.ce_type for s in OwnershipProjector(InMemoryOwnershipRepository()).subscriptions()]
    assert types == [
        PlanStarted.ce_type,
        PlanEnded.ce_type,
        ResponsibleChanged.ce_type,
        OwnershipTransferring.ce_type,
        OwnershipTransferred.ce_type,
        OwnershipTransferReverted.ce_type,
    ]


async def test_a_failed_unit_of_work_leaves_nothing_behind() -> None:
    repo = InMemoryOwnershipRepository()
    uow = FakeUnitOfWork(FixedClock(NOW), repo)

    async def fails(tx: object) -> None:
        await OwnershipProjector(repo).on_plan_started(started(), None, tx)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await uow.run(fails)
    assert await repo.get("p1") is None and uow.published == []
