"""The handover service's part of a plan's export for the journal: its handover history (empty until
the handover domain lands, but answered), with the audit summary; nothing for a request naming other
services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from launcher.consumer_groups import service_consumer_groups
from services.handover.service_layer.export import HandoverExport, NoHandovers
from shared.clock import FixedClock
from shared.contracts import handover as events
from shared.contracts.export import HandoverPart
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested, PurgeRequested
from tests.fakes import FakeUnitOfWork

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


class History:
    def __init__(self, *handovers: dict[str, Any]) -> None:
        self.handovers = list(handovers)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[dict[str, Any]]:
        return [h for h in self.handovers if h["plan_id"] == plan_id]


def request(services: tuple[str, ...] = ("handover",)) -> ExportRequested:
    return ExportRequested(plan_id="p1", export_id="export-9", requested_at=NOW, attempt=2, services=list(services))


async def export(uow: FakeUnitOfWork, handler: HandoverExport, asked: ExportRequested) -> list[events.ExportPart]:
    await uow.run(lambda tx: handler.on_export_requested(asked, None, tx))
    return uow.events_of(events.ExportPart)


async def test_a_plan_never_handed_over_gets_an_empty_part() -> None:
    uow = FakeUnitOfWork(FixedClock(NOW))

    [answer] = await export(uow, HandoverExport(NoHandovers(), uow.audit_log), request())

    assert (answer.plan_id, answer.export_id, answer.service, answer.produced_at) == ("p1", "export-9", "handover", NOW)
    assert HandoverPart.model_validate(answer.content) == HandoverPart()
    assert answer.topic.name == "careplan.handover.v1"


async def test_the_plans_handovers_and_audit_trail_are_exported() -> None:
    uow = FakeUnitOfWork(FixedClock(NOW))
    accepted = {"plan_id": "p1", "from_unit": "SE-A", "to_unit": "SE-B", "state": "completed"}
    history = History(accepted, {"plan_id": "p2", "from_unit": "SE-A", "to_unit": "SE-C", "state": "declined"})
    await uow.audit_log.record(None, "update", "handover", "p1", patient=None, unit_id="SE-B")

    [answer] = await export(uow, HandoverExport(history, uow.audit_log), request())

    part = HandoverPart.model_validate(answer.content)
    assert part.handovers == [accepted]
    assert (part.audit.counts, part.audit.first_at, part.audit.last_at) == ({"update handover": 1}, NOW, NOW)


async def test_a_request_not_naming_handover_publishes_nothing() -> None:
    uow = FakeUnitOfWork(FixedClock(NOW))
    handler = HandoverExport(NoHandovers(), uow.audit_log)
    assert await export(uow, handler, request(services=("plans", "messaging"))) == []


def test_export_requests_are_read_by_the_consumer_of_purge_requests() -> None:
    """One consumer group reads both in the topic's order: a plan's export is answered before its purge."""
    [group] = [g for g in service_consumer_groups("handover") if PurgeRequested.ce_type in g.ce_types]
    assert group.topics == (RETENTION_TOPIC.name,) and ExportRequested.ce_type in group.ce_types
