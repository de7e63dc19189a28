"""Forms through the HTTP APIs on the real servers: publish, set a form module current, the patient
notified a day later, answers scored and flagged, results and chart, "What matters to me?" flags."""

from __future__ import annotations

import json

import httpx
import pytest

from launcher.stack import Platform
from shared.crypto.envelope import is_envelope
from shared.kernel.roles import Role
from tests.conftest import INSTRUMENTS, Tokens, bearer
from tests.e2e.test_notifications import patient_with_plan
from tests.support.kafka_helpers import eventually, find_record, header, opened_payload
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-FORM01"
DT_MODULE = "att-fylla-i-distresstermometern"


async def test_publishing_is_validated_and_immutable(
    platform: Platform, tokens: Tokens, published_forms: list[str]
) -> None:
    designer = bearer(tokens.staff(Role.DESIGNER))
    definition = json.loads((INSTRUMENTS / "gad_7.json").read_text())
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as api:
        assert (await api.post("/forms", headers=designer, json=definition)).status_code == 200
        changed = definition | {"title": "GAD-7 (ändrad)"}
        assert (await api.post("/forms", headers=designer, json=changed)).status_code == 409
        assert (
            await api.post("/forms", headers=bearer(tokens.staff()), json=changed | {"version": 2})
        ).status_code == 403
        gap = json.loads(json.dumps(definition))
        gap["version"] = 3
        gap["results"][0]["intervals"][1]["min"] = 6
        refused = await api.post("/forms", headers=designer, json=gap)
        assert refused.status_code == 422 and "gap" in refused.text


async def test_form_module_day_later_notification_scoring_results_and_chart(
    platform: Platform, tokens: Tokens, published_programs: list[str], published_forms: list[str]
) -> None:
    plan_id, personnummer = await patient_with_plan(platform, tokens, email="formular@example.se", unit=UNIT)
    patient = bearer(tokens.patient(personnummer))
    staff = bearer(tokens.staff(unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:
        url = f"/plans/{plan_id}/forms/distress_thermometer/responses"

        async def refused_while_closed() -> bool:
            return (await forms.post(url, headers=patient, json={"answers": {"distress": 3}})).status_code == 409

        await eventually(refused_while_closed)  # the plan is known, the module not current yet

        async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
            changed = await plans.put(
                f"/plans/{plan_id}/modules/{DT_MODULE}/state", headers=staff, json={"state": "current"}
            )
            assert changed.status_code == 200

        async def open_now() -> dict | None:
            response = await forms.post(url, headers=patient, json={"answers": {"distress": 3}})
            return response.json() if response.status_code == 201 else None

        first = await eventually(open_now)
        assert first["results"][0]["label"] == "Låg" and not first["results"][0]["flag"]
        second = await forms.post(url, headers=patient, json={"answers": {"distress": 7}})
        assert second.status_code == 201 and second.json()["results"][0]["flag"]
        bad = await forms.post(url, headers=patient, json={"answers": {"distress": 11}})
        assert bad.status_code == 422 and bad.json()["field"] == "distress" and "maximum" in bad.json()["detail"]
        unknown = await forms.post(url, headers=patient, json={"answers": {"distress": 1, "mood": 2}})
        assert unknown.status_code == 422 and "mood" in unknown.json()["detail"]
        draft = await forms.post(url, headers=patient, json={"answers": {}, "draft": True})
        assert draft.status_code == 201 and draft.json()["status"] == "draft"

        table = (await forms.get(f"/plans/{plan_id}/forms/distress_thermometer/results", headers=staff)).json()
        assert [r["results"][0]["value"] for r in table["rows"]] == [3, 7]
        assert table["results"][0]["intervals"][1]["explanation"]
        assert (
            await forms.get(f"/plans/{plan_id}/forms/distress_thermometer/results", headers=patient)
        ).status_code == 200
        chart = await forms.get(
            f"/plans/{plan_id}/forms/distress_thermometer/results/distress/chart.svg", headers=patient
        )
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert chart.text.count('class="point"') == 2 and chart.text.count('class="band"') == 2
        # a rule fix: version 2 flags from 8; re-scoring records the new rule version and is audited
        fixed = json.loads((INSTRUMENTS / "distress_thermometer.json").read_text())
        fixed["version"] = 2
        fixed["results"][0]["version"] = 2
        fixed["results"][0]["intervals"] = [
            {"min": 0, "max": 8, "label": "Låg", "colour": "#2e7d32"},
            {"min": 8, "max": 10, "label": "Förhöjd", "colour": "#c62828", "flag": True},
        ]
        assert (await forms.post("/forms", headers=bearer(tokens.staff(Role.DESIGNER)), json=fixed)).status_code == 201
        rescored = await forms.post(f"/plans/{plan_id}/forms/distress_thermometer/rescore", headers=staff)
        assert [(r["results"][0]["label"], r["results"][0]["rule_version"]) for r in rescored.json()] == [
            ("Låg", 2),
            ("Låg", 2),
        ]
        trail = await forms.post(
            "/audit/query",
            json={"personnummer": personnummer},
            headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT)),
        )
        assert any(r["reason"] == "re-scored with version 2" for r in trail.json())
        flags = (await forms.get(f"/plans/{plan_id}/flags", headers=staff)).json()
        assert [f["kind"] for f in flags] == ["result"]
        assert (
            await forms.get(f"/plans/{plan_id}/flags", headers=bearer(tokens.staff(unit="SE2321000016-X")))
        ).status_code == 404

    # a day later the patient is notified (the forms service's clock moved a day on)
    platform.stop_service("forms")
    platform.start_service("forms", overrides={"CLOCK_OFFSET_SECONDS": str(86400 + 600)})
    try:
        platform.wait_ready(["forms"])
        await find_record(
            platform.addresses.kafka_bootstrap_servers,
            "careplan.forms.v1",
            lambda r: (
                r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.forms.patient_notification_due.v1"
            ),
            timeout=40,
        )
        mail = await eventually(
            lambda: [m for m in received(platform, "mail") if "formular@example.se" in m["to"]], timeout=30
        )
        assert mail[0]["subject"] == "Ett formulär att fylla i"
    finally:
        platform.stop_service("forms")
        platform.start_service("forms")
        platform.wait_ready(["forms"])


