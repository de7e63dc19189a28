"""Retention's HTTP routes over the fakes: roles, statuses and problem details, no servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.retention.entrypoints.routes import prefers_pdf, router
from shared.contracts.export import EXPORTING_SERVICES
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.web.openapi import install_openapi
from shared.web.problems import install_problem_handlers
from tests.unit.retention.fakes import OTHER_UNIT, PNR, UNIT, RetentionWorld
from tests.unit.retention.test_exports import export_part

CALLERS: dict[str, Principal] = {
    "admin": Staff(hsa_id="SE2321000016-D1", unit_id=UNIT, roles=frozenset({Role.DATA_ADMIN})),
    "patient-admin": Staff(hsa_id="SE2321000016-P1", unit_id=UNIT, roles=frozenset({Role.PATIENT_ADMIN})),
    "therapist": Staff(hsa_id="SE2321000016-T1", unit_id=UNIT, roles=frozenset({Role.THERAPIST})),
    "foreign-admin": Staff(hsa_id="SE2321000016-D2", unit_id=OTHER_UNIT, roles=frozenset({Role.DATA_ADMIN})),
    "patient": Patient(personnummer=PNR),
}


class StubVerifier:
    """Tokens are the callers' names."""

    def verify(self, token: str) -> Principal:
        return CALLERS[token]


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, RetentionWorld]]:
    world = RetentionWorld()
    await world.start("active")
    await world.start("ended")
    await world.end("ended")
    app = FastAPI()
    install_problem_handlers(app)
    install_openapi(app)
    app.include_router(router)
    app.state.service, app.state.verifier = world.services, StubVerifier()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, world


