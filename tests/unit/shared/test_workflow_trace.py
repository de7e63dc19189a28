"""Events travel in the trace context they were published in, so a long workflow's later steps (a
timer, a participant's receipt) keep the workflow's trace; a purge participant answers in a span of
the purge's trace that names no one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.clock import FixedClock
from shared.contracts.plans import PurgeReceipt
from shared.contracts.retention import PlanPurged, PurgeRequested
from shared.observability.workflow import WORKFLOW_ID, WORKFLOW_KIND, WORKFLOW_STEP, start_workflow, workflow_step
from shared.purge import PURGE_WORKFLOW, PurgeParticipant
from shared.storage.unit_of_work import MongoTransaction

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def traceparent(carrier: dict[str, str]) -> tuple[str, str] | None:
    """(trace id, parent span id) of a W3C carrier, None for an empty one."""
    if "traceparent" not in carrier:
        return None
    _, trace_id, span_id, _ = carrier["traceparent"].split("-")
    return trace_id, span_id


def ids(span: Any) -> tuple[str, str]:
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def purged(plan_id: str) -> PlanPurged:
    return PlanPurged(plan_id=plan_id, purge_id="u1", purged_at=NOW)


def test_each_event_carries_the_trace_context_it_was_published_in(exporter: InMemorySpanExporter) -> None:
    tx = MongoTransaction(None, None, FixedClock(NOW), "/careplan/test", None)  # type: ignore[arg-type]
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("request") as request:
        tx.publish(purged("p1"))
        ref = start_workflow("purge", "u1")
    with workflow_step(ref, "completed") as step:  # days later, from a timer: no span of its own around it
        tx.publish(purged("p2"), purged("p3"))
    tx.publish(purged("p4"))
    assert [traceparent(e.trace) for e in tx.events] == [ids(request), ids(step), ids(step), None]
    assert ids(step)[0] == ids(request)[0] == ref.trace_id  # the step continues the request's trace


class _Purger:
    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]:
        return {"plans": 1, "outbox": 2}


class _Tombstones:
    async def add(self, plan_id: str, purge_id: str, at: datetime, session: Any = None) -> None:
        return None

    async def contains(self, plan_id: str, session: Any = None) -> bool:
        return False


class _Tx:
    """Records the span active when each event is published."""

    def __init__(self) -> None:
        self.session = None
        self.clock = FixedClock(NOW)
        self.published: list[tuple[Any, Any]] = []

    def publish(self, *events: Any) -> None:
        self.published.extend((e, trace.get_current_span()) for e in events)


async def test_a_participant_answers_in_a_span_of_the_purge(exporter: InMemorySpanExporter) -> None:
    participant = PurgeParticipant("plans", _Purger(), _Tombstones(), PurgeReceipt)
    request = PurgeRequested(plan_id="p1", purge_id="u1", requested_at=NOW, attempt=2, services=["plans"])
    tx = _Tx()
    with trace.get_tracer("test").start_as_current_span("careplan.retention.v1 process") as consumed:
        await participant.on_purge_requested(request, None, tx)
    [(receipt, active)] = tx.published
    assert isinstance(receipt, PurgeReceipt) and receipt.deleted == {"plans": 1, "outbox": 2}
    span = next(s for s in exporter.get_finished_spans() if s.get_span_context() == active.get_span_context())
    assert span.parent is not None and span.parent.span_id == consumed.get_span_context().span_id
    assert dict(span.attributes or {}) == {
        WORKFLOW_ID: "u1",
        WORKFLOW_KIND: PURGE_WORKFLOW,
        WORKFLOW_STEP: "deleted",
        "careplan.purge.service": "plans",
        "careplan.purge.attempt": 2,
        "careplan.purge.deleted": 3,
    }


async def test_a_participant_not_asked_again_publishes_nothing(exporter: InMemorySpanExporter) -> None:
    participant = PurgeParticipant("plans", _Purger(), _Tombstones(), PurgeReceipt)
    tx = _Tx()
    request = PurgeRequested(plan_id="p1", purge_id="u1", requested_at=NOW, attempt=3, services=["forms"])
    await participant.on_purge_requested(request, None, tx)
    assert tx.published == []
