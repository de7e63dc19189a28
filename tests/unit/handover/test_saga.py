"""The handover saga across services (in one process, see `platform.py`): the plan moves in every
service or in none, read-only at both units while it moves, and the old unit loses it everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.handover.domain.handover import HandoverState
from services.handover.service_layer.ports import HandoverPolicy
from services.plans.domain import commands as plan_commands
from shared.contracts import handover as events
from shared.contracts import plans as plan_events
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient
from shared.ownership import OwnershipState
from shared.ownership.model import authorize
from tests.unit.handover.platform import PNR, PROGRAM, UNITS, Platform, patient_admin, therapist

A, B, C = UNITS


@pytest.fixture
async def platform() -> Platform:
    platform = Platform(HandoverPolicy(pending_for=timedelta(days=7), transfer_timeout=timedelta(minutes=5)))
    await platform.start()
    return platform


async def handed_over(platform: Platform, to: str = B) -> str:
    handover = await platform.initiate(to)
    await platform.settle()
    await platform.accept(handover.handover_id, patient_admin(to))
    await platform.settle()
    return handover.handover_id


async def test_an_accepted_handover_moves_the_plan_in_every_service(platform: Platform) -> None:
    handover_id = await handed_over(platform)

    copies = await platform.copies_now()
    assert set(copies) == {"plans", "messaging", "forms", "notifications", "retention", "handover"}
    assert {(o.unit_id, o.state, o.version) for o in copies.values()} == {(B, OwnershipState.ACTIVE, 3)}
    assert {o.responsible_hsa_id for o in copies.values()} == {f"{B}-T7"}
    for copy in copies.values():
        with pytest.raises(NotFound):
            authorize(copy, therapist(A))  # even with a token issued before the handover
        assert authorize(copy, therapist(B)) and authorize(copy, Patient(personnummer=PNR))
    done = await platform.handover.reads.one(handover_id, therapist(B))
    assert done.state is HandoverState.COMPLETED
    assert set(done.confirmed_by) == {"plans", "messaging", "forms", "notifications", "retention", "handover"}
    plan = await platform.plans.get(platform.plan_id)
    assert plan is not None and (plan.unit_id, plan.transfer) == (B, None)
    [completed] = platform.handover_node.uow.events_of(events.HandoverCompleted)
    assert (completed.unit_id, completed.to_unit_id, completed.ownership_version) == (A, B, 2)


async def test_while_the_transfer_is_in_flight_the_plan_is_read_only_at_both_units(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.settle()
    await platform.accept(handover.handover_id, patient_admin(B))
    platform.relay()
    await platform.deliver(platform.plans_node, "careplan.handover.v1")  # accepted: plans moves the plan

    moved = await platform.plan_ownership.get(platform.plan_id)
    assert moved is not None and (moved.unit_id, moved.state) == (B, OwnershipState.TRANSFERRING)
    with pytest.raises(Conflict, match="being handed over"):
        moved.require_writable()
    assert await platform.writers() == {A}  # only where the copy has not moved yet: never both


async def test_a_service_that_cannot_apply_the_transfer_makes_it_undone_everywhere(platform: Platform) -> None:
    await platform.copies["forms"].save(
        (await platform.copies["forms"].get(platform.plan_id)).model_copy(update={"state": OwnershipState.ENDED})  # type: ignore[union-attr]
    )
    handover_id = await handed_over(platform)

    view = await platform.handover.reads.one(handover_id, therapist(A))
    assert view.state is HandoverState.COMPENSATED
    assert view.outcome_reason == "forms: the plan has ended in this service"
    copies = await platform.copies_now()
    assert {o.unit_id for o in copies.values()} == {A}
    assert {o.version for o in copies.values()} == {3}
    assert await platform.writers() == {A}
    plan = await platform.plans.get(platform.plan_id)
    assert plan is not None and (plan.unit_id, plan.responsible_hsa_id, plan.transfer) == (A, f"{A}-T1", None)
    assert platform.plans_node.uow.events_of(plan_events.OwnershipTransferReverted)
    restored = await platform.handovers.get(handover_id)
    assert restored is not None and {"messaging", "notifications", "retention", "handover"} <= set(restored.restored)


async def test_the_plans_service_refuses_a_receiving_unit_without_the_version(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.settle()
    platform.plans_service.units.units.items.pop(B)  # B stopped running the version meanwhile
    await platform.accept(handover.handover_id, patient_admin(B))
    await platform.settle()

    view = await platform.handover.reads.one(handover.handover_id, therapist(A))
    assert view.state is HandoverState.COMPENSATED
    assert view.outcome_reason is not None and "does not run mvp-brost version 1.0" in view.outcome_reason
    assert {(o.unit_id, o.version) for o in (await platform.copies_now()).values()} == {(A, 1)}


async def test_confirmations_that_never_come_compensate_after_the_timeout(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.settle()
    await platform.accept(handover.handover_id, patient_admin(B))
    retention = next(n for n in platform.nodes if n.name == "retention")
    platform.nodes.remove(retention)  # retention is down
    await platform.settle()
    assert (await platform.handover.reads.one(handover.handover_id, therapist(B))).state is HandoverState.ACCEPTED

    await platform.fire_timers(timedelta(minutes=6))
    await platform.settle()
    platform.nodes.append(retention)  # back: it applies the transfer, then its reversal
    await platform.settle()

    view = await platform.handover.reads.one(handover.handover_id, therapist(A))
    assert view.state is HandoverState.COMPENSATED and view.outcome_reason == "no confirmation in time from: retention"
    assert {(o.unit_id, o.state) for o in (await platform.copies_now()).values()} == {(A, OwnershipState.ACTIVE)}


async def test_a_plan_is_handed_over_again_and_again_with_its_whole_history(platform: Platform) -> None:
    await handed_over(platform, B)
    await handed_over(platform, C)
    await handed_over(platform, A)

    history = await platform.handover.reads.history(platform.plan_id, Patient(personnummer=PNR))
    assert [(h.from_unit_id, h.to_unit_id, h.state) for h in history] == [
        (A, B, HandoverState.COMPLETED),
        (B, C, HandoverState.COMPLETED),
        (C, A, HandoverState.COMPLETED),
    ]
    assert {(o.unit_id, o.version) for o in (await platform.copies_now()).values()} == {(A, 7)}
    with pytest.raises(NotFound):
        await platform.handover.reads.history(platform.plan_id, therapist(B))


async def test_a_redelivered_accept_moves_the_plan_once(platform: Platform) -> None:
    handover_id = await handed_over(platform)
    accepted = platform.handover_node.uow.events_of(events.HandoverAccepted)[0]
    platform.log["careplan.handover.v1"].append(accepted)  # Kafka delivers it again
    await platform.settle()

    assert len(platform.plans_node.uow.events_of(plan_events.OwnershipTransferring)) == 1
    assert {(o.unit_id, o.version) for o in (await platform.copies_now()).values()} == {(B, 3)}
    assert (await platform.handover.reads.one(handover_id, therapist(B))).state is HandoverState.COMPLETED


async def test_a_patient_with_an_active_plan_of_the_program_at_the_receiving_unit_is_refused(
    platform: Platform,
) -> None:
    command = plan_commands.StartPlan(
        personnummer=PNR, patient_name="Pia", program_id=PROGRAM.program_id, program_version=PROGRAM.version
    )
    await platform.plans_service.lifecycle.start_plan(command, therapist(B))
    await platform.settle()
    handover_id = await handed_over(platform, B)

    view = await platform.handover.reads.one(handover_id, therapist(A))
    assert view.state is HandoverState.COMPENSATED
    assert view.outcome_reason == "plans: the patient already has an active plan of this program at the receiving unit"
    assert {(o.unit_id, o.version) for o in (await platform.copies_now()).values()} == {(A, 1)}


async def test_confirmations_arriving_before_the_plans_services_own_word_still_count(platform: Platform) -> None:
    """Kafka keeps order per topic only: the participants' confirmations (their topics) may reach the
    handover service before plans' `ownership_transferring` (the plans topic) does."""
    handover = await platform.initiate(B)
    await platform.settle()
    await platform.accept(handover.handover_id, patient_admin(B))
    platform.relay()
    await platform.deliver(platform.plans_node, "careplan.handover.v1")
    for node in platform.nodes:
        if node.name in ("messaging", "forms", "notifications", "retention"):
            await platform.deliver(node, "careplan.plans.v1")
    for node, topic in platform.pending():
        if node is platform.handover_node and topic != "careplan.plans.v1":
            await platform.deliver(node, topic)  # the confirmations first
    await platform.settle()

    assert (await platform.handover.reads.one(handover.handover_id, therapist(B))).state is HandoverState.COMPLETED
