"""Messaging and the reply SLA on the real servers, with the services as separate processes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, find_record, header

pytestmark = pytest.mark.integration
MSG_UNIT = "SE2321000016-MSG01"
BREAST = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}


async def new_plan(platform: Platform, tokens: Tokens, unit: str = MSG_UNIT) -> tuple[str, str]:
    personnummer = new_personnummer("19700707")
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(unit=unit)),
            json={"personnummer": personnummer, "patient_name": "Meddelande, Patient", **BREAST},
        )
        assert response.status_code == 201, response.text
    return response.json()["id"], personnummer


async def patient_writes(api: httpx.AsyncClient, plan_id: str, token: str, text: str = "Hej! En fråga.") -> dict:
    """The first message of a conversation; retried until messaging has consumed the plan's start."""
    body = {"subject": "Fråga om behandlingen", "text": text}

    async def attempt() -> dict | None:
        response = await api.post(f"/plans/{plan_id}/conversations", headers=bearer(token), json=body)
        return response.json() if response.status_code == 201 else None

    return await eventually(attempt)  # type: ignore[return-value]


async def test_patient_message_staff_reply_and_the_sla(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, personnummer = await new_plan(platform, tokens)
    patient = tokens.patient(personnummer)
    staff = tokens.staff(unit=MSG_UNIT, hsa_id="SE2321000016-MSG1")
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        first = await patient_writes(api, plan_id, patient)
        assert first["sender_kind"] == "patient" and first["status"] == "sent"
        sla = first["sla"]
        sent = datetime.fromisoformat(first["sent_at"])
        expected = (await api.get("/sla/due", params={"arrived_at": sent.isoformat()}, headers=bearer(staff))).json()
        assert datetime.fromisoformat(sla["deadline"]) == datetime.fromisoformat(expected["deadline"])
        assert datetime.fromisoformat(sla["due_soon_at"]) == datetime.fromisoformat(expected["due_soon_at"])
        assert sla["state"] == "open"
        conversation_id = first["conversation_id"]

        second = await api.post(
            f"/conversations/{conversation_id}/messages", headers=bearer(patient), json={"text": "Och en sak till."}
        )
        assert second.status_code == 201
        unread = (await api.get(f"/plans/{plan_id}/unread", headers=bearer(staff))).json()
        assert unread == {"total": 2, conversation_id: 2}

        # any therapist of the unit reads and answers
        colleague = tokens.staff(unit=MSG_UNIT, hsa_id="SE2321000016-MSG2")
        opened = (await api.get(f"/conversations/{conversation_id}", headers=bearer(colleague))).json()
        assert [m["text"] for m in opened["messages"]] == ["Hej! En fråga.", "Och en sak till."]
        assert (await api.get(f"/plans/{plan_id}/unread", headers=bearer(staff))).json()["total"] == 0
        reply = await api.post(
            f"/conversations/{conversation_id}/messages",
            headers=bearer(colleague),
            json={"text": "Hej, vi ringer dig i morgon.", "notify_inbox": "direct"},
        )
        assert reply.status_code == 201 and reply.json()["notify_inbox"] == "direct"
        assert (await api.get(f"/plans/{plan_id}/unread", headers=bearer(patient))).json()["total"] == 1
        after = (await api.get(f"/conversations/{conversation_id}", headers=bearer(patient))).json()
        assert [m["sla"]["state"] for m in after["messages"] if m["sender_kind"] == "patient"] == ["met", "met"]

    bootstrap = platform.addresses.kafka_bootstrap_servers
    met = await find_record(
        bootstrap,
        "careplan.messaging.v1",
        lambda r: r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.messaging.sla_met.v1",
    )
    payload = json.loads(met.value)
    assert sorted(payload["message_ids"]) == sorted([first["id"], second.json()["id"]])
    assert payload["breached"] is False and payload["seconds_to_reply"] >= 0
    sent_event = await find_record(
        bootstrap,
        "careplan.messaging.v1",
        lambda r: r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.messaging.message_sent.v1",
    )
    assert "Hej" not in sent_event.value.decode()  # events never carry message text


async def test_two_therapists_answering_at_once_meet_the_sla_once(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, personnummer = await new_plan(platform, tokens)
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        first = await patient_writes(api, plan_id, tokens.patient(personnummer))
        conversation_id = first["conversation_id"]
        replies = await asyncio.gather(
            *(
                api.post(
                    f"/conversations/{conversation_id}/messages",
                    headers=bearer(tokens.staff(unit=MSG_UNIT, hsa_id=f"SE2321000016-CON{i}")),
                    json={"text": f"Svar {i}"},
                )
                for i in range(2)
            )
        )
        assert [r.status_code for r in replies] == [201, 201]
        messages = (
            await api.get(f"/conversations/{conversation_id}", headers=bearer(tokens.staff(unit=MSG_UNIT)))
        ).json()["messages"]
        assert sorted(m["text"] for m in messages if m["sender_kind"] == "staff") == ["Svar 0", "Svar 1"]

    met_events = []
    bootstrap = platform.addresses.kafka_bootstrap_servers

    def collect(record) -> bool:
        if record.key == plan_id.encode() and header(record, "ce_type") == "se.careplan.messaging.sla_met.v1":
            met_events.append(record)
        return False

    with pytest.raises(AssertionError):
        await find_record(bootstrap, "careplan.messaging.v1", collect, timeout=4)
    assert len(met_events) == 1


async def test_bad_input_and_access(platform: Platform, tokens: Tokens, published_programs: list[str]) -> None:
    plan_id, personnummer = await new_plan(platform, tokens)
    patient = tokens.patient(personnummer)
    staff = tokens.staff(unit=MSG_UNIT)
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        first = await patient_writes(api, plan_id, patient)
        conversation_id = first["conversation_id"]
        url = f"/conversations/{conversation_id}/messages"
        for body in ({"text": ""}, {"text": "   "}, {"text": "x" * 10_001}, {}):
            response = await api.post(url, headers=bearer(patient), json=body)
            assert response.status_code == 422 and response.json()["errors"][0]["field"] == "text"
        as_staff = await api.post(url, headers=bearer(patient), json={"text": "hej", "notify_inbox": "direct"})
        assert as_staff.status_code == 403
        edit_sent = await api.put(f"{url}/{first['id']}", headers=bearer(patient), json={"text": "ändrat"})
        assert edit_sent.status_code == 403
        other_unit = await api.get(
            f"/conversations/{conversation_id}", headers=bearer(tokens.staff(unit="SE2321000016-OTHER"))
        )
        missing = await api.get("/conversations/nope", headers=bearer(staff))
        assert other_unit.status_code == missing.status_code == 404 and other_unit.json() == missing.json()
        other_patient = await api.post(
            f"/plans/{plan_id}/conversations",
            headers=bearer(tokens.patient(new_personnummer())),
            json={"subject": "x", "text": "y"},
        )
        assert other_patient.status_code == 404
        publisher = await api.post(  # issue 13: only the patient, therapists and patient admins write
            f"/plans/{plan_id}/conversations",
            headers=bearer(tokens.staff(Role.PUBLISHER, unit=MSG_UNIT, hsa_id="SE2321000016-PUB1")),
            json={"subject": "Hej", "text": "Från utgivaren"},
        )
        assert publisher.status_code == 403

        # drafts: kept until sent, visible only to their author, deletable
        draft = (await api.post(url, headers=bearer(staff), json={"text": "Utkast", "draft": True})).json()
        assert draft["status"] == "draft"
        seen_by_patient = (await api.get(f"/conversations/{conversation_id}", headers=bearer(patient))).json()
        assert draft["id"] not in {m["id"] for m in seen_by_patient["messages"]}
        someone_else = tokens.staff(unit=MSG_UNIT, hsa_id="SE2321000016-ELSE")
        assert (
            await api.put(f"{url}/{draft['id']}", headers=bearer(someone_else), json={"text": "x"})
        ).status_code == 404
        edited = await api.put(f"{url}/{draft['id']}", headers=bearer(staff), json={"text": "Utkast 2"})
        assert edited.status_code == 200 and edited.json()["text"] == "Utkast 2"
        sent = await api.post(f"{url}/{draft['id']}/send", headers=bearer(staff))
        assert sent.status_code == 200 and sent.json()["status"] == "sent"
        assert sent.json()["sla"] is None and sent.json()["notify_inbox"] == "direct"
        second_draft = (await api.post(url, headers=bearer(staff), json={"text": "Bort", "draft": True})).json()
        assert (await api.delete(f"{url}/{second_draft['id']}", headers=bearer(staff))).status_code == 204
        assert (await api.delete(f"{url}/{first['id']}", headers=bearer(patient))).status_code == 403

        # staff delete the conversation: soft, gone for both sides
        assert (await api.delete(f"/conversations/{conversation_id}", headers=bearer(patient))).status_code == 403
        assert (await api.delete(f"/conversations/{conversation_id}", headers=bearer(staff))).status_code == 204
        assert (await api.get(f"/conversations/{conversation_id}", headers=bearer(patient))).status_code == 404
        assert (await api.get(f"/plans/{plan_id}/conversations", headers=bearer(staff))).json() == []
        bad_time = await api.get("/sla/due", params={"arrived_at": "yesterday"}, headers=bearer(staff))
        assert bad_time.status_code == 422 and bad_time.json()["field"] == "arrived_at"
        end_of_time = await api.get(
            "/sla/due", params={"arrived_at": "9999-12-31T23:00:00-05:00"}, headers=bearer(staff)
        )
        assert end_of_time.status_code == 422 and end_of_time.json()["field"] == "arrived_at"


async def test_an_ended_plan_is_read_only_but_staff_still_read_it(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, personnummer = await new_plan(platform, tokens)
    patient = tokens.patient(personnummer)
    staff = tokens.staff(unit=MSG_UNIT, hsa_id="SE2321000016-END1")
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        first = await patient_writes(api, plan_id, patient)
        conversation_id = first["conversation_id"]
        async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
            ending = await plans.post(f"/plans/{plan_id}/end", headers=bearer(staff), json={"reason": "completed"})
            assert ending.status_code == 200, ending.text

        async def refused() -> bool:
            response = await api.post(
                f"/conversations/{conversation_id}/messages", headers=bearer(patient), json={"text": "Hallå?"}
            )
            assert response.status_code in (201, 409), response.text
            return response.status_code == 409

        await eventually(refused)
        new_conversation = await api.post(
            f"/plans/{plan_id}/conversations", headers=bearer(staff), json={"subject": "s", "text": "t", "draft": True}
        )
        assert new_conversation.status_code == 409 and new_conversation.json()["field"] == "plan_id"
        read = await api.get(f"/conversations/{conversation_id}", headers=bearer(staff))
        assert read.status_code == 200 and first["id"] in {m["id"] for m in read.json()["messages"]}


async def test_sla_timers_survive_a_killed_service_and_fire_once(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    """Pending timers, SIGKILL the messaging process, jump its clock past every deadline, restart it:
    each message gets exactly one due-soon and one overdue, and the unit's list shows the flags."""
    plans_and_patients = [await new_plan(platform, tokens, unit="SE2321000016-SLA01") for _ in range(3)]
    message_ids = []
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
        for plan_id, personnummer in plans_and_patients:
            message_ids.append((await patient_writes(api, plan_id, tokens.patient(personnummer)))["id"])

    traces = platform.state_dir / "traces" / "messaging.jsonl"
    # the crash is to hit pending timers, not spans still waiting in the exporter's batch
    await eventually(lambda: all(m in traces.read_text() for m in message_ids))
    platform.stop_service("messaging", kill=True)
    platform.start_service("messaging", overrides={"CLOCK_OFFSET_SECONDS": str(12 * 86400)})
    try:
        platform.wait_ready(["messaging"])
        bootstrap = platform.addresses.kafka_bootstrap_servers
        staff = tokens.staff(unit="SE2321000016-SLA01")
        async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:

            async def all_overdue() -> bool:
                page = (
                    await plans.get("/units/me/plans", params={"flag": "reply_overdue"}, headers=bearer(staff))
                ).json()
                return page["total"] == 3

            await eventually(all_overdue, timeout=40)

        counts: dict[tuple[str, str], int] = {}

        def count(record) -> bool:
            kind = header(record, "ce_type") or ""
            if kind.rsplit(".", 2)[-2] in ("reply_due_soon", "reply_overdue", "reply_escalated"):
                message_id = json.loads(record.value)["message_id"]
                if message_id in message_ids:
                    counts[(message_id, kind)] = counts.get((message_id, kind), 0) + 1
            return False

        with pytest.raises(AssertionError):
            await find_record(bootstrap, "careplan.messaging.v1", count, timeout=5)
        for message_id in message_ids:
            for kind in ("reply_due_soon", "reply_overdue", "reply_escalated"):
                assert counts.get((message_id, f"se.careplan.messaging.{kind}.v1")) == 1, (message_id, kind)

        # one trace per message: started, due_soon and overdue spans share it, linked to the start
        await asyncio.sleep(1)  # the overdue spans' batch
        trace_lines = traces.read_text().splitlines()
        spans = [json.loads(line) for line in trace_lines]
        for message_id in message_ids:
            steps = {
                s["attributes"]["careplan.workflow.step"]: s
                for s in spans
                if s["attributes"].get("careplan.workflow.id") == message_id
            }
            assert set(steps) >= {"started", "due_soon", "overdue"}
            trace_ids = {s["context"]["trace_id"] for s in steps.values()}
            assert len(trace_ids) == 1
            start_span = steps["started"]["context"]["span_id"]
            assert any(link["span_id"] == start_span for link in steps["overdue"]["links"])
        async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:
            metrics = (await api.get("/metrics")).text
        assert "careplan_reply_sla_breaches_total" in metrics
    finally:
        platform.stop_service("messaging")
        platform.start_service("messaging")
        platform.wait_ready(["messaging"])
