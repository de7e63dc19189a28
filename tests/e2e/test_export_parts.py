"""The services' side of the journal export, on the real servers: a plan is written in (a message and
a reply, an answer, a notification), ended, and retention's export request is answered by each of the
five data-holding services with its part, on its own topic, holding what the user wrote (and never
an address); the part's content is sealed with the plan's key on Kafka and opens with it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from shared.contracts.export import (
    EXPORTING_SERVICES,
    PART_MODELS,
    FormsPart,
    HandoverPart,
    MessagingPart,
    NotificationsPart,
    PlanPart,
    export_part_type,
)
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested
from shared.crypto.mongo_keyring import MongoKeyring
from shared.messaging.events import EVENT_TYPES, EventRecord
from shared.messaging.sealing import open_payload
from shared.settings import PlatformSettings
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, find_record, header, produce
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-EXPO01"
NAME = "Exportsson, Elsa"
EMAIL = "elsa.exportsson@example.se"
QUESTION, REPLY = "Hej, jag sover dåligt efter operationen.", "Vi ringer dig i morgon."
WHAT_MATTERS = "Att orka promenera med hunden."


async def written_plan(platform: Platform, tokens: Tokens, personnummer: str) -> str:
    """A plan with the patient's e-mail preference, a message, a staff reply (e-mailed), an answer."""
    staff, patient = bearer(tokens.staff(unit=UNIT)), bearer(tokens.patient(personnummer))
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        started = await plans.post(
            "/plans",
            headers=staff,
            json={"personnummer": personnummer, "patient_name": NAME, "program_id": "min-vardplan-brostcancer"}
            | {"program_version": "1.0"},
        )
    assert started.status_code == 201, started.text
    plan_id = str(started.json()["id"])
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        preferences = {"email_enabled": True, "email": EMAIL, "sms_enabled": False, "phone": None}
        assert (await api.put("/me/preferences", headers=patient, json=preferences)).status_code == 200
    await converse(platform, plan_id, patient, staff)
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:

        async def answered() -> bool:
            url = f"/plans/{plan_id}/forms/what_matters_to_me/responses"
            return (
                await forms.post(url, headers=patient, json={"answers": {"answer": WHAT_MATTERS}})
            ).status_code == 201

        await eventually(answered, timeout=30)
    await eventually(lambda: [m for m in received(platform, "mail") if EMAIL in m["to"]], timeout=30)
    return plan_id


async def converse(platform: Platform, plan_id: str, patient: dict[str, str], staff: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:

        async def patient_writes() -> dict[str, Any] | None:
            body = {"subject": "Sömn", "text": QUESTION}
            response = await api.post(f"/plans/{plan_id}/conversations", headers=patient, json=body)
            return response.json() if response.status_code == 201 else None

        first = await eventually(patient_writes, timeout=30)
        assert isinstance(first, dict)
        url = f"/conversations/{first['conversation_id']}/messages"
        assert (await api.post(url, headers=staff, json={"text": REPLY})).status_code == 201


async def end(platform: Platform, tokens: Tokens, plan_id: str) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        ended = await plans.post(
            f"/plans/{plan_id}/end", headers=bearer(tokens.staff(unit=UNIT)), json={"reason": "completed"}
        )
    assert ended.status_code == 200, ended.text


async def request_export(platform: Platform, plan_id: str, export_id: str) -> None:
    """What retention publishes when a plan ends, produced here by hand (binary-mode CloudEvent)."""
    now = datetime.now(UTC)
    asked = ExportRequested(plan_id=plan_id, export_id=export_id, requested_at=now, services=list(EXPORTING_SERVICES))
    message = EventRecord.from_event(asked, source="/careplan/retention", time=now).to_kafka()
    assert platform.addresses is not None
    bootstrap = platform.addresses.kafka_bootstrap_servers
    await produce(bootstrap, RETENTION_TOPIC.name, message.value, plan_id.encode(), list(message.headers.items()))


async def export_parts(platform: Platform, plan_id: str, export_id: str) -> dict[str, dict[str, Any]]:
    """Each service's part of this export, read off the service's own topic."""
    assert platform.addresses is not None
    parts: dict[str, dict[str, Any]] = {}
    for service in EXPORTING_SERVICES:
        ce_type = export_part_type(service)

        def ours(record: Any, ce_type: str = ce_type) -> bool:
            if record.key != plan_id.encode() or header(record, "ce_type") != ce_type:
                return False
            return bool(json.loads(record.value)["export_id"] == export_id)

        topic = EVENT_TYPES[ce_type].topic.name
        record = await find_record(platform.addresses.kafka_bootstrap_servers, topic, ours, timeout=60)
        payload = await opened(platform, json.loads(record.value))
        assert payload["service"] == service and payload["plan_id"] == plan_id
        parts[service] = payload["content"]
        PART_MODELS[service].model_validate(parts[service])
    return parts


async def opened(platform: Platform, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its sealed (personal) fields opened with the plan's key, as a consumer sees it."""
    assert platform.addresses is not None
    env = platform.service_env("plans")
    uri = env.get("KEYRING_MONGODB_URI") or platform.addresses.mongodb_uri
    database = env.get("KEYRING_DATABASE") or PlatformSettings.model_fields["keyring_database"].default
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        return await open_payload(payload, MongoKeyring(client[database]))
    finally:
        await client.close()


async def test_every_data_holding_service_answers_with_its_part_of_an_ended_plan(
    platform: Platform, tokens: Tokens, published_programs: list[str], published_forms: list[str]
) -> None:
    personnummer = new_personnummer("19610606")
    plan_id = await written_plan(platform, tokens, personnummer)
    await end(platform, tokens, plan_id)
    export_id = str(uuid.uuid4())

    await request_export(platform, plan_id, export_id)
    parts = await export_parts(platform, plan_id, export_id)

    plan = PlanPart.model_validate(parts["plans"])
    assert (plan.patient_personnummer, plan.patient_name, plan.unit_id) == (personnummer, NAME, UNIT)
    assert (plan.program_id, plan.program_version, plan.end_reason) == ("min-vardplan-brostcancer", "1.0", "completed")
    assert plan.modules and plan.welcome_text and plan.audit.counts["create plan"] == 1
    [conversation] = MessagingPart.model_validate(parts["messaging"]).conversations
    assert [(m.author_kind, m.text) for m in conversation.messages] == [("patient", QUESTION), ("staff", REPLY)]
    [answer] = FormsPart.model_validate(parts["forms"]).responses
    assert (answer.form_id, answer.answers[0]["answer"]) == ("what_matters_to_me", WHAT_MATTERS)
    notifications = NotificationsPart.model_validate(parts["notifications"]).notifications
    assert ("new_message", "email", "sent") in {(n.trigger_kind, n.channel, n.state) for n in notifications}
    assert EMAIL not in json.dumps(parts["notifications"])
    assert HandoverPart.model_validate(parts["handover"]).handovers == []
