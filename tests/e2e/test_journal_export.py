"""The export for the journal on the running platform: a plan with a message ends, retention asks every
service for its part and assembles the export; the admins download it as a valid FHIR R4 Bundle and
as a PDF in Swedish; others may not; and the purge that follows needs no force and leaves nothing."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from launcher.catalogue import all_topics
from launcher.purge_verify import Needles, verify
from launcher.stack import Platform
from shared.contracts.export import EXPORTING_SERVICES
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-EXP01"
OTHER_UNIT = "SE2321000016-EXP02"
NAME = "Öberg, Åsa"
SLEEP = {"program_id": "somnhjalpen", "program_version": "2025.1"}
MARKER = "ref-QX7-EXPORT"
"""An ASCII token in the message, found by a byte search however a serializer escapes the Swedish letters."""
MESSAGE = f"Hej! Jag sover dåligt – kan ni ringa mig på förmiddagen? ({MARKER})"


async def start_plan_with_a_message(platform: Platform, tokens: Tokens, personnummer: str) -> str:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        started = await plans.post(
            "/plans",
            headers=bearer(tokens.staff(Role.THERAPIST, unit=UNIT)),
            json={"personnummer": personnummer, "patient_name": NAME, **SLEEP},
        )
    assert started.status_code == 201, started.text
    plan_id = str(started.json()["id"])
    patient = bearer(tokens.patient(personnummer))
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as messaging:

        async def patient_writes() -> bool:
            body = {"subject": "Sömnen", "text": MESSAGE}
            answer = await messaging.post(f"/plans/{plan_id}/conversations", headers=patient, json=body)
            return answer.status_code == 201

        await eventually(patient_writes, timeout=30)  # messaging hears of the plan first
    return plan_id


async def end_plan(platform: Platform, tokens: Tokens, plan_id: str) -> None:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        ended = await plans.post(
            f"/plans/{plan_id}/end", headers=bearer(tokens.staff(unit=UNIT)), json={"reason": "completed"}
        )
    assert ended.status_code == 200, ended.text


async def completed_export(retention: httpx.AsyncClient, plan_id: str, admin: dict[str, str]) -> dict:
    """The plan's export once every service's part is in (it was requested when the plan ended)."""

    async def complete() -> dict | None:
        listed = await retention.get(f"/plans/{plan_id}/exports", headers=admin)
        items = listed.json().get("items", []) if listed.status_code == 200 else []
        return next((e for e in items if e["state"] == "completed"), None)

    export = await eventually(complete, timeout=120)
    assert isinstance(export, dict), "the export did not complete"
    return export


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_an_ended_plan_is_exported_downloaded_and_then_purged_without_force(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19690315")
    plan_id = await start_plan_with_a_message(platform, tokens, personnummer)
    await end_plan(platform, tokens, plan_id)
    admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT, hsa_id="SE2321000016-D901"))
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:
        export = await completed_export(retention, plan_id, admin)
        assert (export["received"], export["missing"]) == (list(EXPORTING_SERVICES), [])
        url = f"/plans/{plan_id}/exports/{export['export_id']}"

        fhir = await retention.get(url, headers=admin)
        assert (fhir.status_code, fhir.headers["content-type"]) == (200, "application/fhir+json"), fhir.text
        bundle = fhir.json()
        Bundle.model_validate(bundle)
        texts = [p["contentString"] for e in bundle["entry"] for p in e["resource"].get("payload", [])]
        assert MESSAGE in texts
        patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        assert patient["identifier"][0]["value"] == personnummer and patient["name"][0]["text"] == NAME

        patient_admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=UNIT))
        for path, headers in ((url, patient_admin | {"Accept": "application/pdf"}), (f"{url}.pdf", admin)):
            pdf = await retention.get(path, headers=headers)
            assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
            assert pdf.content.startswith(b"%PDF")
            text = pdf_text(pdf.content)
            for expected in ("Vårdplan – export för journalen", "Sömnhjälpen", NAME, personnummer, MESSAGE):
                assert expected in text, expected

        foreign = await retention.get(url, headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=OTHER_UNIT)))
        assert (foreign.status_code, foreign.json()["detail"]) == (404, "no such plan")
        therapist = await retention.get(url, headers=bearer(tokens.staff(Role.THERAPIST, unit=UNIT)))
        assert therapist.status_code == 403

        purge = await retention.post(f"/plans/{plan_id}/purge", headers=admin, json={"force": False})
        assert purge.status_code == 202 and purge.json()["forced"] is False, purge.text

        async def purged() -> bool:
            state = (await retention.get(f"/plans/{plan_id}/purge", headers=admin)).json()
            return state.get("state") == "completed"

        await eventually(purged, timeout=120)
        gone = await retention.get(f"/plans/{plan_id}/exports", headers=admin)
        assert gone.status_code == 404

    # Nothing of the plan in any database, and nothing personal on any topic: the parts that carried the
    # message and the name were sealed with the plan's key, which the purge destroyed.
    endpoints = json.loads(platform.write_endpoints().read_text())
    topics = [t.name for t in all_topics()]
    report = await verify(endpoints, topics, Needles(plan_id=plan_id, personal=[personnummer, NAME, MARKER]))
    assert report.findings == [], "\n".join(report.lines())
    assert report.scanned["kafka records"] > 0
