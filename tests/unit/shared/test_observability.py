"""What an operator reads: log lines with ISO timestamps and the consumed event's coordinates, progress
lines that neither flood nor stay silent, spans without the caller's address, scrapes that never hang."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from services.notifications.adapters import provider_spans
from services.notifications.adapters.provider_spans import OUTCOME, provider_span
from services.notifications.domain.outcomes import Outcome
from shared.observability.log_context import log_fields
from shared.observability.metrics import BacklogSampler
from shared.observability.progress import ProgressLog
from shared.observability.redaction import RedactingExporter
from shared.observability.telemetry import configure_logging


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def captured_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    configure_logging("testservice", "INFO")
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_has_an_iso_timestamp_with_zone_and_the_consumed_events_coordinates(
    captured_log: io.StringIO,
) -> None:
    log = logging.getLogger("careplan.test")
    with log_fields(ce_id="e-1", topic="careplan.plans.v1", partition=3, offset=42, consumer="forms.plan-events"):
        log.warning("handled")
    log.warning("outside")

    inside, outside = log_lines(captured_log)
    stamp = datetime.fromisoformat(str(inside["time"]))
    assert stamp.utcoffset() is not None  # the zone is in the timestamp
    assert inside["service"] == "testservice" and inside["level"] == "WARNING"
    assert (inside["ce_id"], inside["topic"], inside["partition"], inside["offset"]) == (
        "e-1",
        "careplan.plans.v1",
        3,
        42,
    )
    assert "ce_id" not in outside  # the fields end with the block


def test_progress_is_logged_at_once_then_summed_per_interval(captured_log: io.StringIO) -> None:
    progress = ProgressLog(logging.getLogger("careplan.relay"), "events relayed", interval=3600)
    progress.note("careplan.plans.v1", 5)  # the first thing done shows at once
    progress.note("careplan.plans.v1", 7)  # within the interval: summed, not logged
    progress.note("careplan.forms.v1", 1)
    progress.flush()

    first, summed = log_lines(captured_log)
    assert "careplan.plans.v1 5" in str(first["message"])
    assert "careplan.forms.v1 1, careplan.plans.v1 7" in str(summed["message"])


def test_spans_leave_without_the_callers_address_or_user_agent() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(exported)))
    attributes = {
        "http.request.method": "GET",
        "client.address": "10.1.2.3",
        "user_agent.original": "Mozilla/5.0 (iPhone)",
        "network.peer.address": "10.1.2.3",
    }
    with provider.get_tracer("t").start_as_current_span("GET /plans/{plan_id}", attributes=attributes):
        pass

    (span,) = exported.get_finished_spans()
    assert dict(span.attributes or {}) == {"http.request.method": "GET"}


def test_a_failed_delivery_marks_its_provider_span_as_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(provider_spans, "_tracer", provider.get_tracer("t"))

    with provider_span("smtp send", protocol="smtp", host="smtp.example", port=25) as call:
        call.outcomes.append(Outcome("failed", "recipient refused"))
    with provider_span("POST /batches", protocol="http", host="sms.example", port=443, method="POST") as call:
        call.outcomes.extend([Outcome("sent"), Outcome("sent")])
        call.status_code = 200

    failed, sent = exported.get_finished_spans()
    assert failed.kind is SpanKind.CLIENT and failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None and failed.attributes[OUTCOME] == "failed"
    assert sent.status.status_code is not StatusCode.ERROR
    assert sent.attributes is not None and sent.attributes["http.response.status_code"] == 200
    assert "smtp.example" not in json.dumps(dict(sent.attributes))  # each span names its own server only


class _Probe:
    def __init__(self, name: str, delay: float = 0.0, fail: bool = False) -> None:
        self.name, self.delay, self.fail, self.samples = name, delay, fail, 0

    async def sample(self) -> None:
        self.samples += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("server away")


async def test_a_scrape_is_bounded_by_the_timeout_and_a_failing_probe_is_counted() -> None:
    hanging, failing, fine = _Probe("hanging", delay=30), _Probe("failing", fail=True), _Probe("fine")
    sampler = BacklogSampler("testsvc", [hanging, failing, fine], min_interval=60, timeout=0.2)

    await asyncio.wait_for(sampler.refresh(), 5)  # never hangs on a server that does not answer
    await sampler.refresh()  # within the interval: not sampled again

    assert (hanging.samples, failing.samples, fine.samples) == (1, 1, 1)
    failures = "careplan_backlog_sample_failures_total"
    assert REGISTRY.get_sample_value(failures, {"service": "testsvc", "probe": "hanging"}) == 1
    assert REGISTRY.get_sample_value(failures, {"service": "testsvc", "probe": "failing"}) == 1
    assert REGISTRY.get_sample_value(failures, {"service": "testsvc", "probe": "fine"}) is None
