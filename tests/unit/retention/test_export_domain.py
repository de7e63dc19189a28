"""The export saga's rules, on the aggregate alone: who may be exported, which parts count (once each),
when the export is complete, and how the missing services are asked again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.retention.domain.export import Export, ExportPartView, ExportSummary
from services.retention.domain.export_document import InvalidPart, read_part
from services.retention.domain.purge import RetryPolicy
from shared.contracts.export import EXPORTING_SERVICES
from shared.contracts.retention import PlanExported
from shared.kernel.errors import Conflict
from shared.ownership import OwnershipState, PlanOwnership
from tests.unit.retention.export_samples import all_parts
from tests.unit.retention.fakes import NOW, PNR, UNIT


def ownership(state: OwnershipState = OwnershipState.ENDED) -> PlanOwnership:
    return PlanOwnership(plan_id="p1", unit_id=UNIT, patient_personnummer=PNR, state=state)


def new_export() -> Export:
    export, _ = Export.request(ownership(), export_id="e1", requested_by="system", now=NOW)
    return export


def part(service: str, export_id: str = "e1", plan_id: str = "p1") -> ExportPartView:
    return ExportPartView(
        plan_id=plan_id, export_id=export_id, service=service, produced_at=NOW, content=all_parts().get(service, {})
    )


def test_an_ended_plan_is_exported_by_asking_every_exporting_service() -> None:
    export, requested = Export.request(ownership(), export_id="e1", requested_by="SE2321000016-D1", now=NOW)
    assert (requested.plan_id, requested.export_id, requested.attempt) == ("p1", "e1", 1)
    assert requested.services == list(EXPORTING_SERVICES) == export.missing()
    assert (export.state, export.unit_id, export.requested_by) == ("requested", UNIT, "SE2321000016-D1")


@pytest.mark.parametrize(("state", "why"), [(OwnershipState.ACTIVE, "active"), (OwnershipState.TRANSFERRING, "handed")])
def test_an_active_or_transferring_plan_is_not_exported(state: OwnershipState, why: str) -> None:
    with pytest.raises(Conflict, match=why) as refused:
        Export.request(ownership(state), export_id="e1", requested_by="system", now=NOW)
    assert refused.value.field == "plan_id"


def test_each_service_counts_once_and_the_last_completes_it_with_a_reference_only() -> None:
    export = new_export()
    later = NOW + timedelta(minutes=5)
    for service in EXPORTING_SERVICES[:-1]:
        assert export.record_part(part(service), later) is None
        assert export.record_part(part(service), later) is None  # a duplicate changes nothing
    assert export.missing() == [EXPORTING_SERVICES[-1]] and export.state == "requested"
    exported = export.record_part(part(EXPORTING_SERVICES[-1]), later)
    assert exported == PlanExported(plan_id="p1", export_id="e1", exported_at=later)
    assert set(PlanExported.model_fields) == {"plan_id", "export_id", "exported_at"}  # no content in it
    assert (export.state, export.completed_at, export.missing()) == ("completed", later, [])
    assert export.record_part(part("plans"), later) is None  # complete: nothing counts any more


def test_parts_of_another_export_or_plan_or_of_no_exporting_service_are_ignored() -> None:
    export = new_export()
    for stray in (part("plans", export_id="e2"), part("plans", plan_id="p2"), part("retention")):
        assert not export.counts(stray)
        assert export.record_part(stray, NOW) is None
    assert export.parts == {}


def test_the_missing_are_asked_again_with_a_doubling_wait() -> None:
    export = new_export()
    policy = RetryPolicy(first=timedelta(minutes=1), cap=timedelta(minutes=5))
    export.record_part(part("plans"), NOW)
    assert export.next_request_at(policy) == NOW + timedelta(minutes=1)
    again = export.re_request(NOW + timedelta(minutes=1))
    assert again is not None and (again.attempt, again.export_id) == (2, "e1")
    assert again.services == [s for s in EXPORTING_SERVICES if s != "plans"]
    assert export.next_request_at(policy) == NOW + timedelta(minutes=3)
    for service in EXPORTING_SERVICES:
        export.record_part(part(service), NOW)
    assert export.re_request(NOW) is None


def test_an_incomplete_export_is_not_handed_out_and_says_who_is_missing() -> None:
    export = new_export()
    export.record_part(part("plans"), NOW)
    with pytest.raises(Conflict, match="waiting for the parts of messaging, forms, notifications, handover"):
        export.require_complete()
    summary = ExportSummary.of(export, RetryPolicy())
    assert (summary.received, summary.missing, summary.next_request_at) == (
        ["plans"],
        ["messaging", "forms", "notifications", "handover"],
        NOW + timedelta(minutes=1),
    )


def test_a_part_is_read_with_its_services_model_and_a_bad_one_names_fields_never_values() -> None:
    assert read_part("messaging", all_parts()["messaging"])["conversations"][0]["subject"] == "Fråga om sömn"
    broken = all_parts()["plans"] | {"started_at": "not a time", "patient_personnummer": None}
    with pytest.raises(InvalidPart) as invalid:
        read_part("plans", broken)
    assert str(invalid.value) == "the part of plans is not valid: patient_personnummer, started_at"
    with pytest.raises(InvalidPart, match="retention is not an exporting service"):
        read_part("retention", {})