async def test_what_matters_answers_flag_the_unit_until_acknowledged(
    platform: Platform, tokens: Tokens, published_programs: list[str], published_forms: list[str]
) -> None:
    plan_id, personnummer = await patient_with_plan(platform, tokens, unit=UNIT)
    staff = bearer(tokens.staff(unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:

        async def answered() -> dict | None:
            response = await forms.post(
                f"/plans/{plan_id}/forms/what_matters_to_me/responses",
                headers=bearer(tokens.patient(personnummer)),
                json={"answers": {"answer": "Att kunna fortsätta arbeta."}},
            )
            return response.json() if response.status_code == 201 else None

        await eventually(answered)
        journal = await find_record(
            platform.addresses.kafka_bootstrap_servers,
            "careplan.forms.v1",
            lambda r: (
                r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.forms.what_matters_answered.v1"
            ),
        )
        assert is_envelope(json.loads(journal.value)["answer"])  # sealed with the plan's key on the topic
        assert platform.addresses is not None
        opened = await opened_payload(journal, platform.addresses.mongodb_uri, platform.keyring_database)
        assert opened["answer"] == "Att kunna fortsätta arbeta."
        async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:

            async def listed(kinds: list[str]) -> bool:
                page = (await plans.get("/units/me/plans", params={"page_size": 200}, headers=staff)).json()
                return [f["kind"] for r in page["items"] if r["plan_id"] == plan_id for f in r["flags"]] == kinds

            await eventually(lambda: listed(["what_matters"]))
            flag_id = (await forms.get(f"/plans/{plan_id}/flags", headers=staff)).json()[0]["id"]
            handled = await forms.post(f"/flags/{flag_id}/handled", headers=staff)
            assert handled.status_code == 200 and handled.json()["handled_by"] == "SE2321000016-T001"
            await eventually(lambda: listed([]))
