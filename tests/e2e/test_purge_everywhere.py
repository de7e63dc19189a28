"""The purge, proven: a plan with messages, answers and notifications is ended and purged, every
service's receipt comes in, and a scan of every database and Redis finds nothing of it, while the
same patient's other plan and the audit trail are still there."""

from __future__ import annotations

import json

import httpx
import pytest

from launcher.catalogue import all_topics
from launcher.purge_verify import Needles, verify
from launcher.stack import Platform
from shared.contracts.plans import PLANS_TOPIC, PlanStarted
from shared.contracts.purge import PURGING_SERVICES
from shared.crypto.envelope import is_envelope
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, find_record, header

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-PURGE1"
BREAST = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}
NAME = "Purgesson, Tilda"


async def start_plan(platform: Platform, tokens: Tokens, personnummer: str) -> str:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(Role.THERAPIST, unit=UNIT)),
            json={"personnummer": personnummer, "patient_name": NAME, **BREAST},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def use_the_plan(platform: Platform, tokens: Tokens, plan_id: str, personnummer: str) -> None:
    """A message and a reply (messaging, plans' flags), preferences and notices (notifications)."""
    patient = bearer(tokens.patient(personnummer))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        preferences = {"email_enabled": True, "email": "tilda@example.se", "sms_enabled": False, "phone": None}
        assert (await api.put("/me/preferences", headers=patient, json=preferences)).status_code == 200
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        body = {"subject": "Fråga", "text": "Hej, jag sover dåligt."}

        async def patient_writes() -> dict | None:
            response = await api.post(f"/plans/{plan_id}/conversations", headers=patient, json=body)
            return response.json() if response.status_code == 201 else None

        first = await eventually(patient_writes, timeout=30)
        assert isinstance(first, dict)
        staff = bearer(tokens.staff(Role.THERAPIST, unit=UNIT))
        reply = await api.post(
            f"/conversations/{first['conversation_id']}/messages", headers=staff, json={"text": "Vi ringer dig."}
        )
        assert reply.status_code == 201, reply.text


async def end_and_purge(platform: Platform, tokens: Tokens, plan_id: str) -> dict:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        ended = await plans.post(
            f"/plans/{plan_id}/end", headers=bearer(tokens.staff(unit=UNIT)), json={"reason": "completed"}
        )
        assert ended.status_code == 200, ended.text
    admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def requested() -> bool:
            answer = await retention.post(
                f"/plans/{plan_id}/purge", headers=admin, json={"force": True, "reason": "test of the purge"}
            )
            return answer.status_code == 202

        await eventually(requested, timeout=30)  # retention hears of the end first

        async def completed() -> dict | None:
            state = (await retention.get(f"/plans/{plan_id}/purge", headers=admin)).json()
            return state if state.get("state") == "completed" else None

        state = await eventually(completed, timeout=90)
    assert isinstance(state, dict)
    return state


async def test_a_purged_plan_leaves_nothing_personal_in_any_database_or_redis(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19750505")
    plan_id = await start_plan(platform, tokens, personnummer)
    await use_the_plan(platform, tokens, plan_id, personnummer)
    other_plan = await start_plan_of_another_program(platform, tokens, personnummer)
    state = await end_and_purge(platform, tokens, plan_id)
    assert sorted(state["received"]) == sorted(PURGING_SERVICES) and state["missing"] == []

    endpoints = json.loads(platform.write_endpoints().read_text())
    report = await verify(endpoints, [], Needles(plan_id=plan_id, personal=[NAME]))
    assert report.findings == [], "\n".join(report.lines())
    assert report.scanned["documents"] > 0
    assert any(k.endswith(".audit") for k in report.kept)  # the audit trail survives, pseudonymised

    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        staff = bearer(tokens.staff(unit=UNIT))
        assert (await plans.get(f"/plans/{plan_id}", headers=staff)).status_code == 404
        assert (await plans.get(f"/plans/{other_plan}", headers=staff)).status_code == 200


async def start_plan_of_another_program(platform: Platform, tokens: Tokens, personnummer: str) -> str:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(unit=UNIT)),
            json={
                "personnummer": personnummer,
                "patient_name": "Purgesson, T.",
                "program_id": "somnhjalpen",
                "program_version": "2025.1",
            },
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_the_only_plan_of_a_patient_purged_leaves_no_trace_of_their_personnummer_in_the_databases(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19770707")
    plan_id = await start_plan(platform, tokens, personnummer)
    await use_the_plan(platform, tokens, plan_id, personnummer)
    await end_and_purge(platform, tokens, plan_id)
    endpoints = json.loads(platform.write_endpoints().read_text())
    report = await verify(endpoints, [], Needles(plan_id=plan_id, personal=[personnummer, NAME]))
    # The patient's notification preferences are theirs, not the plan's: with no plan left they go too.
    assert report.findings == [], "\n".join(report.lines())


async def test_after_a_purge_no_topic_holds_the_patients_identity(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    """Crypto-shredding: the plan's events are on the topics with their personal fields sealed, and the
    purge destroys the key, so a reader of every topic from the beginning finds nothing of the patient."""
    personnummer = new_personnummer("19760606")
    plan_id = await start_plan(platform, tokens, personnummer)
    bootstrap = platform.addresses.kafka_bootstrap_servers if platform.addresses else ""
    record = await find_record(
        bootstrap, PLANS_TOPIC.name, lambda r: r.key == plan_id.encode() and header(r, "ce_type") == PlanStarted.ce_type
    )
    sealed = json.loads(record.value or b"{}")["patient_personnummer"]
    assert is_envelope(sealed) and sealed["kid"] == plan_id  # sealed from the start, not only after the purge
    await end_and_purge(platform, tokens, plan_id)
    endpoints = json.loads(platform.write_endpoints().read_text())
    topics = [t.name for t in all_topics()]
    report = await verify(endpoints, topics, Needles(plan_id=plan_id, personal=[personnummer, NAME]))
    assert report.findings == [], "\n".join(report.lines())  # nothing on the topics, and the key is gone
    assert any(k.endswith("plan_keys") for k in report.kept)  # the destroyed key's marker, by design
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:  # no new key, no plan
        staff = bearer(tokens.staff(unit=UNIT))
        assert (await plans.get(f"/plans/{plan_id}", headers=staff)).status_code == 404
