"""Unit lists: mine/all/ended, paging, masking, and flags raised and cleared by other services' events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from shared.messaging.events import EventRecord
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, produce

pytestmark = pytest.mark.integration
LIST_UNIT = "SE2321000016-LIST01"
BREAST = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}


async def publish_as(platform: Platform, topic: str, source: str, ce_type: str, plan_id: str, data: dict) -> None:
    """Publish an event the way the producing service's outbox relay does."""
    record = EventRecord(
        id=str(uuid.uuid4()),
        ce_type=ce_type,
        source=source,
        topic=topic,
        key=plan_id,
        time=datetime.now(UTC),
        data={"plan_id": plan_id, "unit_id": LIST_UNIT, **data},
    )
    message = record.to_kafka()
    await produce(
        platform.addresses.kafka_bootstrap_servers,
        topic,
        message.value,
        plan_id.encode(),
        list(message.headers.items()),
    )


async def flags_of(api: httpx.AsyncClient, token: str, plan_id: str) -> list[str]:
    page = (await api.get("/units/me/plans", params={"page_size": 200}, headers=bearer(token))).json()
    return sorted(f["kind"] for r in page["items"] if r["plan_id"] == plan_id for f in r["flags"])


async def test_lists_page_filter_and_mask(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    me = tokens.staff(unit=LIST_UNIT, hsa_id="SE2321000016-ME01")
    colleague = tokens.staff(unit=LIST_UNIT, hsa_id="SE2321000016-COL1")
    mine = []
    for i in range(3):
        response = await plans_api.post(
            "/plans",
            headers=bearer(me),
            json={"personnummer": new_personnummer("19600101"), "patient_name": f"Min, Patient {i}", **BREAST},
        )
        mine.append(response.json()["id"])
    protected_pnr = new_personnummer("19731120")
    protected = await plans_api.post(
        "/plans",
        headers=bearer(colleague),
        json={
            "personnummer": protected_pnr,
            "patient_name": "Hemlig, Person",
            "protected_identity": True,
            "program_id": "somnhjalpen",
            "program_version": "2025.1",
        },
    )
    protected_id = protected.json()["id"]

    all_rows = (await plans_api.get("/units/me/plans", params={"list": "all"}, headers=bearer(me))).json()
    assert all_rows["total"] == 4
    mine_rows = (await plans_api.get("/units/me/plans", params={"list": "mine"}, headers=bearer(me))).json()
    assert {r["plan_id"] for r in mine_rows["items"]} == set(mine)

    # every therapist of the unit sees every plan; protected identity is masked
    seen_by_me = {r["plan_id"]: r for r in all_rows["items"]}
    assert protected_id in seen_by_me
    masked = seen_by_me[protected_id]
    assert masked["patient_name"] == "Skyddade personuppgifter" and masked["personnummer"] == "1973XXXX-XXXX"
    assert protected_pnr not in str(all_rows)

    first = (await plans_api.get("/units/me/plans", params={"page_size": 3, "page": 1}, headers=bearer(me))).json()
    second = (await plans_api.get("/units/me/plans", params={"page_size": 3, "page": 2}, headers=bearer(me))).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert not {r["plan_id"] for r in first["items"]} & {r["plan_id"] for r in second["items"]}
    sleep = (await plans_api.get("/units/me/plans", params={"program_id": "somnhjalpen"}, headers=bearer(me))).json()
    assert [r["plan_id"] for r in sleep["items"]] == [protected_id]

    nobody_else = (await plans_api.get("/units/me/plans", headers=bearer(tokens.staff()))).json()
    assert not {r["plan_id"] for r in nobody_else["items"]} & set(seen_by_me)
    assert (await plans_api.get("/units/me/plans", params={"page_size": 0}, headers=bearer(me))).status_code == 422
    assert (await plans_api.get("/units/me/plans", params={"list": "x"}, headers=bearer(me))).status_code == 422
    patient = await plans_api.get("/units/me/plans", headers=bearer(tokens.patient(protected_pnr)))
    assert patient.status_code == 403


async def test_flags_come_and_go_with_other_services_events(
    platform: Platform, plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    token = tokens.staff(Role.THERAPIST, unit=LIST_UNIT)
    plan_id = (
        await plans_api.post(
            "/plans",
            headers=bearer(token),
            json={"personnummer": new_personnummer("19510303"), "patient_name": "Flagg, Patient", **BREAST},
        )
    ).json()["id"]
    messaging = ("careplan.messaging.v1", "/careplan/messaging")
    forms = ("careplan.forms.v1", "/careplan/forms")
    sent_at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).isoformat()

    await publish_as(
        platform,
        *messaging,
        "se.careplan.messaging.message_sent.v1",
        plan_id,
        {"conversation_id": "c1", "message_id": "m1", "sender_kind": "patient", "sent_at": sent_at},
    )
    await publish_as(
        platform,
        *forms,
        "se.careplan.forms.flag_raised.v1",
        plan_id,
        {"flag_id": "f1", "kind": "what_matters", "raised_at": sent_at},
    )
    await publish_as(
        platform,
        *forms,
        "se.careplan.forms.flag_raised.v1",
        plan_id,
        {"flag_id": "f2", "kind": "result", "raised_at": sent_at},
    )
    await eventually(lambda: _has(plans_api, token, plan_id, ["result", "unread_message", "what_matters"]))

    await publish_as(
        platform,
        *messaging,
        "se.careplan.messaging.reply_due_soon.v1",
        plan_id,
        {"conversation_id": "c1", "message_id": "m1", "deadline": sent_at},
    )
    await publish_as(
        platform,
        *messaging,
        "se.careplan.messaging.reply_overdue.v1",
        plan_id,
        {"conversation_id": "c1", "message_id": "m1", "deadline": sent_at},
    )
    await eventually(
        lambda: _has(plans_api, token, plan_id, ["reply_overdue", "result", "unread_message", "what_matters"])
    )

    flagged = (await plans_api.get("/units/me/plans", params={"flag": "reply_overdue"}, headers=bearer(token))).json()
    assert [r["plan_id"] for r in flagged["items"]] == [plan_id]
    row = next(r for r in flagged["items"])
    assert row["last_active_at"].startswith("2026-11-20T09:00")

    await publish_as(
        platform,
        *messaging,
        "se.careplan.messaging.conversation_read.v1",
        plan_id,
        {"conversation_id": "c1", "reader_kind": "staff"},
    )
    await publish_as(platform, *messaging, "se.careplan.messaging.sla_met.v1", plan_id, {"conversation_id": "c1"})
    await publish_as(platform, *forms, "se.careplan.forms.flag_handled.v1", plan_id, {"flag_id": "f1"})
    await eventually(lambda: _has(plans_api, token, plan_id, ["result"]))

    # a content change of the plan never wipes the flags (they are another service's truth)
    await plans_api.post(f"/plans/{plan_id}/contacts", headers=bearer(token), json={"name": "Ny Kontakt"})
    assert await flags_of(plans_api, token, plan_id) == ["result"]


async def _has(api: httpx.AsyncClient, token: str, plan_id: str, kinds: list[str]) -> bool:
    return await flags_of(api, token, plan_id) == kinds
