"""Initiating, accepting, declining, withdrawing and expiring a handover: who may, and the refusals
with their reasons (each named field is what the problem details show)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.handover.domain.commands import ConsentInput, InitiateHandover
from services.handover.domain.handover import HandoverState
from services.handover.service_layer.ports import HandoverPolicy
from services.plans.domain.commands import EndPlan
from shared.contracts import handover as events
from shared.contracts.handover import ConsentMethod
from shared.kernel.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from tests.unit.handover.platform import NOW, OTHER_VERSION_UNIT, PNR, UNITS, Platform, patient_admin, therapist

A, B, C = UNITS


@pytest.fixture
async def platform() -> Platform:
    platform = Platform(HandoverPolicy(pending_for=timedelta(days=7), transfer_timeout=timedelta(minutes=5)))
    await platform.start()
    return platform


def field_of(error: pytest.ExceptionInfo[DomainError]) -> str | None:
    return error.value.field


async def test_a_request_records_who_when_and_how_the_patient_consented(platform: Platform) -> None:
    handover = await platform.initiate(B)

    assert (handover.from_unit_id, handover.to_unit_id, handover.state) == (A, B, HandoverState.PENDING)
    assert (handover.program_id, handover.program_version) == ("mvp-brost", "1.0")
    assert handover.consent.method is ConsentMethod.VERBAL
    assert (handover.consent.recorded_by, handover.consent.recorded_at) == (f"{A}-T1", NOW)
    assert handover.expires_at == NOW + timedelta(days=7)
    [requested] = platform.handover_node.uow.events_of(events.HandoverRequested)
    assert (requested.plan_id, requested.unit_id, requested.to_unit_id) == (platform.plan_id, A, B)
    assert PNR not in requested.model_dump_json()  # no personal data in the event


@pytest.mark.parametrize(
    ("to_unit", "error", "field", "reason"),
    [
        (OTHER_VERSION_UNIT, Conflict, "to_unit_id", "does not run mvp-brost version 1.0"),
        (A, Invalid, "to_unit_id", "is the unit holding the plan"),
        ("SE2321000016-NONE", Invalid, "to_unit_id", "no unit with this HSA-id"),
    ],
)
async def test_a_unit_that_cannot_take_the_plan_is_refused_with_the_reason(
    platform: Platform, to_unit: str, error: type[DomainError], field: str, reason: str
) -> None:
    with pytest.raises(error, match=reason) as refused:
        await platform.initiate(to_unit)
    assert field_of(refused) == field
    assert platform.handover_node.uow.events_of(events.HandoverRequested) == []


async def test_consent_is_required_and_cannot_lie_in_the_future(platform: Platform) -> None:
    with pytest.raises(Invalid, match="consent is required") as missing:
        await platform.handover.requests.initiate(platform.plan_id, InitiateHandover(to_unit_id=B), therapist(A))
    assert field_of(missing) == "consent"
    future = ConsentInput(method=ConsentMethod.WRITTEN, recorded_at=NOW + timedelta(hours=1))
    with pytest.raises(Invalid) as ahead:
        await platform.handover.requests.initiate(
            platform.plan_id, InitiateHandover(to_unit_id=B, consent=future), therapist(A)
        )
    assert field_of(ahead) == "consent.recorded_at"


async def test_one_pending_handover_per_plan(platform: Platform) -> None:
    await platform.initiate(B)
    with pytest.raises(Conflict, match="already pending"):
        await platform.initiate(C)


async def test_an_ended_plan_is_not_handed_over(platform: Platform) -> None:
    await platform.plans_service.lifecycle.end_plan(platform.plan_id, EndPlan(), therapist(A))
    await platform.settle()
    with pytest.raises(Conflict, match="ended") as ended:
        await platform.initiate(B)
    assert field_of(ended) == "plan_id"


async def test_a_plan_that_ends_while_a_handover_waits_withdraws_it(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.plans_service.lifecycle.end_plan(platform.plan_id, EndPlan(), therapist(A))
    await platform.settle()

    [withdrawn] = await platform.handovers.history(platform.plan_id)
    assert (withdrawn.state, withdrawn.decided_by, withdrawn.outcome_reason) == (
        HandoverState.WITHDRAWN,
        "system",
        "the plan ended",
    )
    assert platform.handover_node.uow.events_of(events.HandoverWithdrawn)[0].reason == "the plan ended"
    assert await platform.handover.reads.incoming(patient_admin(B)) == []
    with pytest.raises(Conflict, match="withdrawn"):
        await platform.accept(handover.handover_id, patient_admin(B))


async def test_a_unit_not_holding_the_plan_gets_what_a_missing_plan_gets(platform: Platform) -> None:
    with pytest.raises(NotFound, match="no such plan"):
        await platform.initiate(C, by=therapist(B))


async def test_the_receiving_units_patient_admins_see_the_incoming_handover_with_the_patient(
    platform: Platform,
) -> None:
    handover = await platform.initiate(B)

    [incoming] = await platform.handover.reads.incoming(patient_admin(B))
    assert (incoming.handover_id, incoming.patient_personnummer) == (handover.handover_id, PNR)
    assert await platform.handover.reads.incoming(patient_admin(C)) == []
    assert ("read", "plan.handover", platform.plan_id) in platform.handover_node.uow.audit_log.actions()


@pytest.mark.parametrize(
    ("who", "error"),
    [
        (therapist(B), Forbidden),  # the receiving unit, not a patient admin
        (patient_admin(A), Forbidden),  # the handing-over unit
        (patient_admin(C), NotFound),  # a unit the handover does not concern
    ],
)
async def test_only_a_patient_admin_of_the_receiving_unit_accepts(
    platform: Platform, who: Staff, error: type[DomainError]
) -> None:
    handover = await platform.initiate(B)
    with pytest.raises(error):
        await platform.accept(handover.handover_id, who)
    with pytest.raises(error):
        await platform.decline(handover.handover_id, who)


async def test_a_double_accept_has_one_effect(platform: Platform) -> None:
    handover = await platform.initiate(B)
    first = await platform.accept(handover.handover_id, patient_admin(B))
    second = await platform.accept(handover.handover_id, patient_admin(B))

    assert first.state is second.state is HandoverState.ACCEPTED
    assert len(platform.handover_node.uow.events_of(events.HandoverAccepted)) == 1


async def test_a_declined_handover_keeps_the_plan_where_it_is(platform: Platform) -> None:
    handover = await platform.initiate(B)
    declined = await platform.decline(handover.handover_id, patient_admin(B))
    await platform.settle()

    assert (declined.state, declined.decline_reason) == (HandoverState.DECLINED, "ingen plats")
    assert {o.unit_id for o in (await platform.copies_now()).values()} == {A}
    with pytest.raises(Conflict, match="declined: it cannot be accepted") as late:
        await platform.accept(handover.handover_id, patient_admin(B))
    assert field_of(late) == "handover_id"
    await platform.initiate(C)  # the plan is free for the next handover


async def test_the_handing_over_unit_withdraws_while_pending(platform: Platform) -> None:
    handover = await platform.initiate(B)
    with pytest.raises(Forbidden):
        await platform.handover.requests.withdraw(handover.handover_id, patient_admin(B))
    withdrawn = await platform.handover.requests.withdraw(handover.handover_id, therapist(A))

    assert withdrawn.state is HandoverState.WITHDRAWN
    assert len(platform.handover_node.uow.events_of(events.HandoverWithdrawn)) == 1
    with pytest.raises(Conflict, match="withdrawn"):
        await platform.accept(handover.handover_id, patient_admin(B))


async def test_an_unanswered_handover_expires_on_its_timer(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.fire_timers(timedelta(days=6))
    assert (await platform.handover.reads.one(handover.handover_id, therapist(A))).state is HandoverState.PENDING

    await platform.fire_timers(timedelta(days=1, minutes=1))

    expired = await platform.handover.reads.one(handover.handover_id, therapist(A))
    assert expired.state is HandoverState.EXPIRED
    assert len(platform.handover_node.uow.events_of(events.HandoverExpired)) == 1
    with pytest.raises(Conflict, match="expired"):
        await platform.accept(handover.handover_id, patient_admin(B))


async def test_an_accepted_handover_cannot_be_withdrawn_or_declined(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.accept(handover.handover_id, patient_admin(B))
    with pytest.raises(Conflict):
        await platform.handover.requests.withdraw(handover.handover_id, therapist(A))
    with pytest.raises(Conflict):
        await platform.decline(handover.handover_id, patient_admin(B))


async def test_the_history_is_for_the_holding_unit_and_the_patient(platform: Platform) -> None:
    handover = await platform.initiate(B)
    await platform.handover.requests.withdraw(handover.handover_id, therapist(A))

    for reader in (therapist(A), Patient(personnummer=PNR)):
        [entry] = await platform.handover.reads.history(platform.plan_id, reader)
        assert (entry.handover_id, entry.state) == (handover.handover_id, HandoverState.WITHDRAWN)
    for stranger in (therapist(B), Patient(personnummer="191212121212")):
        with pytest.raises(NotFound):
            await platform.handover.reads.history(platform.plan_id, stranger)
    with pytest.raises(NotFound):
        await platform.handover.reads.one(
            handover.handover_id, Staff(hsa_id="x-1", unit_id=C, roles=frozenset({Role.THERAPIST}))
        )
