"""Notifications on the real servers with a real SMTP server and HTTP SMS gateway as sinks."""

from __future__ import annotations

import json

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer, service_db
from tests.support.kafka_helpers import eventually, find_record, header
from tests.support.notify_helpers import gateway, received

pytestmark = pytest.mark.integration
NOTE_UNIT = "SE2321000016-NOTE01"
OTHER_UNIT = "SE2321000016-NOTE02"
BREAST = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}


async def patient_with_plan(
    platform: Platform,
    tokens: Tokens,
    *,
    email: str | None = None,
    phone: str | None = None,
    protected: bool = False,
    unit: str = NOTE_UNIT,
) -> tuple[str, str]:
    personnummer = new_personnummer("19820202")
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(unit=unit)),
            json={
                "personnummer": personnummer,
                "patient_name": "Notis, Patient",
                "protected_identity": protected,
                **BREAST,
            },
        )
        assert response.status_code == 201
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        answer = await api.put(
            "/me/preferences",
            headers=bearer(tokens.patient(personnummer)),
            json={"email_enabled": email is not None, "email": email, "sms_enabled": phone is not None, "phone": phone},
        )
        assert answer.status_code == 200, answer.text
    plan_id = response.json()["id"]
    client: AsyncMongoClient[dict] = AsyncMongoClient(platform.addresses.mongodb_uri)
    try:  # an announcement reaches the patients notifications knows of when it fans out; access follows ownership
        db = service_db(platform, client, "notifications")
        await eventually(lambda: db["plans"].find_one({"_id": plan_id}))
        await eventually(lambda: db["plan_ownership"].find_one({"_id": plan_id}))
    finally:
        await client.close()
    return plan_id, personnummer


async def staff_message(
    platform: Platform, tokens: Tokens, plan_id: str, notify: str = "direct", unit: str = NOTE_UNIT
) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:

        async def send() -> bool:
            response = await api.post(
                f"/plans/{plan_id}/conversations",
                headers=bearer(tokens.staff(unit=unit)),
                json={"subject": "Provsvar", "text": "Dina provsvar: HER2-positiv.", "notify_inbox": notify},
            )
            return response.status_code == 201

        await eventually(send)


