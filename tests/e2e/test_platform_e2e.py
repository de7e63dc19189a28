"""The platform, end to end, on real servers: HTTP → MongoDB + outbox → Kafka CloudEvent → another
service consuming it idempotently → one trace across both processes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import UNIT, Tokens, bearer, new_personnummer, service_db
from tests.support.kafka_helpers import eventually, find_record, header, produce

pytestmark = pytest.mark.integration


def spans_of_trace(state_dir: Path, trace_id: str) -> list[dict[str, object]]:
    spans = []
    for path in (state_dir / "traces").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            span = json.loads(line)
            if span["context"]["trace_id"] == f"0x{trace_id}":
                spans.append(span | {"service": path.stem})
    return spans


async def test_plan_started_flows_through_the_platform(
    platform: Platform, tokens: Tokens, mongo, published_programs: list[str]
) -> None:
    therapist = tokens.staff(Role.THERAPIST)
    personnummer = new_personnummer("19650412")
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(therapist),
            json={
                "personnummer": personnummer,
                "patient_name": "E2E, Patient",
                "program_id": "min-vardplan-brostcancer",
                "program_version": "1.0",
            },
        )
    assert response.status_code == 201, response.text
    plan_id = response.json()["id"]

    # (a) stored in the plans service's own database
    stored = await service_db(platform, mongo, "plans")["plans"].find_one({"_id": plan_id})
    assert stored is not None and stored["status"] == "active" and stored["unit_id"] == UNIT

    # (b) a valid CloudEvent in Kafka binary mode, keyed by plan id
    bootstrap = platform.addresses.kafka_bootstrap_servers
    record = await find_record(
        bootstrap,
        "careplan.plans.v1",
        lambda r: r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.plan.started.v1",
    )
    assert header(record, "ce_specversion") == "1.0"
    assert header(record, "ce_source") == "/careplan/plans"
    assert header(record, "ce_subject") == plan_id
    assert header(record, "content-type") == "application/json"
    assert header(record, "ce_id") and header(record, "ce_time")
    payload = json.loads(record.value)
    assert payload["plan_id"] == plan_id and payload["program_version"] == "1.0"
    traceparent = header(record, "traceparent")
    assert traceparent is not None

    # (c) the retention service consumed it ...
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def schedule() -> dict[str, object] | None:
            answer = await retention.get(f"/plans/{plan_id}/retention", headers=bearer(therapist))
            return answer.json() if answer.status_code == 200 else None

        first = await eventually(schedule)
        assert first["status"] == "active" and first["limit_at"].startswith(str(int(first["started_at"][:4]) + 2))

        # ... and a redelivery of the very same record changes nothing
        await produce(bootstrap, record.topic, record.value, record.key, list(record.headers))
        async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
            ended = await plans.post(f"/plans/{plan_id}/end", headers=bearer(therapist), json={"reason": "completed"})
            assert ended.status_code == 200, ended.text
        # the PlanEnded event is behind the duplicate on the same partition: once it shows, the duplicate was seen
        await eventually(lambda: _status_is(retention, plan_id, therapist, "ended"))
    retention_db = service_db(platform, mongo, "retention")
    event_id = header(record, "ce_id")
    assert await retention_db["inbox"].count_documents({"_id": f"retention.plan-events:{event_id}"}) == 1
    plan_timers = [doc["_id"] async for doc in retention_db["timers"].find({"payload.plan_id": plan_id})]
    timers = sorted(t for t in plan_timers if t.startswith(("retention.limit:", "retention.reminder:")))
    assert timers == sorted(
        [f"retention.limit:{plan_id}", f"retention.reminder:60:{plan_id}", f"retention.reminder:14:{plan_id}"]
    )  # each once, despite the redelivery

    # (d) one trace: the HTTP request, the publish, and the consumption in another process
    trace_id = traceparent.split("-")[1]

    def complete_trace() -> list[dict[str, object]] | None:
        spans = spans_of_trace(platform.state_dir, trace_id)
        kinds = {(s["service"], s["kind"]) for s in spans}
        wanted = {("plans", "SpanKind.SERVER"), ("plans", "SpanKind.PRODUCER"), ("retention", "SpanKind.CONSUMER")}
        return spans if wanted <= kinds else None

    spans = await eventually(complete_trace, timeout=10)
    server = next(s for s in spans if s["kind"] == "SpanKind.SERVER")
    assert server["attributes"].get("http.route") == "/plans"


async def _status_is(client: httpx.AsyncClient, plan_id: str, token: str, status: str) -> bool:
    answer = await client.get(f"/plans/{plan_id}/retention", headers=bearer(token))
    return answer.status_code == 200 and answer.json()["status"] == status


async def test_no_personal_data_in_logs_or_traces(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19580630")
    name = "Hemlig, Namnsson"
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff()),
            json={
                "personnummer": personnummer,
                "patient_name": name,
                "program_id": "min-vardplan-brostcancer",
                "program_version": "1.0",
            },
        )
        assert response.status_code == 201
        bad = await plans.post(
            "/plans",
            headers=bearer(tokens.staff()),
            json={
                "personnummer": personnummer[:-1] + str((int(personnummer[-1]) + 1) % 10),
                "patient_name": name,
                "program_id": "min-vardplan-brostcancer",
                "program_version": "1.0",
            },
        )
        assert bad.status_code == 422
    plan_id = response.json()["id"]
    await eventually(lambda: any(plan_id in p.read_text() for p in (platform.state_dir / "traces").glob("*.jsonl")))
    for folder in ("traces", "logs"):
        for path in (platform.state_dir / folder).glob("*"):
            text = path.read_text(errors="replace")
            assert personnummer not in text and personnummer[2:] not in text, f"personnummer in {path}"
            assert name not in text, f"patient name in {path}"