def as_(caller: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {caller}"}


async def test_purge_statuses(api: tuple[httpx.AsyncClient, RetentionWorld]) -> None:
    client, _ = api
    force = {"force": True, "reason": "flyttat utomlands"}
    assert (await client.post("/plans/ended/purge", headers=as_("therapist"), json=force)).status_code == 403
    assert (await client.post("/plans/ended/purge", headers=as_("patient-admin"), json=force)).status_code == 403
    for plan_id, caller in [("ended", "foreign-admin"), ("nowhere", "admin")]:
        missing = await client.post(f"/plans/{plan_id}/purge", headers=as_(caller), json=force)
        assert (missing.status_code, missing.json()["detail"]) == (404, "no such plan")
    active = await client.post("/plans/active/purge", headers=as_("admin"), json=force)
    assert active.status_code == 409 and "active" in active.json()["detail"]
    unexported = await client.post("/plans/ended/purge", headers=as_("admin"))  # no body: force false
    assert unexported.status_code == 409 and unexported.json()["field"] == "force"
    accepted = await client.post("/plans/ended/purge", headers=as_("admin"), json=force)
    again = await client.post("/plans/ended/purge", headers=as_("admin"), json=force)
    assert accepted.status_code == again.status_code == 202
    assert accepted.json()["purge_id"] == again.json()["purge_id"]
    state = await client.get("/plans/ended/purge", headers=as_("patient-admin"))
    assert state.status_code == 200 and state.json()["missing"] == [
        "plans",
        "messaging",
        "forms",
        "notifications",
        "retention",
        "handover",
    ]
    assert (await client.get("/plans/ended/purge", headers=as_("therapist"))).status_code == 403


async def test_retention_and_ended_plans_routes(api: tuple[httpx.AsyncClient, RetentionWorld]) -> None:
    client, world = api
    schedule = await client.get("/plans/ended/retention", headers=as_("therapist"))
    assert schedule.status_code == 200 and schedule.json()["status"] == "ended"
    assert (await client.get("/plans/ended/retention", headers=as_("patient"))).status_code == 403
    tomorrow = (world.clock.now() + timedelta(days=1)).date().isoformat()
    listed = await client.get("/units/me/ended-plans", params={"ended_before": tomorrow}, headers=as_("admin"))
    assert listed.status_code == 200 and [r["plan_id"] for r in listed.json()["items"]] == ["ended"]
    bad = await client.get("/units/me/ended-plans", params={"ended_before": "soon"}, headers=as_("admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ended_before"


async def test_export_routes(api: tuple[httpx.AsyncClient, RetentionWorld]) -> None:
    client, world = api
    [export_id] = list(world.exports.items)  # requested when the plan ended
    for caller in ("therapist", "patient"):
        assert (await client.get("/plans/ended/exports", headers=as_(caller))).status_code == 403
    for plan_id, caller in [("ended", "foreign-admin"), ("nowhere", "admin")]:
        missing = await client.get(f"/plans/{plan_id}/exports/{export_id}", headers=as_(caller))
        assert (missing.status_code, missing.json()["detail"]) == (404, "no such plan")
    listed = await client.get("/plans/ended/exports", headers=as_("patient-admin"))
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["export_id"], item["state"], item["received"]) == (export_id, "requested", [])
    early = await client.get(f"/plans/ended/exports/{export_id}", headers=as_("admin"))
    assert early.status_code == 409 and early.json()["field"] == "export_id"
    assert "waiting for the parts of plans" in early.json()["detail"]
    await world.deliver(*(export_part(s, export_id, "ended") for s in EXPORTING_SERVICES))

    bundle = await client.get(f"/plans/ended/exports/{export_id}", headers=as_("admin"))
    assert (bundle.status_code, bundle.headers["content-type"]) == (200, "application/fhir+json")
    assert bundle.json()["resourceType"] == "Bundle" and bundle.headers["cache-control"] == "no-store"
    pdf_headers = as_("patient-admin") | {"Accept": "application/pdf"}
    for path, headers in [
        (f"/plans/ended/exports/{export_id}", pdf_headers),
        (f"/plans/ended/exports/{export_id}.pdf", as_("admin")),
    ]:
        pdf = await client.get(path, headers=headers)
        assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
        assert pdf.content.startswith(b"%PDF") and export_id in pdf.headers["content-disposition"]
    other = await client.get("/plans/active/exports/" + export_id, headers=as_("admin"))
    assert (other.status_code, other.json()["detail"]) == (404, "no such export")

    active = await client.post("/plans/active/exports", headers=as_("admin"))
    assert active.status_code == 409 and active.json()["field"] == "plan_id"
    again = await client.post("/plans/ended/exports", headers=as_("patient-admin"))
    assert again.status_code == 202 and again.json()["missing"] == list(EXPORTING_SERVICES)
    assert (await client.post("/plans/ended/exports", headers=as_("therapist"))).status_code == 403


@pytest.mark.parametrize(
    ("accept", "pdf"),
    [
        (None, False),
        ("application/pdf", True),
        ("application/fhir+json", False),
        ("application/json, application/pdf", False),
        ("application/json;q=0.5, application/pdf", True),
        ("*/*", False),
        ("application/pdf;q=oops, text/html", False),
    ],
)
def test_accept_chooses_the_pdf_only_when_preferred(accept: str | None, pdf: bool) -> None:
    assert prefers_pdf(accept) is pdf


def test_the_export_routes_are_documented_with_their_media_types() -> None:
    app = FastAPI()
    install_openapi(app)
    app.include_router(router)
    paths = app.openapi()["paths"]
    one = paths["/plans/{plan_id}/exports/{export_id}"]["get"]
    assert set(one["responses"]["200"]["content"]) == {"application/fhir+json", "application/pdf"}
    assert set(paths["/plans/{plan_id}/exports/{export_id}.pdf"]["get"]["responses"]["200"]["content"]) == {
        "application/pdf"
    }
    for path in ("/plans/{plan_id}/exports", "/plans/{plan_id}/exports/{export_id}"):
        for operation in paths[path].values():
            assert operation["summary"] and operation["security"] == [{"bearerAuth": []}]
            assert "application/problem+json" in operation["responses"]["409"]["content"]
