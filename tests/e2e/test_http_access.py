"""Access rules and bad input over HTTP, on the running plans service."""

from __future__ import annotations

import httpx
import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import OTHER_UNIT, Tokens, bearer, new_personnummer

pytestmark = pytest.mark.integration


async def start(client: httpx.AsyncClient, token: str, personnummer: str) -> httpx.Response:
    return await client.post(
        "/plans",
        headers=bearer(token),
        json={
            "personnummer": personnummer,
            "patient_name": "Access, Test",
            "program_id": "min-vardplan-brostcancer",
            "program_version": "1.0",
        },
    )


async def test_missing_or_invalid_tokens_get_401(plans_api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await plans_api.get("/programs", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"]


async def test_roles_and_units_are_enforced(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19720101")
    created = await start(plans_api, tokens.staff(Role.THERAPIST), personnummer)
    assert created.status_code == 201
    plan_id = created.json()["id"]

    designer_only = await start(plans_api, tokens.staff(Role.DESIGNER), new_personnummer())
    assert designer_only.status_code == 403
    patient = await start(plans_api, tokens.patient(personnummer), new_personnummer())
    assert patient.status_code == 403

    missing = await plans_api.get("/plans/no-such-plan", headers=bearer(tokens.staff()))
    other_unit = await plans_api.get(f"/plans/{plan_id}", headers=bearer(tokens.staff(unit=OTHER_UNIT)))
    assert missing.status_code == other_unit.status_code == 404
    assert missing.json() == other_unit.json()

    other_patient = await plans_api.get(
        f"/plans/{plan_id}/patient-view", headers=bearer(tokens.patient(new_personnummer()))
    )
    assert other_patient.status_code == 404 and other_patient.json() == missing.json()
    own = await plans_api.get(f"/plans/{plan_id}/patient-view", headers=bearer(tokens.patient(personnummer)))
    assert own.status_code == 200


async def test_malformed_json_and_bad_fields_get_422_naming_the_field(
    plans_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = bearer(tokens.staff()) | {"Content-Type": "application/json"}
    broken = await plans_api.post("/plans", headers=headers, content=b'{"personnummer": ')
    assert broken.status_code == 422
    missing_field = await plans_api.post("/plans", headers=headers, json={"personnummer": new_personnummer()})
    assert missing_field.status_code == 422
    problem = missing_field.json()
    assert missing_field.headers["content-type"] == "application/problem+json" and problem["status"] == 422
    named = {(e["location"], e["field"]) for e in problem["errors"]}
    assert ("body", "program_id") in named and ("body", "patient_name") in named


async def test_reads_and_changes_are_audited_per_patient(
    platform: Platform, plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19550505")
    created = await start(plans_api, tokens.staff(hsa_id="SE2321000016-AUD1"), personnummer)
    plan_id = created.json()["id"]
    await plans_api.get(f"/plans/{plan_id}", headers=bearer(tokens.staff(hsa_id="SE2321000016-AUD2")))
    await plans_api.get(f"/plans/{plan_id}/patient-view", headers=bearer(tokens.patient(personnummer)))

    query = {"personnummer": personnummer}
    denied = await plans_api.post("/audit/query", json=query, headers=bearer(tokens.staff(Role.THERAPIST)))
    assert denied.status_code == 403
    answer = await plans_api.post("/audit/query", json=query, headers=bearer(tokens.staff(Role.DATA_ADMIN)))
    assert answer.status_code == 200
    trail = {(r["action"], r["actor_kind"], r["actor_ref"]) for r in answer.json() if r["resource_id"] == plan_id}
    assert ("create", "staff", "SE2321000016-AUD1") in trail
    assert ("read", "staff", "SE2321000016-AUD2") in trail
    assert any(action == "read" and kind == "patient" for action, kind, _ in trail)
    assert personnummer not in answer.text  # a pseudonym, never the number itself
    elsewhere = await plans_api.post(
        "/audit/query", json=query, headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=OTHER_UNIT))
    )
    assert elsewhere.json() == []
