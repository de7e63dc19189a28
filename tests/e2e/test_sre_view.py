"""What an SRE sees of a running platform: every metric the alerting rules and the dashboard query is
exposed by the services; an announcement's fan-out is one trace down to each provider call; a bad event
shows in the log with its coordinates and in the dead-letter metrics; the logs are ISO-stamped JSON that
report start-up, partition assignment and relay progress."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.loadtest import recipient_documents
from launcher.monitoring import exposed_metrics, expressions, referenced_metrics
from launcher.stack import Platform
from services.notifications.adapters.provider_spans import OUTCOME
from shared.kernel.roles import Role
from shared.observability.workflow import WORKFLOW_ID, WORKFLOW_STEP
from tests.conftest import Tokens, bearer, service_db
from tests.e2e.test_handover_trace import connected
from tests.e2e.test_purge_trace import Span, all_spans, ancestors, trace_of, values
from tests.e2e.test_unit_lists import publish_as
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
SERVICES = ("plans", "messaging", "forms", "notifications", "retention", "handover")
FANOUT_UNIT = "SE2321000016-SRE01"
RECIPIENTS = 1001  # three batches of at most 500


async def seed_recipients(platform: Platform) -> None:
    """Recipients in notifications' read model (as if their plans' start events had been consumed)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.addresses.mongodb_uri)
    db = service_db(platform, client, "notifications")
    chosen = {"email_enabled": False, "email": None, "sms_enabled": True}
    documents = [
        recipient_documents(f"sre-plan-{i}", FANOUT_UNIT, f"1991{i:08d}", chosen | {"phone": f"+4673{i:07d}"})
        for i in range(RECIPIENTS)
    ]
    await db["preferences"].insert_many([preferences for _, preferences in documents])
    await db["plans"].insert_many([plan for plan, _ in documents])
    await client.close()


async def scrape(platform: Platform, service: str) -> str:
    async with httpx.AsyncClient(base_url=platform.urls[service], timeout=30) as api:
        response = await api.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_every_metric_the_rules_and_the_dashboard_query_is_exposed(platform: Platform) -> None:
    exposed: set[str] = set()
    for text in await asyncio.gather(*(scrape(platform, s) for s in SERVICES)):
        exposed |= exposed_metrics(text)

    queried = referenced_metrics(expressions())
    assert len(queried) > 15  # the rules and panels were read
    assert queried - exposed == set(), "queried but exposed by no service"


def log_lines(platform: Platform, service: str) -> list[dict[str, Any]]:
    text = (platform.state_dir / "logs" / f"{service}.log").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_a_bad_event_is_logged_with_its_coordinates_and_counted_as_a_dead_letter(platform: Platform) -> None:
    plan_id = f"sre-{uuid.uuid4()}"
    # plan.started without the fields every consumer needs: invalid for each of them
    await publish_as(platform, "careplan.plans.v1", "/careplan/plans", "se.careplan.plan.started.v1", plan_id, {})

    def warned() -> dict[str, Any] | None:
        return next(
            (
                line
                for line in log_lines(platform, "messaging")
                if "dead-lettering" in line["message"]
                and line.get("ce_type") == "se.careplan.plan.started.v1"
                and plan_id not in json.dumps(line)
                and line.get("topic") == "careplan.plans.v1"
                and line.get("offset") is not None
                and line.get("ce_id")
                and line.get("partition") is not None
            ),
            None,
        )

    line = await eventually(warned, timeout=30)
    assert isinstance(line, dict) and line["level"] == "WARNING" and line["consumer"].startswith("messaging.")
    metrics = await scrape(platform, "messaging")
    counted = [
        m for m in metrics.splitlines() if m.startswith("careplan_dead_letters_total{") and 'reason="invalid"' in m
    ]
    assert counted and float(counted[0].rsplit(" ", 1)[1]) >= 1


