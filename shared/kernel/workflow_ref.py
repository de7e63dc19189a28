"""A reference to where a long workflow's trace began (plain data a domain object may hold; the
tracing itself is in `shared.observability.workflow`)."""

from __future__ import annotations

from pydantic import BaseModel


class WorkflowRef(BaseModel):
    """Where a workflow's trace began (stored with the workflow's state)."""

    kind: str
    workflow_id: str
    trace_id: str
    span_id: str
