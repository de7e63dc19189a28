"""Batteries, flag rules, activity plans and FHIR through the forms service's HTTP API, on the
running platform: a start battery opens as a Sömnhjälpen plan starts and the patient gets an
e-mail; a unit rule flags a result; an activity plan is registered and charted; forms travel as FHIR."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from launcher.stack import Platform
from services.forms.domain.activity import STOCKHOLM, WEEKDAYS
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, find_record, header
from tests.support.notify_helpers import received
from tests.unit.test_forms_fhir import PHQ_2

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-FORM02"
SLEEP = {"program_id": "somnhjalpen", "program_version": "2025.1"}


async def sleep_plan(platform: Platform, tokens: Tokens, email: str) -> tuple[str, str]:
    personnummer = new_personnummer("19750505")
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        answer = await api.put(
            "/me/preferences",
            headers=bearer(tokens.patient(personnummer)),
            json={"email_enabled": True, "email": email, "sms_enabled": False},
        )
        assert answer.status_code == 200, answer.text
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        response = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(unit=UNIT)),
            json={"personnummer": personnummer, "patient_name": "Sömn, Patient", "protected_identity": False, **SLEEP},
        )
        assert response.status_code == 201, response.text
    return response.json()["id"], personnummer


async def test_start_battery_extra_measurement_and_a_unit_rule_flag(
    platform: Platform, tokens: Tokens, published_programs: list[str], published_forms: list[str]
) -> None:
    designer, staff = bearer(tokens.staff(Role.DESIGNER)), bearer(tokens.staff(unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:
        refused = await forms.put(
            "/programs/somnhjalpen/start-battery", headers=designer, json={"form_ids": ["isi", "rcads_25"]}
        )
        assert refused.status_code == 422 and refused.json()["field"] == "form_ids"
        assert (
            await forms.put("/programs/somnhjalpen/start-battery", headers=staff, json={"form_ids": ["isi"]})
        ).status_code == 403
        assert (
            await forms.put(
                "/programs/somnhjalpen/start-battery",
                headers=designer,
                json={"name": "Startformulär", "form_ids": ["isi", "sleep_diary"]},
            )
        ).status_code == 204
        bad_rule = await forms.post("/units/me/flag-rules", headers=staff, json={"kind": "inactivity"})
        assert bad_rule.status_code == 422 and "days" in bad_rule.text
        rule = await forms.post(
            "/units/me/flag-rules",
            headers=staff,
            json={"kind": "result", "form_id": "isi", "result_id": "total", "labels": ["Subklinisk insomni"]},
        )
        assert rule.status_code == 201
        assert [r["id"] for r in (await forms.get("/units/me/flag-rules", headers=staff)).json()] == [rule.json()["id"]]

        plan_id, personnummer = await sleep_plan(platform, tokens, "somn@example.se")
        patient = bearer(tokens.patient(personnummer))

        async def start_battery_open() -> dict | None:
            response = await forms.get(f"/plans/{plan_id}/open-forms", headers=patient)
            return response.json() if response.status_code == 200 and response.json() else None

        opened = await eventually(start_battery_open)
        assert opened[f"battery:start:{plan_id}:1"] == ["isi", "sleep_diary"]
        mail = await eventually(
            lambda: [m for m in received(platform, "mail") if "somn@example.se" in m["to"]], timeout=30
        )
        assert mail[0]["subject"] == "Ett formulär att fylla i"

        isi = await forms.post(
            f"/plans/{plan_id}/forms/isi/responses",
            headers=patient,
            json={"answers": {f"q{n}": "2" for n in range(1, 8)}},
        )
        assert isi.status_code == 201 and isi.json()["results"][0]["label"] == "Subklinisk insomni"
        flags = (await forms.get(f"/plans/{plan_id}/flags", headers=staff)).json()
        assert [(f["kind"], f["label"]) for f in flags] == [("result", "Subklinisk insomni")]
        assert (await forms.get(f"/plans/{plan_id}/open-forms", headers=patient)).json()[
            f"battery:start:{plan_id}:1"
        ] == ["sleep_diary"]

        closed = await forms.post(
            f"/plans/{plan_id}/forms/phq_9/responses",
            headers=patient,
            json={"answers": {f"q{n}": "0" for n in range(1, 10)}},
        )
        assert closed.status_code == 409
        extra = await forms.post(
            f"/plans/{plan_id}/batteries",
            headers=staff,
            json={"name": "Extramätning", "form_ids": ["phq_9"], "trigger": "now"},
        )
        assert extra.status_code == 201, extra.text
        assert (
            await forms.post(
                f"/plans/{plan_id}/batteries",
                headers=bearer(tokens.staff(unit="SE2321000016-X")),
                json={"name": "x", "form_ids": ["phq_9"], "trigger": "now"},
            )
        ).status_code == 404
        missing = await forms.post(
            f"/plans/{plan_id}/batteries",
            headers=staff,
            json={"name": "x", "form_ids": ["phq_9"], "trigger": "schedule"},
        )
        assert missing.status_code == 422 and "start_date" in missing.text
        answered = await forms.post(
            f"/plans/{plan_id}/forms/phq_9/responses",
            headers=patient,
            json={"answers": {f"q{n}": "0" for n in range(1, 10)}},
        )
        assert answered.status_code == 201
        listed = (await forms.get(f"/plans/{plan_id}/batteries", headers=staff)).json()
        assert [(b["trigger"], b["occasions"]) for b in listed] == [("plan_start", 1), ("now", 1)]
        due = await find_record(
            platform.addresses.kafka_bootstrap_servers,
            "careplan.forms.v1",
            lambda r: (
                r.key == plan_id.encode() and header(r, "ce_type") == "se.careplan.forms.measurement_completed.v1"
            ),
        )
        assert json.loads(due.value)["battery_id"] == extra.json()["id"]

        # the answers as a FHIR QuestionnaireResponse, for the unit's staff only
        exported = await forms.get(f"/plans/{plan_id}/forms/isi/responses/{isi.json()['id']}/fhir", headers=staff)
        assert exported.headers["content-type"].startswith("application/fhir+json")
        resource = QuestionnaireResponse.model_validate(exported.json())
        assert resource.subject.identifier.value == personnummer  # type: ignore[union-attr]
        assert (
            await forms.get(
                f"/plans/{plan_id}/forms/isi/responses/{isi.json()['id']}/fhir",
                headers=bearer(tokens.staff(unit="SE2321000016-X")),
            )
        ).status_code == 404


async def test_activity_plan_registrations_flags_and_chart(
    platform: Platform, tokens: Tokens, published_programs: list[str], published_forms: list[str]
) -> None:
    plan_id, personnummer = await sleep_plan(platform, tokens, "aktivitet@example.se")
    staff, patient = bearer(tokens.staff(unit=UNIT)), bearer(tokens.patient(personnummer))
    today = datetime.now(STOCKHOLM).date()
    plan = {
        "title": "Promenad",
        "start_date": today.isoformat(),
        "registration_window_days": 1,
        "flag_on_missed": True,
        "allow_comments": True,
        "schedule": [{"weekday": WEEKDAYS[today.weekday()], "time": "00:00"}],
        "measurements": [
            {
                "id": "distance",
                "title": "Sträcka",
                "unit": "km",
                "min_target": 2,
                "flag_outside_target": True,
                "mandatory": True,
                "chart_patient": True,
            },
            {"id": "pulse", "title": "Puls", "unit": "times"},
        ],
    }
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:

        async def known() -> bool:
            return (await forms.get(f"/plans/{plan_id}/open-forms", headers=staff)).status_code == 200

        await eventually(known)
        for change, field in (
            ({"schedule": [{"weekday": "mon", "time": "08:15"}]}, "time"),
            ({"measurements": [{"id": "w", "title": "Vikt", "unit": "stone"}]}, "unit"),
        ):
            refused = await forms.post(f"/plans/{plan_id}/activity-plans", headers=staff, json=plan | change)
            assert refused.status_code == 422 and field in refused.text
        created = await forms.post(f"/plans/{plan_id}/activity-plans", headers=staff, json=plan)
        assert created.status_code == 201, created.text
        url = f"/plans/{plan_id}/activity-plans/{created.json()['id']}/registrations"
        occasion = datetime.combine(today, datetime.min.time(), tzinfo=STOCKHOLM).isoformat()

        not_a_number = await forms.post(
            url,
            headers=patient | {"content-type": "application/json"},
            content=json.dumps({"occasion": occasion, "values": {"distance": float("nan")}}),
        )
        assert not_a_number.status_code == 422 and not_a_number.json()["field"] == "values.distance"
        skipped = await forms.post(url, headers=patient, json={"occasion": occasion, "skipped": True})
        assert skipped.status_code == 422 and skipped.json()["field"] == "skipped"
        done = await forms.post(
            url,
            headers=patient,
            json={"occasion": occasion, "values": {"distance": 1.2, "pulse": 70}, "comment": "Blåsigt"},
        )
        assert done.status_code == 201, done.text
        assert (
            await forms.post(url, headers=patient, json={"occasion": occasion, "values": {"distance": 3}})
        ).status_code == 409
        assert [f["kind"] for f in (await forms.get(f"/plans/{plan_id}/flags", headers=staff)).json()] == [
            "outside_target"
        ]
        assert (await forms.get(url, headers=patient)).json()[0]["values"] == {"distance": 1.2}
        assert (await forms.get(url, headers=staff)).json()[0]["values"] == {"distance": 1.2, "pulse": 70}
        chart = await forms.get(
            f"/plans/{plan_id}/activity-plans/{created.json()['id']}/measurements/distance/chart.svg", headers=patient
        )
        assert chart.status_code == 200 and chart.text.count('class="point"') == 1 and 'class="band"' in chart.text
        hidden = await forms.get(
            f"/plans/{plan_id}/activity-plans/{created.json()['id']}/measurements/pulse/chart.svg", headers=patient
        )
        assert hidden.status_code == 404


async def test_fhir_questionnaires_import_and_export(
    platform: Platform, tokens: Tokens, published_forms: list[str]
) -> None:
    designer = bearer(tokens.staff(Role.DESIGNER))
    async with httpx.AsyncClient(base_url=platform.urls["forms"], timeout=30) as forms:
        imported = await forms.post("/forms/fhir", headers=designer, json=PHQ_2)
        assert imported.status_code in (200, 201) and imported.json()["form_id"] == "phq2"
        assert (await forms.post("/forms/fhir", headers=bearer(tokens.staff()), json=PHQ_2)).status_code == 403
        bad = await forms.post(
            "/forms/fhir",
            headers=designer,
            json=PHQ_2 | {"item": [{"linkId": "when", "type": "date", "text": "Datum"}]},
        )
        assert bad.status_code == 422 and bad.json()["field"] == "when"
        form = (await forms.get("/forms/phq2", headers=designer)).json()
        assert form["results"][0]["kind"] == "sum" and len(form["questions"]) == 3
        exported = await forms.get("/forms/phq_9/fhir", headers=designer)
        assert exported.headers["content-type"].startswith("application/fhir+json")
        questionnaire = Questionnaire.model_validate(exported.json())
        assert questionnaire.url == "urn:careplan:form:phq_9" and len(questionnaire.item) == 11  # type: ignore[arg-type]
