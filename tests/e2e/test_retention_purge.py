"""The purge saga through HTTP on the running platform: retention coordinates the purge, answers its
own request like every participant, and shows which receipts are in and which are still asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from launcher.stack import Platform
from shared.contracts.purge import PURGING_SERVICES
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.e2e.test_plans_api import start_plan
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-PUR01"
OTHER_UNIT = "SE2321000016-PUR02"
FORCE = {"force": True, "reason": "test: purged without waiting for the export"}


@pytest.fixture
async def retention_api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as client:
        yield client


async def status_of(retention: httpx.AsyncClient, plan_id: str, token: str) -> str | None:
    answer = await retention.get(f"/plans/{plan_id}/retention", headers=bearer(token))
    return answer.json()["status"] if answer.status_code == 200 else None


async def has_status(retention: httpx.AsyncClient, plan_id: str, token: str, expected: str) -> bool:
    return await status_of(retention, plan_id, token) == expected


async def test_a_data_admin_purges_an_ended_plan_and_sees_the_receipts(
    plans_api: httpx.AsyncClient, retention_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    therapist = tokens.staff(unit=UNIT)
    admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT, hsa_id="SE2321000016-D001"))
    personnummer = new_personnummer("19720304")
    plan_id = (await start_plan(plans_api, therapist, personnummer))["id"]
    sleep_program = {"program_id": "somnhjalpen", "program_version": "2025.1"}
    other_id = (await start_plan(plans_api, therapist, personnummer, **sleep_program))["id"]  # same patient
    for known in (plan_id, other_id):
        await eventually(lambda known=known: status_of(retention_api, known, therapist))

    active = await retention_api.post(f"/plans/{plan_id}/purge", headers=admin, json=FORCE)
    assert active.status_code == 409 and "active" in active.json()["detail"], active.text

    for known in (plan_id, other_id):
        ended = await plans_api.post(f"/plans/{known}/end", headers=bearer(therapist), json={"reason": "completed"})
        assert ended.status_code == 200, ended.text
        await eventually(lambda known=known: has_status(retention_api, known, therapist, "ended"))

    # Ending the plan also exported it for the journal (test_journal_export.py): whether that is complete
    # yet is a race, so the refusal of an unexported plan without force is shown by the unit tests.
    accepted = await retention_api.post(f"/plans/{plan_id}/purge", headers=admin, json=FORCE)
    assert accepted.status_code == 202, accepted.text
    again = await retention_api.post(f"/plans/{plan_id}/purge", headers=admin, json=FORCE)
    assert again.status_code == 202 and again.json()["purge_id"] == accepted.json()["purge_id"]

    async def retention_receipt_in() -> dict[str, object] | None:
        answer = await retention_api.get(f"/plans/{plan_id}/purge", headers=admin)
        assert answer.status_code == 200, answer.text
        state = answer.json()
        return state if "retention" in state["received"] else None

    state = await eventually(retention_receipt_in, timeout=30)
    # Participants arrive service by service: whoever has not answered yet is still asked, in order.
    assert sorted(state["received"] + state["missing"]) == sorted(PURGING_SERVICES)
    assert state["missing"] == [s for s in PURGING_SERVICES if s not in state["received"]]
    assert state["state"] == ("requested" if state["missing"] else "completed")
    assert set(state["receipts"]) == set(state["received"])
    own = state["receipts"]["retention"]
    assert (own["schedules"], own["plan_ownership"], own["exports"]) == (1, 1, 1)  # the export made at the end
    assert own["timers"] >= 3  # the limit, two reminders, and the export's re-requests (if any yet)
    assert state["purge_id"] == accepted.json()["purge_id"] and state["forced"] is True

    patient_admin = bearer(tokens.staff(Role.PATIENT_ADMIN, unit=UNIT))
    assert (await retention_api.get(f"/plans/{plan_id}/purge", headers=patient_admin)).status_code == 200
    assert (await retention_api.get(f"/plans/{plan_id}/retention", headers=bearer(therapist))).status_code == 404
    assert await status_of(retention_api, other_id, therapist) == "ended"  # the other plan is untouched


async def test_purge_refusals(
    plans_api: httpx.AsyncClient, retention_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    therapist = tokens.staff(unit=UNIT)
    plan_id = (await start_plan(plans_api, therapist))["id"]
    await plans_api.post(f"/plans/{plan_id}/end", headers=bearer(therapist), json={"reason": "completed"})
    await eventually(lambda: has_status(retention_api, plan_id, therapist, "ended"))

    for role in (Role.THERAPIST, Role.PATIENT_ADMIN):
        refused = await retention_api.post(
            f"/plans/{plan_id}/purge", headers=bearer(tokens.staff(role, unit=UNIT)), json=FORCE
        )
        assert refused.status_code == 403, refused.text
    foreign = await retention_api.post(
        f"/plans/{plan_id}/purge", headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=OTHER_UNIT)), json=FORCE
    )
    missing = await retention_api.post(
        "/plans/no-such-plan/purge", headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT)), json=FORCE
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"] == missing.json()["detail"] == "no such plan"
    assert foreign.headers["content-type"] == "application/problem+json"
    no_reason = await retention_api.post(
        f"/plans/{plan_id}/purge", headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT)), json={"force": True}
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"

    listed = await retention_api.get(
        "/units/me/ended-plans",
        params={"ended_before": "2100-01-01", "page_size": 1000},
        headers=bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT)),
    )
    assert listed.status_code == 200 and plan_id in {r["plan_id"] for r in listed.json()["items"]}
