"""Handover through HTTP on the real servers, all six services: a plan with a patient's unanswered
message moves to another unit running its version; afterwards every service answers the old unit
exactly like a missing plan (with a token issued before) and the new unit with the data; declined,
withdrawn and refused (version mismatch) handovers leave the plan where it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from launcher.stack import Platform
from services.messaging.domain.sla import reply_deadline
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
FROM, TO, ELSEWHERE, OTHER_VERSION = (
    "SE2321000016-HOV001",
    "SE2321000016-HOV002",
    "SE2321000016-HOV003",
    "SE2321000016-HOV004",
)
BREAST = {"program_id": "min-vardplan-brostcancer", "version": "1.0"}
SLEEP = {"program_id": "somnhjalpen", "version": "2025.1"}
RESPONSIBLE = "SE2321000016-HOVT22"


def staff(tokens: Tokens, unit: str, *roles: Role, hsa_id: str = "SE2321000016-HOVT01") -> dict[str, str]:
    return bearer(tokens.staff(*(roles or (Role.THERAPIST,)), unit=unit, hsa_id=hsa_id))


async def call(
    platform: Platform, service: str, method: str, path: str, headers: dict[str, str], **kw: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=platform.urls[service], timeout=30) as api:
        return await api.request(method, path, headers=headers, **kw)


@pytest.fixture(scope="module")
async def units(platform: Platform, tokens: Tokens, published_programs: list[str]) -> None:
    """Three units run the breast-cancer plan's version; one runs only the sleep program."""
    for unit, programs in ((FROM, [BREAST]), (TO, [BREAST]), (ELSEWHERE, [BREAST]), (OTHER_VERSION, [SLEEP])):
        admin = staff(tokens, unit, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA01")
        answer = await call(platform, "plans", "PUT", "/units/me/programs", admin, json={"programs": programs})
        assert answer.status_code == 200, answer.text
    admin = staff(tokens, TO, Role.PERMISSION_ADMIN)
    entry = {"unit_id": TO, "email": "ansvarig.hov@region.example.se", "roles": ["therapist"]}
    assert (await call(platform, "notifications", "PUT", f"/staff/{RESPONSIBLE}", admin, json=entry)).status_code == 204


async def plan_with_a_message(platform: Platform, tokens: Tokens, email: str) -> tuple[str, str]:
    personnummer = new_personnummer("19700101")
    body = {"personnummer": personnummer, "patient_name": "Överlämnad, Olga", "program_id": BREAST["program_id"]}
    started = await call(
        platform, "plans", "POST", "/plans", staff(tokens, FROM), json={**body, "program_version": "1.0"}
    )
    assert started.status_code == 201, started.text
    plan_id = started.json()["id"]
    patient = bearer(tokens.patient(personnummer))
    preferences = {"email_enabled": True, "email": email, "sms_enabled": False, "phone": None}
    assert (
        await call(platform, "notifications", "PUT", "/me/preferences", patient, json=preferences)
    ).status_code == 200

    async def patient_writes() -> bool:
        message = {"subject": "Fråga", "text": "Hur gör jag nu?"}
        answer = await call(platform, "messaging", "POST", f"/plans/{plan_id}/conversations", patient, json=message)
        return answer.status_code == 201

    await eventually(patient_writes, timeout=30)
    await eventually(lambda: handover_sees_plan(platform, tokens, plan_id), timeout=30)
    return plan_id, personnummer


async def handover_sees_plan(platform: Platform, tokens: Tokens, plan_id: str) -> bool:
    answer = await call(platform, "handover", "GET", f"/plans/{plan_id}/handovers", staff(tokens, FROM))
    return answer.status_code == 200


async def initiate(platform: Platform, tokens: Tokens, plan_id: str, to: str) -> httpx.Response:
    body = {"to_unit_id": to, "consent": {"method": "verbal"}}
    response: httpx.Response = await call(
        platform, "handover", "POST", f"/plans/{plan_id}/handovers", staff(tokens, FROM), json=body
    )
    return response


PLAN_READS = {
    "plans": "/plans/{id}",
    "messaging": "/plans/{id}/conversations",
    "forms": "/plans/{id}/flags",
    "retention": "/plans/{id}/retention",
    "handover": "/plans/{id}/handovers",
}


async def statuses(platform: Platform, plan_id: str, headers: dict[str, str]) -> dict[str, int]:
    return {
        service: (await call(platform, service, "GET", path.format(id=plan_id), headers)).status_code
        for service, path in PLAN_READS.items()
    }


async def test_an_accepted_handover_moves_the_plan_and_the_old_unit_is_refused_everywhere(
    platform: Platform, tokens: Tokens, units: None
) -> None:
    plan_id, personnummer = await plan_with_a_message(platform, tokens, "olga.hov@example.se")
    old_token = staff(tokens, FROM)  # issued before the handover
    created = await initiate(platform, tokens, plan_id, TO)
    assert created.status_code == 201, created.text
    handover_id = created.json()["handover_id"]

    admin = staff(tokens, TO, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")
    incoming = (await call(platform, "handover", "GET", "/units/me/handovers/incoming", admin)).json()
    assert [(h["handover_id"], h["patient_personnummer"]) for h in incoming] == [(handover_id, personnummer)]
    not_admin = await call(
        platform,
        "handover",
        "POST",
        f"/handovers/{handover_id}/accept",
        staff(tokens, TO),
        json={"responsible_hsa_id": RESPONSIBLE},
    )
    assert not_admin.status_code == 403
    for _ in range(2):  # a double click: one effect
        accepted = await call(
            platform,
            "handover",
            "POST",
            f"/handovers/{handover_id}/accept",
            admin,
            json={"responsible_hsa_id": RESPONSIBLE},
        )
        assert accepted.status_code == 200, accepted.text

    async def completed() -> dict[str, Any] | None:
        answer: dict[str, Any] = (await call(platform, "handover", "GET", f"/handovers/{handover_id}", admin)).json()
        return answer if answer["state"] == "completed" else None

    try:
        await eventually(completed, timeout=180)
    except AssertionError:
        state = (await call(platform, "handover", "GET", f"/handovers/{handover_id}", admin)).json()
        raise AssertionError(f"not completed: {state['state']}, confirmed by {state['confirmed_by']}") from None
    assert await statuses(platform, plan_id, old_token) == dict.fromkeys(PLAN_READS, 404)  # at once, everywhere
    new_token = staff(tokens, TO, hsa_id=RESPONSIBLE)
    assert await statuses(platform, plan_id, new_token) == dict.fromkeys(PLAN_READS, 200)
    conversations = (await call(platform, "messaging", "GET", f"/plans/{plan_id}/conversations", new_token)).json()
    assert len(conversations) == 1
    patient = bearer(tokens.patient(personnummer))  # the patient keeps everything
    assert [p["id"] for p in (await call(platform, "plans", "GET", "/me/plans", patient)).json()] == [plan_id]
    mine = (await call(platform, "messaging", "GET", f"/plans/{plan_id}/conversations", patient)).json()
    assert [c["id"] for c in mine] == [conversations[0]["id"]]

    plan = (await call(platform, "plans", "GET", f"/plans/{plan_id}", new_token)).json()
    assert plan["responsible_hsa_id"] == RESPONSIBLE
    listed = (await call(platform, "plans", "GET", "/units/me/plans", new_token)).json()
    [row] = [p for p in listed["items"] if p["plan_id"] == plan_id]
    assert row["flags"], "the patient's unanswered message is flagged at the receiving unit"
    assert plan_id not in [
        p["plan_id"] for p in (await call(platform, "plans", "GET", "/units/me/plans", old_token)).json()["items"]
    ]

    thread = (await call(platform, "messaging", "GET", f"/conversations/{conversations[0]['id']}", new_token)).json()
    [question] = thread["messages"]  # the reply SLA goes on: the deadline counted from its arrival, still open
    sent_at = datetime.fromisoformat(question["sent_at"])
    assert datetime.fromisoformat(question["sla"]["deadline"]) == reply_deadline(sent_at).deadline
    assert question["sla"]["state"] == "open"

    async def new_unit_replies() -> bool:  # writable once the completion reached messaging
        path = f"/conversations/{conversations[0]['id']}/messages"
        answer = await call(platform, "messaging", "POST", path, new_token, json={"text": "Vi tar över."})
        return answer.status_code == 201

    await eventually(new_unit_replies, timeout=30)
    history = (
        await call(platform, "handover", "GET", f"/plans/{plan_id}/handovers", bearer(tokens.patient(personnummer)))
    ).json()
    assert [(h["from_unit_id"], h["to_unit_id"], h["state"]) for h in history] == [(FROM, TO, "completed")]
    mail: Any = await eventually(
        lambda: [
            m
            for m in received(platform, "mail")
            if "olga.hov@example.se" in m["to"] and m["subject"] == "Din vårdplan har flyttats"
        ],
        timeout=30,
    )
    assert "Hur gör jag" not in mail[0]["body"]
    await eventually(
        lambda: [m for m in received(platform, "mail") if "ansvarig.hov@region.example.se" in m["to"]], timeout=30
    )


async def test_declined_and_withdrawn_handovers_leave_the_plan_where_it_is(
    platform: Platform, tokens: Tokens, units: None
) -> None:
    plan_id, _ = await plan_with_a_message(platform, tokens, "dora.hov@example.se")
    admin = staff(tokens, TO, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")

    first = (await initiate(platform, tokens, plan_id, TO)).json()["handover_id"]
    assert (await initiate(platform, tokens, plan_id, ELSEWHERE)).status_code == 409  # one pending at a time
    stranger = staff(tokens, ELSEWHERE, Role.PATIENT_ADMIN)
    assert (
        await call(platform, "handover", "POST", f"/handovers/{first}/decline", stranger, json={"reason": "x"})
    ).status_code == 404
    declined = await call(
        platform,
        "handover",
        "POST",
        f"/handovers/{first}/decline",
        admin,
        json={"reason": "Patienten hör till annan mottagning"},
    )
    assert declined.json()["state"] == "declined"
    late = await call(
        platform, "handover", "POST", f"/handovers/{first}/accept", admin, json={"responsible_hsa_id": RESPONSIBLE}
    )
    assert late.status_code == 409 and late.json()["field"] == "handover_id"

    second = (await initiate(platform, tokens, plan_id, TO)).json()["handover_id"]
    withdrawn = await call(platform, "handover", "POST", f"/handovers/{second}/withdraw", staff(tokens, FROM))
    assert withdrawn.json()["state"] == "withdrawn"

    assert await statuses(platform, plan_id, staff(tokens, FROM)) == dict.fromkeys(PLAN_READS, 200)
    assert await statuses(platform, plan_id, staff(tokens, TO)) == dict.fromkeys(PLAN_READS, 404)
    history = (await call(platform, "handover", "GET", f"/plans/{plan_id}/handovers", staff(tokens, FROM))).json()
    assert [h["state"] for h in history] == ["declined", "withdrawn"]


async def test_refusals_name_their_reason_and_field(platform: Platform, tokens: Tokens, units: None) -> None:
    plan_id, _ = await plan_with_a_message(platform, tokens, "rut.hov@example.se")

    mismatch = await initiate(platform, tokens, plan_id, OTHER_VERSION)
    assert mismatch.status_code == 409 and mismatch.json()["field"] == "to_unit_id"
    assert "does not run min-vardplan-brostcancer version 1.0" in mismatch.json()["detail"]
    no_consent = await call(
        platform, "handover", "POST", f"/plans/{plan_id}/handovers", staff(tokens, FROM), json={"to_unit_id": TO}
    )
    assert no_consent.status_code == 422 and no_consent.json()["field"] == "consent"
    itself = await initiate(platform, tokens, plan_id, FROM)
    assert itself.status_code == 422 and itself.json()["field"] == "to_unit_id"
    foreign = await call(
        platform,
        "handover",
        "POST",
        f"/plans/{plan_id}/handovers",
        staff(tokens, TO),
        json={"to_unit_id": ELSEWHERE, "consent": {"method": "written"}},
    )
    missing = await call(
        platform,
        "handover",
        "POST",
        "/plans/no-such-plan/handovers",
        staff(tokens, TO),
        json={"to_unit_id": ELSEWHERE, "consent": {"method": "written"}},
    )
    assert foreign.status_code == missing.status_code == 404 and foreign.json() == missing.json()
