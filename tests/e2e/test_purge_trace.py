"""A purge is one trace: the data admin's request, every service's handling of the purge request,
each receipt counted by retention and the `plan_purged` publication share one trace id, carry
`careplan.workflow.kind = purge` and the purge id, and no attribute holds the patient's identity."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.stack import Platform
from shared.contracts.purge import PURGING_SERVICES
from shared.contracts.retention import RETENTION_TOPIC
from shared.kernel.roles import Role
from shared.observability.workflow import WORKFLOW_ID, WORKFLOW_KIND, WORKFLOW_STEP
from tests.conftest import Tokens, bearer, new_personnummer
from tests.e2e.test_purge_everywhere import NAME, UNIT, end_and_purge, start_plan
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
Span = dict[str, Any]


def all_spans(state_dir: Path) -> list[Span]:
    """Every finished span of every service (the dev-mode JSON-lines files), with its service's name."""
    spans = []
    for path in (state_dir / "traces").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                spans.append(json.loads(line) | {"service": path.stem})
    return spans


def trace_of(spans: list[Span], trace_id: str) -> list[Span]:
    return [s for s in spans if s["context"]["trace_id"] == trace_id]


def steps(spans: list[Span], service: str, name: str) -> list[Span]:
    """The spans of a workflow step taken in a service (a re-asked service answers more than once)."""
    return [s for s in spans if s["service"] == service and s["attributes"].get(WORKFLOW_STEP) == name]


def step(spans: list[Span], service: str, name: str) -> Span | None:
    found = steps(spans, service, name)
    return found[0] if found else None


def parent(spans: list[Span], span: Span) -> Span | None:
    return next((s for s in spans if s["context"]["span_id"] == span["parent_id"]), None)


def ancestors(spans: list[Span], span: Span) -> list[Span]:
    found, current = [], parent(spans, span)
    while current is not None:
        found.append(current)
        current = parent(spans, current)
    return found


def whole(spans: list[Span]) -> bool:
    """Every parent and every linked span is in the files too (a parent ends after its children, and
    each service writes its spans in batches of its own)."""
    present = {s["context"]["span_id"] for s in spans}
    linked = {link["span_id"] for s in spans if WORKFLOW_ID in s["attributes"] for link in s["links"]}
    return linked <= present and all(s["parent_id"] is None or s["parent_id"] in present for s in spans)


def values(span: Span) -> list[str]:
    """Every attribute value of a span: its own, its links' and its events', and its resource's."""
    maps = [span["attributes"], span["resource"]]
    maps += [link["attributes"] for link in span["links"]] + [event["attributes"] for event in span["events"]]
    return [str(value) for attributes in maps for value in attributes.values()]


async def purge_trace(platform: Platform, purge_id: str) -> list[Span]:
    """The purge's trace once its last spans (plan_purged's publication) are in the span files."""

    def finished() -> list[Span] | None:
        spans = all_spans(platform.state_dir)
        started = next((s for s in spans if s["attributes"].get(WORKFLOW_ID) == purge_id), None)
        if started is None:
            return None
        in_trace = trace_of(spans, started["context"]["trace_id"])
        completed = step(in_trace, "retention", "completed")
        if completed is None or not any(s["parent_id"] == completed["context"]["span_id"] for s in in_trace):
            return None
        handled = {s["service"] for s in in_trace if s["attributes"].get(WORKFLOW_STEP) == "deleted"}
        return in_trace if handled >= set(PURGING_SERVICES) and whole(in_trace) else None

    spans = await eventually(finished, timeout=30)
    assert isinstance(spans, list)
    everywhere = [s for s in all_spans(platform.state_dir) if s["attributes"].get(WORKFLOW_ID) == purge_id]
    assert {s["context"]["trace_id"] for s in everywhere} == {spans[0]["context"]["trace_id"]}  # one trace
    for span in everywhere:
        assert span["attributes"][WORKFLOW_KIND] == "purge", span
    return spans


def assert_each_service_handles_the_request(spans: list[Span]) -> None:
    """A `purge deleted` span in each of the six services, under its consumption of the request."""
    for service in PURGING_SERVICES:
        deleted = step(spans, service, "deleted")
        assert deleted is not None, f"no purge span in {service}"
        assert deleted["attributes"]["careplan.purge.service"] == service
        consumed = parent(spans, deleted)
        assert consumed is not None and consumed["kind"] == "SpanKind.CONSUMER", f"{service}: {consumed}"
        assert consumed["attributes"].get("messaging.destination.name") == RETENTION_TOPIC.name