async def patient_message(platform: Platform, tokens: Tokens, plan_id: str, personnummer: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:

        async def send() -> bool:
            response = await api.post(
                f"/plans/{plan_id}/conversations",
                headers=bearer(tokens.patient(personnummer)),
                json={"subject": "Fråga", "text": text},
            )
            return response.status_code == 201

        await eventually(send)


async def test_preferences_are_validated_naming_the_field(platform: Platform, tokens: Tokens) -> None:
    patient = bearer(tokens.patient(new_personnummer()))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        for body, field in (
            ({"email_enabled": True, "email": "not-an-address"}, "email"),
            ({"sms_enabled": True, "phone": "12345"}, "phone"),
            ({"sms_enabled": True, "phone": "08-123 456 78"}, "phone"),
        ):
            response = await api.put("/me/preferences", headers=patient, json=body)
            assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
        missing = await api.put("/me/preferences", headers=patient, json={"email_enabled": True})
        assert missing.status_code == 422 and "email is required" in missing.text
        ok = await api.put(
            "/me/preferences",
            headers=patient,
            json={"email_enabled": True, "email": "anna@example.se", "sms_enabled": True, "phone": "070-123 45 67"},
        )
        assert ok.json()["phone"] == "+46701234567"
        assert (await api.get("/me/preferences", headers=bearer(tokens.staff()))).status_code == 403


async def test_a_staff_message_with_notify_directly_reaches_inbox_email_and_sms(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, personnummer = await patient_with_plan(
        platform, tokens, email="anna.notis@example.se", phone="+46701110001"
    )
    await staff_message(platform, tokens, plan_id)
    mail = await eventually(lambda: [m for m in received(platform, "mail") if "anna.notis@example.se" in m["to"]])
    assert mail[0]["subject"] == "Nytt meddelande i Min vårdplan"
    assert "Du har fått ett nytt meddelande i Min vårdplan" in mail[0]["body"]
    assert "HER2" not in mail[0]["body"]  # never health information
    sms = await eventually(lambda: [m for m in received(platform, "sms") if m["to"] == "+46701110001"])
    assert "nytt meddelande" in sms[0]["text"] and len(sms) == 1
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        inbox = (await api.get("/me/inbox", headers=bearer(tokens.patient(personnummer)))).json()
        assert len(inbox) == 1 and inbox[0]["read_at"] is None
        assert (
            await api.post(f"/me/inbox/{inbox[0]['id']}/read", headers=bearer(tokens.patient(personnummer)))
        ).status_code == 204
        assert (await api.get("/me/inbox", headers=bearer(tokens.patient(personnummer)))).json()[0]["read_at"]
        other = await api.post(f"/me/inbox/{inbox[0]['id']}/read", headers=bearer(tokens.patient(new_personnummer())))
        assert other.status_code == 404
    bootstrap = platform.addresses.kafka_bootstrap_servers
    delivered = await find_record(
        bootstrap,
        "careplan.notifications.v1",
        lambda r: header(r, "ce_type") == "se.careplan.notifications.delivered.v1" and plan_id.encode() in r.value,
    )
    assert personnummer.encode() not in delivered.value
    trigger = json.loads(delivered.value)["trigger_id"]
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        ours = await api.get(f"/triggers/{trigger}/deliveries", headers=bearer(tokens.staff(unit=NOTE_UNIT)))
        assert ours.status_code == 200 and sorted(d["channel"] for d in ours.json()) == ["email", "inbox", "sms"]
        theirs = await api.get(f"/triggers/{trigger}/deliveries", headers=bearer(tokens.staff(unit=OTHER_UNIT)))
        missing = await api.get("/triggers/no-such-trigger/deliveries", headers=bearer(tokens.staff(unit=OTHER_UNIT)))
        assert theirs.status_code == missing.status_code == 404  # issue 13: was 200 []
        assert theirs.json()["detail"] == missing.json()["detail"]


async def test_no_notification_without_notify_directly_and_generic_text_for_protected_identity(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    quiet_plan, _ = await patient_with_plan(platform, tokens, email="tyst@example.se")
    await staff_message(platform, tokens, quiet_plan, notify="none")
    protected_plan, _ = await patient_with_plan(platform, tokens, email="skyddad@example.se", protected=True)
    await staff_message(platform, tokens, protected_plan)
    mail = await eventually(lambda: [m for m in received(platform, "mail") if "skyddad@example.se" in m["to"]])
    assert mail[0]["subject"] == "Nytt i e-tjänsterna" and "Min vårdplan" not in mail[0]["body"]
    assert not [m for m in received(platform, "mail") if "tyst@example.se" in m["to"]]


async def test_staff_get_email_about_their_patients_and_escalations(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    admin = tokens.staff(Role.PERMISSION_ADMIN, unit=NOTE_UNIT)
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        registered = await api.put(
            "/staff/SE2321000016-T001",
            headers=bearer(admin),
            json={
                "unit_id": NOTE_UNIT,
                "name": "Karin Vriste",
                "email": "karin.vriste@region.example.se",
                "roles": ["therapist"],
            },
        )
        assert registered.status_code == 204
        elsewhere = await api.put(
            "/staff/SE2321000016-X",
            headers=bearer(admin),
            json={"unit_id": "SE2321000016-OTHER", "email": "x@example.se"},
        )
        assert elsewhere.status_code == 403
    plan_id, personnummer = await patient_with_plan(platform, tokens)
    await patient_message(platform, tokens, plan_id, personnummer, "Jag har ont.")
    mail = await eventually(
        lambda: [m for m in received(platform, "mail") if "karin.vriste@region.example.se" in m["to"]]
    )
    assert mail[0]["subject"] == "Nytt meddelande från en patient" and "ont" not in mail[0]["body"]


async def test_another_units_permission_admin_cannot_take_over_a_staff_members_email(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    """Issue 13: the staff directory was keyed by HSA-id alone, so unit B's permission admin could
    redirect unit A's therapist's notifications. Each unit now keeps its own entries."""
    unit = "SE2321000016-NOTE13"
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        for admin_unit, email in ((unit, "ansvarig13@region.example.se"), (OTHER_UNIT, "kapad13@example.se")):
            answer = await api.put(
                "/staff/SE2321000016-T001",
                headers=bearer(tokens.staff(Role.PERMISSION_ADMIN, unit=admin_unit, hsa_id="SE2321000016-PA13")),
                json={"email": email, "roles": ["therapist"]},
            )
            assert answer.status_code == 204
    plan_id, personnummer = await patient_with_plan(platform, tokens, unit=unit)
    await patient_message(platform, tokens, plan_id, personnummer, "Hur länge ska jag ta medicinen?")
    await eventually(lambda: [m for m in received(platform, "mail") if "ansvarig13@region.example.se" in m["to"]])
    assert not [m for m in received(platform, "mail") if "kapad13@example.se" in m["to"]]


async def test_the_patient_is_told_the_plan_has_ended_without_health_information(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    plan_id, personnummer = await patient_with_plan(platform, tokens, email="avslutad@example.se")
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        ended = await plans.post(
            f"/plans/{plan_id}/end", headers=bearer(tokens.staff(unit=NOTE_UNIT)), json={"reason": "completed"}
        )
        assert ended.status_code == 200, ended.text
    mail = await eventually(lambda: [m for m in received(platform, "mail") if "avslutad@example.se" in m["to"]])
    assert mail[0]["subject"] == "Din vårdplan har avslutats"
    assert "cancer" not in mail[0]["body"].lower() and "completed" not in mail[0]["body"]
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        inbox = (await api.get("/me/inbox", headers=bearer(tokens.patient(personnummer)))).json()
        assert [i["subject"] for i in inbox] == ["Din vårdplan har avslutats"]


async def test_retries_rate_limits_failures_fallback_and_dead_letters(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    # 503s then success: retried with backoff until sent
    plan_id, _ = await patient_with_plan(platform, tokens, phone="+46701110002")
    gateway(platform, "500", 2)
    await staff_message(platform, tokens, plan_id)
    sms = await eventually(lambda: [m for m in received(platform, "sms") if m["to"] == "+46701110002"], timeout=30)
    assert len(sms) == 1

    # a gateway that hangs is timed out, and the SMS retried
    plan_id, _ = await patient_with_plan(platform, tokens, phone="+46701110005")
    gateway(platform, "hang", 1)
    await staff_message(platform, tokens, plan_id)
    await eventually(lambda: [m for m in received(platform, "sms") if m["to"] == "+46701110005"], timeout=30)

    # 429 with Retry-After is honoured
    plan_id, _ = await patient_with_plan(platform, tokens, phone="+46701110003")
    gateway(platform, "429", 1, retry_after=2)
    await staff_message(platform, tokens, plan_id)
    await eventually(lambda: [m for m in received(platform, "sms") if m["to"] == "+46701110003"], timeout=30)

    # refused for good (400): failed, dead-lettered, and sent by e-mail instead (an SMS-only announcement
    # to a patient who also enabled e-mail)
    unit = "SE2321000016-FALL01"
    plan_id, _ = await patient_with_plan(platform, tokens, phone="+46701110004", email="fallback@example.se", unit=unit)
    gateway(platform, "400", 1)
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        created = await api.post(
            "/announcements",
            headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit)),
            json={"scope": "unit", "subject": "Påminnelse", "text": "Logga in på 1177.se.", "channels": ["sms"]},
        )
        assert created.status_code == 201
    await eventually(
        lambda: [
            m for m in received(platform, "mail") if "fallback@example.se" in m["to"] and m["subject"] == "Påminnelse"
        ],
        timeout=30,
    )
    assert not [m for m in received(platform, "sms") if m["to"] == "+46701110004"]
    bootstrap = platform.addresses.kafka_bootstrap_servers
    dead = await find_record(
        bootstrap,
        "careplan.deadletter.v1",
        lambda r: header(r, "ce_type") == "se.careplan.notifications.dead_lettered.v1" and b"400" in r.value,
    )
    assert b"+4670" not in dead.value  # no phone number in the dead letter
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        trigger = dead.value.decode().split('"trigger_id": "')[1].split('"')[0]
        states = (await api.get(f"/triggers/{trigger}/deliveries", headers=bearer(tokens.staff(unit=unit)))).json()
        by_channel = {d["channel"]: d for d in states}
        assert by_channel["sms"]["state"] == "failed" and "400" in by_channel["sms"]["last_error"]
        assert by_channel["email"]["state"] == "sent" and by_channel["email"]["fallback_of"] == by_channel["sms"]["id"]
        assert set(by_channel) == {"sms", "email"}
        elsewhere = await api.get(f"/triggers/{trigger}/deliveries", headers=bearer(tokens.staff(unit=NOTE_UNIT)))
        assert elsewhere.status_code == 404  # another unit's announcement: as if it did not exist


async def test_a_unit_announcement_reaches_every_patient_once(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    unit = "SE2321000016-ANN01"
    patients = [await patient_with_plan(platform, tokens, unit=unit, email=f"ann{i}@example.se") for i in range(5)]
    _outsider, _ = await patient_with_plan(platform, tokens, unit="SE2321000016-ANN02", email="outsider@example.se")
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        changed = await api.put(
            "/me/preferences",
            headers=bearer(tokens.patient(patients[0][1])),
            json={"email_enabled": True, "email": "ann0-ny@example.se"},
        )
        assert changed.status_code == 200  # after the plan started: the announcement goes to the new address
        body = {
            "scope": "unit",
            "subject": "Sommarstängt",
            "text": "Mottagningen är stängd vecka 29-31.",
            "channels": ["inbox", "email"],
        }
        assert (await api.post("/announcements", headers=bearer(tokens.staff(unit=unit)), json=body)).status_code == 403
        created = await api.post(
            "/announcements", headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit)), json=body
        )
        assert created.status_code == 201
        announcement_id = created.json()["id"]

        seen: list[dict] = []

        async def done() -> dict | None:
            seen.append(
                (await api.get(f"/announcements/{announcement_id}", headers=bearer(tokens.staff(unit=unit)))).json()
            )
            return seen[-1] if seen[-1]["deliveries"].get("sent") == 10 else None

        try:
            progress = await eventually(done, timeout=60)
        except AssertionError:
            ledger = (
                await api.get(
                    f"/announcements/{announcement_id}",
                    params={"by_state": "true"},
                    headers=bearer(tokens.staff(unit=unit)),
                )
            ).json()
            log = (platform.state_dir / "logs" / "notifications.log").read_text().splitlines()
            warnings = [line for line in log if '"level": "INFO"' not in line][-10:]
            raise AssertionError(f"tallies {seen[-1]} ledger {ledger} warnings {warnings}") from None
        assert progress["announcement"]["recipients"] == 5
        for _, personnummer in patients:
            inbox = (await api.get("/me/inbox", headers=bearer(tokens.patient(personnummer)))).json()
            assert [i["subject"] for i in inbox].count("Sommarstängt") == 1
        # a missing template variable fails to the dead-letter topic, never a half-rendered text
        broken = await api.post(
            "/announcements",
            headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit)),
            json={"scope": "unit", "subject": "Info", "text": "Öppnar igen ${datum}.", "channels": ["inbox"]},
        )
        broken_id = broken.json()["id"]

        async def failed() -> bool:
            progress = (await api.get(f"/announcements/{broken_id}", headers=bearer(tokens.staff(unit=unit)))).json()
            return progress["deliveries"].get("failed") == 5

        await eventually(failed, timeout=30)
    mails = [m for m in received(platform, "mail") if m["subject"] == "Sommarstängt"]
    assert sorted(m["to"][0] for m in mails) == sorted(
        ["ann0-ny@example.se"] + [f"ann{i}@example.se" for i in range(1, 5)]
    )
    assert not [m for m in received(platform, "mail") if "outsider@example.se" in m["to"]]
    assert not [m for m in received(platform, "mail") if "${datum}" in m["body"]]
    await find_record(
        platform.addresses.kafka_bootstrap_servers, "careplan.deadletter.v1", lambda r: b"datum" in r.value
    )


async def test_unit_banners_are_shown_to_the_units_patients_and_put_in_their_inbox(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    unit = "SE2321000016-BAN01"
    _, personnummer = await patient_with_plan(platform, tokens, unit=unit)
    _, elsewhere = await patient_with_plan(platform, tokens, unit="SE2321000016-BAN02")
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        body = {"text": "Mottagningen har stängt 24 december till 6 januari."}
        assert (
            await api.post("/units/me/banners", headers=bearer(tokens.staff(unit=unit)), json=body)
        ).status_code == 403
        assert (
            await api.post(
                "/units/me/banners", headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit)), json={"text": "  "}
            )
        ).status_code == 422
        created = await api.post(
            "/units/me/banners", headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit)), json=body
        )
        assert created.status_code == 201
        shown = (await api.get("/me/banners", headers=bearer(tokens.patient(personnummer)))).json()
        assert [b["text"] for b in shown] == [body["text"]]
        assert (await api.get("/me/banners", headers=bearer(tokens.patient(elsewhere)))).json() == []

        async def in_inbox() -> bool:
            inbox = (await api.get("/me/inbox", headers=bearer(tokens.patient(personnummer)))).json()
            return any(i["body"] == body["text"] for i in inbox)

        await eventually(in_inbox, timeout=30)
        removed = await api.delete(
            f"/units/me/banners/{created.json()['id']}", headers=bearer(tokens.staff(Role.PATIENT_ADMIN, unit=unit))
        )
        assert removed.status_code == 204
        assert (await api.get("/me/banners", headers=bearer(tokens.patient(personnummer)))).json() == []
