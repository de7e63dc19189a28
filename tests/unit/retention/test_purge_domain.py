"""The purge saga's rules, on the domain objects alone."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from services.retention.domain.purge import Purge, PurgeReceiptView, RetryPolicy
from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import PlanPurged
from shared.kernel.errors import Conflict, Invalid
from shared.ownership import OwnershipState, PlanOwnership
from tests.unit.retention.fakes import NOW, PNR, UNIT


def ownership(state: OwnershipState = OwnershipState.ENDED) -> PlanOwnership:
    return PlanOwnership(plan_id="p1", unit_id=UNIT, patient_personnummer=PNR, state=state)


def requested(**overrides: object) -> Purge:
    options: dict = {"purge_id": "g1", "requested_by": "SE2321000016-D1", "now": NOW, "export_id": "e1"}
    purge, _ = Purge.request(ownership(), **(options | overrides))  # type: ignore[arg-type]
    return purge


def receipt_of(service: str, purge_id: str = "g1", plan_id: str = "p1") -> PurgeReceiptView:
    return PurgeReceiptView(plan_id=plan_id, purge_id=purge_id, service=service, deleted={"x": 1}, purged_at=NOW)


def test_an_exported_ended_plan_is_requested_from_all_six_services() -> None:
    purge, event = Purge.request(ownership(), purge_id="g1", requested_by="SE2321000016-D1", now=NOW, export_id="e1")
    assert (event.plan_id, event.purge_id, event.attempt, event.services) == ("p1", "g1", 1, list(PURGING_SERVICES))
    assert (purge.state, purge.unit_id, purge.forced, purge.missing()) == ("requested", UNIT, False, event.services)


@pytest.mark.parametrize(
    ("state", "reason"),
    [(OwnershipState.ACTIVE, "the plan is active"), (OwnershipState.TRANSFERRING, "being handed over")],
)
def test_a_plan_that_has_not_ended_is_refused_naming_why(state: OwnershipState, reason: str) -> None:
    with pytest.raises(Conflict, match=reason):
        Purge.request(
            ownership(state), purge_id="g1", requested_by="d", now=NOW, export_id="e1", force=True, reason="x"
        )


def test_a_plan_not_exported_needs_force_with_a_reason() -> None:
    with pytest.raises(Conflict, match="not been exported") as refused:
        requested(export_id=None)
    assert refused.value.field == "force"
    with pytest.raises(Invalid, match="needs a reason"):
        requested(export_id=None, force=True, reason="  ")
    forced = requested(export_id=None, force=True, reason=" ärendet avslutat ")
    assert (forced.forced, forced.reason, forced.export_id) == (True, "ärendet avslutat", None)


@pytest.mark.parametrize("order", list(itertools.islice(itertools.permutations(PURGING_SERVICES), 0, 720, 97)))
def test_receipts_in_any_order_and_duplicated_complete_the_purge_once(order: tuple[str, ...]) -> None:
    purge = requested()
    outcomes = [purge.record_receipt(receipt_of(s), NOW) for s in [*order[:3], order[0], *order[3:], order[-1]]]
    completed = [o for o in outcomes if o is not None]
    assert completed == [PlanPurged(plan_id="p1", purge_id="g1", purged_at=NOW, forced=False)]
    assert outcomes[-2] is not None  # the last distinct service completes it; the duplicate after it does not
    assert (purge.state, purge.missing(), purge.tombstone().receipts["plans"]) == ("completed", [], {"x": 1})


def test_receipts_of_another_purge_plan_or_service_do_not_count() -> None:
    purge = requested()
    assert purge.record_receipt(receipt_of("plans", purge_id="other"), NOW) is None
    assert purge.record_receipt(receipt_of("plans", plan_id="p2"), NOW) is None
    assert purge.record_receipt(receipt_of("billing"), NOW) is None
    assert purge.missing() == list(PURGING_SERVICES)


def test_missing_services_are_asked_again_with_backoff() -> None:
    purge = requested()
    for service in ("plans", "retention", "forms"):
        purge.record_receipt(receipt_of(service), NOW)
    assert purge.next_request_at(RetryPolicy()) == NOW + timedelta(minutes=1)
    event = purge.re_request(NOW + timedelta(minutes=1))
    assert event is not None
    assert (event.attempt, event.services, event.purge_id) == (2, ["messaging", "notifications", "handover"], "g1")
    assert purge.next_request_at(RetryPolicy()) == NOW + timedelta(minutes=3)


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(first=timedelta(minutes=1), cap=timedelta(hours=1))
    assert [policy.delay(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.delay(10_000) == timedelta(hours=1)


def test_a_completed_purge_is_not_asked_again_and_only_it_leaves_a_tombstone() -> None:
    purge = requested()
    with pytest.raises(ValueError, match="completed"):
        purge.tombstone()
    for service in PURGING_SERVICES:
        purge.record_receipt(receipt_of(service), NOW)
    assert purge.re_request(NOW) is None
    tombstone = purge.tombstone()
    assert "patient_personnummer" not in tombstone.model_dump() and PNR not in tombstone.model_dump_json()
