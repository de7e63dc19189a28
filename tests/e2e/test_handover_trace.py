"""A handover is one trace: the request, the acceptance, the plans service moving the plan, every
service applying the move and confirming, and the completion share one trace id; the handover's
own steps carry `careplan.workflow.kind = handover` and its id, and no attribute holds the patient's
identity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from shared.observability.workflow import WORKFLOW_ID, WORKFLOW_KIND, WORKFLOW_STEP
from tests.conftest import Tokens
from tests.e2e.test_handover import RESPONSIBLE, TO, call, initiate, plan_with_a_message, staff, units
from tests.e2e.test_purge_trace import Span, all_spans, trace_of
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
__all__ = ["units"]  # the module-scoped fixture, shared with test_handover
SERVICES = {"plans", "messaging", "forms", "notifications", "retention", "handover"}


def connected(spans: list[Span]) -> bool:
    """Every span's parent is in the trace (no step started a trace of its own); the steps' links to
    the requests that took them point into those requests' traces, so they are not counted here."""
    present = {s["context"]["span_id"] for s in spans}
    return all(s["parent_id"] is None or s["parent_id"] in present for s in spans)


async def handover_trace(platform: Platform, handover_id: str) -> list[Span]:
    """The handover's trace once every service's handling of it, and the completion, are in the span files."""

    def finished() -> list[Span] | None:
        spans = all_spans(platform.state_dir)
        started = next((s for s in spans if s["attributes"].get(WORKFLOW_ID) == handover_id), None)
        if started is None:
            return None
        in_trace = trace_of(spans, started["context"]["trace_id"])
        consumed = {s["service"] for s in in_trace if "CONSUMER" in s["kind"]}
        completed = any(s["attributes"].get(WORKFLOW_STEP) == "completed" for s in in_trace)
        return in_trace if completed and consumed >= SERVICES and connected(in_trace) else None

    try:
        found = await eventually(finished, timeout=45)
    except AssertionError:
        spans = all_spans(platform.state_dir)
        ids = {s["context"]["trace_id"] for s in spans if s["attributes"].get(WORKFLOW_ID) == handover_id}
        services = {s["service"] for s in spans if s["context"]["trace_id"] in ids and "CONSUMER" in s["kind"]}
        raise AssertionError(f"traces {ids}; services consuming in them: {sorted(services)}") from None
    assert isinstance(found, list)
    return found


async def test_a_handover_is_one_trace_across_every_service(platform: Platform, tokens: Tokens, units: None) -> None:
    plan_id, personnummer = await plan_with_a_message(platform, tokens, "spar.hov@example.se")
    handover_id = (await initiate(platform, tokens, plan_id, TO)).json()["handover_id"]
    admin = staff(tokens, TO, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")
    body = {"responsible_hsa_id": RESPONSIBLE}
    accepted = await call(platform, "handover", "POST", f"/handovers/{handover_id}/accept", admin, json=body)
    assert accepted.status_code == 200, accepted.text

    spans = await handover_trace(platform, handover_id)

    steps = {s["attributes"].get(WORKFLOW_STEP) for s in spans if s["attributes"].get(WORKFLOW_ID) == handover_id}
    assert {"started", "accepted", "completed"} <= steps
    everywhere = [s for s in all_spans(platform.state_dir) if s["attributes"].get(WORKFLOW_ID) == handover_id]
    assert {s["context"]["trace_id"] for s in everywhere} == {spans[0]["context"]["trace_id"]}  # one trace
    assert all(s["attributes"][WORKFLOW_KIND] == "handover" for s in everywhere)
    attributes: Any = [s["attributes"] for s in spans]
    assert personnummer not in json.dumps(attributes)
