"""Retention's HTTP routes over the fakes: roles, statuses and problem details, no servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.retention.entrypoints.routes import router
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.web.openapi import install_openapi
from shared.web.problems import install_problem_handlers
from tests.unit.retention.fakes import OTHER_UNIT, PNR, UNIT, RetentionWorld

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