def assert_receipts_and_completion(spans: list[Span], start_id: str) -> None:
    """Each receipt counted in a step of the workflow, linked to its start and to the receipt's event;
    `plan_purged` published from the `completed` step."""
    consumers = {s["context"]["span_id"] for s in spans if s["service"] == "retention" and "CONSUMER" in s["kind"]}
    for service in PURGING_SERVICES:
        receipt = step(spans, "retention", f"receipt {service}")
        assert receipt is not None, f"the receipt of {service} is not in the trace"
        assert receipt["parent_id"] == start_id
        links = {link["attributes"]["careplan.link"]: link["span_id"] for link in receipt["links"]}
        assert links["workflow_start"] == start_id and links["caused_by"] in consumers  # the receipt's event
    completed = step(spans, "retention", "completed")
    assert completed is not None and completed["parent_id"] == start_id
    published = [s for s in spans if s["parent_id"] == completed["context"]["span_id"] and "PRODUCER" in s["kind"]]
    assert published and all(s["attributes"]["messaging.destination.name"] == RETENTION_TOPIC.name for s in published)


def assert_no_identity(spans: list[Span], personnummer: str) -> None:
    """Nothing of the patient's identity in any attribute of the trace (ids and counts only)."""
    for span in spans:
        for value in values(span):
            assert personnummer not in value and personnummer[2:] not in value, (span["name"], span["service"])
            assert NAME not in value, (span["name"], span["service"])


async def test_a_purge_is_one_trace_from_the_request_to_plan_purged(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19710911")
    plan_id = await start_plan(platform, tokens, personnummer)
    state = await end_and_purge(platform, tokens, plan_id)
    spans = await purge_trace(platform, state["purge_id"])

    # The data admin's request starts it: `purge started` is a child of the POST's server span.
    started = step(spans, "retention", "started")
    assert started is not None
    request = [s for s in ancestors(spans, started) if s["kind"] == "SpanKind.SERVER"]
    assert request and request[-1]["name"] == "POST /plans/{plan_id}/purge", [s["name"] for s in request]
    assert_each_service_handles_the_request(spans)
    assert_receipts_and_completion(spans, started["context"]["span_id"])
    assert_no_identity(spans, personnummer)


def handover(spans: list[Span]) -> list[Span]:
    """Handover's answers to the purge's requests."""
    return steps(spans, "handover", "deleted")


async def test_a_re_requested_purge_stays_in_its_trace(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    """Handover is down: retention's retry timer asks it again (after seconds here, hours in real life),
    and the re-request, handover's late answer and its receipt all join the purge's trace."""
    personnummer = new_personnummer("19710912")
    plan_id = await start_plan(platform, tokens, personnummer)
    platform.stop_service("handover")
    platform.stop_service("retention")
    fast_retry = {"RETENTION_PURGE_RETRY_FIRST_SECONDS": "1", "RETENTION_PURGE_RETRY_MAX_SECONDS": "3"}
    platform.start_service("retention", overrides=fast_retry)
    try:
        platform.wait_ready(["retention"])
        purging = asyncio.create_task(end_and_purge(platform, tokens, plan_id))
        admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT))
        async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

            async def asked_again() -> bool:
                answer = await retention.get(f"/plans/{plan_id}/purge", headers=admin)
                return answer.status_code == 200 and answer.json()["attempts"] >= 2

            await eventually(asked_again, timeout=60)
        platform.start_service("handover")
        platform.wait_ready(["handover"])
        state = await purging

        async def answered_again() -> list[Span] | None:
            """The trace once handover's answers to re-requests are in (it reads them after the first)."""
            spans = await purge_trace(platform, state["purge_id"])
            return spans if any(s["attributes"]["careplan.purge.attempt"] >= 2 for s in handover(spans)) else None

        spans = await eventually(answered_again, timeout=60)  # before retention stops: its last spans
    finally:
        if "handover" not in platform.processes:
            platform.start_service("handover")
        platform.stop_service("retention")
        platform.start_service("retention")
        platform.wait_ready(["retention", "handover"])
    started = step(spans, "retention", "started")
    assert started is not None
    re_requests = [s for s in spans if str(s["attributes"].get(WORKFLOW_STEP, "")).startswith("re-requested")]
    assert re_requests and all(s["parent_id"] == started["context"]["span_id"] for s in re_requests)
    late = [s for s in handover(spans) if s["attributes"]["careplan.purge.attempt"] >= 2]
    assert all(any(a in re_requests for a in ancestors(spans, s)) for s in late)
    assert_receipts_and_completion(spans, started["context"]["span_id"])
    assert_no_identity(spans, personnummer)