async def fanout_trace(platform: Platform, announcement_id: str) -> list[Span]:
    """The announcement's trace once every batch and its provider calls are in the span files."""

    def finished() -> list[Span] | None:
        spans = all_spans(platform.state_dir)
        steps = [s for s in spans if s["attributes"].get(WORKFLOW_ID) == announcement_id]
        batches = [s for s in steps if s["attributes"].get(WORKFLOW_STEP) == "batch"]
        if len(batches) < 3:
            return None
        in_trace = trace_of(spans, steps[0]["context"]["trace_id"])
        calls = [s for s in in_trace if "CLIENT" in s["kind"] and OUTCOME in s["attributes"]]
        return (
            in_trace
            if len({s["attributes"].get(WORKFLOW_ID) for s in steps}) == 1 and calls and connected(in_trace)
            else None
        )

    found = await eventually(finished, timeout=120, interval=1)
    assert isinstance(found, list)
    return found


async def test_an_announcement_fan_out_is_one_trace_down_to_each_provider_call(
    platform: Platform, tokens: Tokens
) -> None:
    await seed_recipients(platform)
    admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=FANOUT_UNIT))
    body = {"scope": "unit", "subject": "Ny telefontid", "text": "Vi svarar 8-10.", "channels": ["sms"]}
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        created = await api.post("/announcements", headers=admin, json=body)
    assert created.status_code == 201, created.text
    announcement_id = created.json()["id"]

    spans = await fanout_trace(platform, announcement_id)

    everywhere = [s for s in all_spans(platform.state_dir) if s["attributes"].get(WORKFLOW_ID) == announcement_id]
    assert {s["context"]["trace_id"] for s in everywhere} == {spans[0]["context"]["trace_id"]}  # one trace
    request = next(s for s in spans if "SERVER" in s["kind"] and s["attributes"].get("http.route") == "/announcements")
    fanout = next(s for s in everywhere if s["attributes"][WORKFLOW_STEP] == "fanout")
    assert fanout["attributes"]["careplan.fanout.batches"] == 3
    assert fanout["attributes"]["careplan.fanout.recipients"] == RECIPIENTS
    batches = [s for s in everywhere if s["attributes"][WORKFLOW_STEP] == "batch"]
    for batch in batches:  # each batch under the split, which is under the request
        assert fanout in ancestors(spans, batch) and request in ancestors(spans, batch)
    calls = [s for s in spans if "CLIENT" in s["kind"] and OUTCOME in s["attributes"]]
    assert all(any(b in ancestors(spans, call) for b in batches) for call in calls)  # each call under its batch
    assert sum(call["attributes"]["careplan.delivery.count"] for call in calls) >= RECIPIENTS // 2
    consumed = [s for s in spans if "CONSUMER" in s["kind"]]
    assert all(s["name"] == f"process {s['attributes']['messaging.destination.name']}" for s in consumed)
    assert all("messaging.consumer.group.name" in s["attributes"] for s in consumed)
    flat = json.dumps([values(s) for s in spans])
    assert "+4673" not in flat and "19910000" not in flat  # no number or identity of a recipient


def test_the_logs_are_iso_stamped_json_with_start_up_assignment_and_relay_progress(platform: Platform) -> None:
    """Runs after the fan-out, whose request notifications' relay published."""
    for service in SERVICES:
        lines = log_lines(platform, service)
        assert lines, f"{service} wrote no log"
        for line in lines:
            assert datetime.fromisoformat(line["time"]).utcoffset() is not None, line
            assert line["service"] == service
        messages = [line["message"] for line in lines]
        assert any(m.startswith(f"{service} started as") for m in messages), service
        assert any(m.startswith("Setting newly assigned partitions") for m in messages), service
    relayed = [line["message"] for line in log_lines(platform, "notifications")]  # the announcement's request
    assert any(m.startswith("outbox events relayed") and "careplan.notifications.work.v1" in m for m in relayed)
