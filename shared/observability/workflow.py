"""Tracing of workflows that last days (a reply SLA, a 730-day purge): one short span per step.

The first step stores a `WorkflowRef` with the state it belongs to. Each later step (a timer
firing days later, a reply) is a new short span that continues the workflow's trace (its parent
is the stored span) and links to it, and carries `careplan.workflow.id` / `.kind`, so an SRE
finds every step of one workflow by its trace id or its workflow id. No span stays open.

A step taken in another service (e.g. a purge participant answering the request) has no stored
reference: it runs in the trace context the event carried, and `workflow_span` marks it with the
same attributes. Events published inside a step's span travel in that span's trace context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, TraceFlags

from shared.kernel.workflow_ref import WorkflowRef

WORKFLOW_ID = "careplan.workflow.id"
WORKFLOW_KIND = "careplan.workflow.kind"
WORKFLOW_STEP = "careplan.workflow.step"
_tracer = trace.get_tracer("careplan.workflow")
__all__ = [
    "WORKFLOW_ID",
    "WORKFLOW_KIND",
    "WORKFLOW_STEP",
    "WorkflowRef",
    "start_workflow",
    "workflow_span",
    "workflow_step",
]


def span_context(ref: WorkflowRef) -> SpanContext:
    """The stored start of a workflow as a remote span context to parent and link later steps on."""
    return SpanContext(
        trace_id=int(ref.trace_id, 16),
        span_id=int(ref.span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def start_workflow(kind: str, workflow_id: str) -> WorkflowRef:
    """A short span marking the start, as a child of the current span (e.g. the HTTP request)."""
    with _tracer.start_as_current_span(
        f"{kind} started", attributes={WORKFLOW_ID: workflow_id, WORKFLOW_KIND: kind, WORKFLOW_STEP: "started"}
    ) as span:
        context = span.get_span_context()
    return WorkflowRef(
        kind=kind, workflow_id=workflow_id, trace_id=f"{context.trace_id:032x}", span_id=f"{context.span_id:016x}"
    )


@contextmanager
def workflow_step(ref: WorkflowRef, step: str, *, link_current: bool = False) -> Iterator[Span]:
    """A span for one later step, in the workflow's trace and linked to its start.

    With `link_current`, the span also links to the span active now (e.g. the reply's request),
    so the two traces lead to each other.
    """
    links = [Link(span_context(ref), {"careplan.link": "workflow_start"})]
    current = trace.get_current_span().get_span_context()
    if link_current and current.is_valid:
        links.append(Link(current, {"careplan.link": "caused_by"}))
    parent = trace.set_span_in_context(NonRecordingSpan(span_context(ref)))
    with _tracer.start_as_current_span(
        f"{ref.kind} {step}",
        context=parent,
        links=links,
        attributes={WORKFLOW_ID: ref.workflow_id, WORKFLOW_KIND: ref.kind, WORKFLOW_STEP: step},
    ) as span:
        yield span


@contextmanager
def workflow_span(kind: str, workflow_id: str, step: str) -> Iterator[Span]:
    """A span for a step taken where only the workflow's id is known (a consumer of the workflow's
    event): a child of the current span, which the event's trace context made part of the workflow."""
    with _tracer.start_as_current_span(
        f"{kind} {step}", attributes={WORKFLOW_ID: workflow_id, WORKFLOW_KIND: kind, WORKFLOW_STEP: step}
    ) as span:
        yield span
