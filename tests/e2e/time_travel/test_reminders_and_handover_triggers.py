"""Purge reminders (retention's durable timers, days before the 730-day limit) and handover done
reach the patient and the responsible therapist through the notifications service."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from shared.messaging.events import EventRecord
from tests.conftest import Tokens, bearer
from tests.e2e.test_notifications import patient_with_plan
from tests.support.kafka_helpers import eventually, find_record, header, produce
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-REM01"


async def test_purge_reminders_reach_patient_and_responsible_therapist(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        await api.put(
            "/staff/SE2321000016-T001",
            headers=bearer(tokens.staff(Role.PERMISSION_ADMIN, unit=UNIT)),
            json={"unit_id": UNIT, "email": "ansvarig.rem@region.example.se", "roles": ["therapist"]},
        )
    plan_id, _ = await patient_with_plan(platform, tokens, email="patient.rem@example.se", unit=UNIT)
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def known() -> bool:
            answer = await retention.get(f"/plans/{plan_id}/retention", headers=bearer(tokens.staff(unit=UNIT)))
            return answer.status_code == 200

        await eventually(known)

    platform.stop_service("retention")
    platform.start_service(
        "retention", overrides={"CLOCK_OFFSET_SECONDS": str(700 * 86400)}
    )  # day 700: 60-day reminder
    try:
        platform.wait_ready(["retention"])
        bootstrap = platform.addresses.kafka_bootstrap_servers
        reminder = await find_record(
            bootstrap,
            "careplan.retention.v1",
            lambda r: (
                r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.retention.purge_reminder_due.v1"
            ),
            timeout=40,
        )
        assert json.loads(reminder.value)["days_left"] == 60
        patient_mail = await eventually(
            lambda: [m for m in received(platform, "mail") if "patient.rem@example.se" in m["to"]], timeout=30
        )
        assert patient_mail[0]["subject"] == "Din Min vårdplan avslutas snart"
        assert "60 dagar" in patient_mail[0]["body"]
        staff_mail = await eventually(
            lambda: [m for m in received(platform, "mail") if "ansvarig.rem@region.example.se" in m["to"]], timeout=30
        )
        assert "730 dagar" in staff_mail[0]["body"]
    finally:
        platform.stop_service("retention")
        platform.start_service("retention")
        platform.wait_ready(["retention"])


async def test_handover_done_notifies_the_patient(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, _ = await patient_with_plan(platform, tokens, email="flyttad@example.se", unit=UNIT)
    record = EventRecord(
        id=str(uuid.uuid4()),
        ce_type="se.careplan.handover.completed.v1",
        source="/careplan/handover",
        topic="careplan.handover.v1",
        key=plan_id,
        time=datetime.now(UTC),
        data={"plan_id": plan_id, "unit_id": UNIT, "to_unit_id": "SE2321000016-REM02"},
    )
    message = record.to_kafka()
    await produce(
        platform.addresses.kafka_bootstrap_servers,
        record.topic,
        message.value,
        plan_id.encode(),
        list(message.headers.items()),
    )
    mail = await eventually(
        lambda: [m for m in received(platform, "mail") if "flyttad@example.se" in m["to"]], timeout=30
    )
    assert mail[0]["subject"] == "Din vårdplan har flyttats"
