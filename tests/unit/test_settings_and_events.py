"""Settings errors name the variable; CloudEvents round-trip in Kafka binary mode."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.messaging.events import EVENT_TYPES, EventRecord, MalformedEvent, parse_kafka_record

ROOT = Path(__file__).resolve().parents[2]


def start_service(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "REDIS_URL", "AUTH_PUBLIC_KEY_FILE"}
    }
    return subprocess.run(
        [sys.executable, "-c", "from services.plans.bootstrap import create_app; create_app()"],
        env=clean | env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_a_missing_setting_fails_at_start_naming_it() -> None:
    result = start_service({"MONGODB_URI": "mongodb://localhost:1", "REDIS_URL": "redis://localhost:1"})
    assert result.returncode == 2
    assert "setting KAFKA_BOOTSTRAP_SERVERS is missing" in result.stderr


def test_a_wrong_setting_fails_at_start_naming_it() -> None:
    result = start_service(
        {"KAFKA_BOOTSTRAP_SERVERS": "localhost", "MONGODB_URI": "postgres://x", "REDIS_URL": "redis://localhost:1"}
    )
    assert result.returncode == 2
    assert "setting KAFKA_BOOTSTRAP_SERVERS is invalid" in result.stderr
    assert "setting MONGODB_URI is invalid" in result.stderr


def test_events_round_trip_as_binary_mode_cloudevents() -> None:
    from shared.contracts.plans import PlanStarted

    event = PlanStarted(
        plan_id="p-1",
        unit_id="SE2321000016-U1",
        patient_personnummer="191212121212",
        protected_identity=False,
        program_id="prog",
        program_version="1.0",
        responsible_hsa_id="SE2321000016-A1",
        started_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    record = EventRecord.from_event(event, source="/careplan/plans", time=datetime(2026, 1, 5, tzinfo=UTC))
    message = record.to_kafka()
    assert message.key == "p-1"
    assert message.headers["ce_type"] == b"se.careplan.plan.started.v1"
    assert message.headers["ce_specversion"] == b"1.0"
    assert message.headers["content-type"] == b"application/json"
    received = parse_kafka_record(message.headers, b"p-1", message.value)
    assert received.id == record.id and received.key == "p-1"
    assert PlanStarted.model_validate(received.data) == event
    assert EVENT_TYPES["se.careplan.plan.started.v1"] is PlanStarted


@pytest.mark.parametrize(
    "headers, value, reason",
    [
        ({}, b"{}", "missing ce_id"),
        (
            {"ce_id": b"1", "ce_type": b"t", "ce_specversion": b"1.0", "content-type": b"application/json"},
            b"{}",
            "source",
        ),
        (
            {
                "ce_id": b"1",
                "ce_type": b"t",
                "ce_source": b"/s",
                "ce_specversion": b"1.0",
                "content-type": b"application/json",
            },
            b"[1, 2]",
            "not a JSON object",
        ),
    ],
)
def test_malformed_records_are_named(headers: dict[str, bytes], value: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_kafka_record(headers, None, value)
