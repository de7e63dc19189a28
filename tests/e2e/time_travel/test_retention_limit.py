"""Day 730, by clock jumps: a plan still active at its limit is ended by the system (reason `limit`),
becomes read-only, its patient is told, it is exported for the journal, and after the grace period it
is purged automatically with every service's receipt in, leaving nothing of it behind.

The jump moves the clocks of plans and retention only (restarted with `CLOCK_OFFSET_SECONDS`); the
other services keep theirs. Every plan of the session reaches its limit too: timeouts allow for that."""

from __future__ import annotations

import json

import httpx
import pytest

from launcher.purge_verify import Needles, verify
from launcher.stack import Platform
from shared.contracts.plans import PLANS_TOPIC, PlanEnded
from shared.contracts.purge import PURGING_SERVICES
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer, new_personnummer
from tests.e2e.test_plans_api import start_plan
from tests.e2e.test_purge_trace import assert_receipts_and_completion, purge_trace, step
from tests.support.kafka_helpers import eventually, find_record, header
from tests.support.notify_helpers import received

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-LIM730"
NAME = "Gränsdag, Vera"
EMAIL = "vera.gransdag@example.se"
DAY = 86400
AT_LIMIT = 731 * DAY
"""A day past the limit: the limit timer is due, the automatic purge (30 days' grace) not yet."""
AFTER_GRACE = AT_LIMIT + 31 * DAY
"""Past the grace period after an end at the limit: the automatic purge is due."""
GRACE = {"RETENTION_PURGE_GRACE_DAYS": "30"}


def restart(platform: Platform, service: str, offset_seconds: int | None, **settings: str) -> None:
    """Restart a service with its clock moved ahead (or back to normal with None)."""
    platform.stop_service(service)
    clock = {"CLOCK_OFFSET_SECONDS": str(offset_seconds)} if offset_seconds else {}
    platform.start_service(service, overrides=clock | settings)


async def a_patient_using_a_plan(platform: Platform, tokens: Tokens, personnummer: str) -> str:
    """An active plan whose patient gets e-mail notices and has written a message."""
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        plan_id = str((await start_plan(plans, tokens.staff(unit=UNIT), personnummer, patient_name=NAME))["id"])
    patient = bearer(tokens.patient(personnummer))
    async with httpx.AsyncClient(base_url=platform.urls["notifications"], timeout=30) as api:
        preferences = {"email_enabled": True, "email": EMAIL, "sms_enabled": False, "phone": None}
        assert (await api.put("/me/preferences", headers=patient, json=preferences)).status_code == 200
    assert await patient_writes(platform, plan_id, patient) == 201
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def scheduled() -> bool:  # retention holds the plan's limit timer
            answer = await retention.get(f"/plans/{plan_id}/retention", headers=bearer(tokens.staff(unit=UNIT)))
            return answer.status_code == 200

        await eventually(scheduled)
    return plan_id


async def patient_writes(platform: Platform, plan_id: str, patient: dict[str, str]) -> int:
    """The status of a new conversation the patient starts (201 once messaging knows the plan)."""
    body = {"subject": "Fråga", "text": "Hej, hur länge finns min plan kvar?"}
    async with httpx.AsyncClient(base_url=platform.urls["messaging"], timeout=30) as api:

        async def answered() -> int | None:
            status = (await api.post(f"/plans/{plan_id}/conversations", headers=patient, json=body)).status_code
            return status if status in (201, 409) else None

        status = await eventually(answered, timeout=30)
    assert isinstance(status, int)
    return status


async def the_plan_ended_at_its_limit(platform: Platform, tokens: Tokens, plan_id: str, personnummer: str) -> None:
    """Ended by the system with reason `limit`; staff still read it; the patient can write no more, and
    got the plan-ended notice."""
    staff = bearer(tokens.staff(unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:

        async def ended() -> bool:
            return (await plans.get(f"/plans/{plan_id}", headers=staff)).json().get("status") == "ended"

        await eventually(ended, timeout=120)
    record = await find_record(
        platform.addresses.kafka_bootstrap_servers,
        PLANS_TOPIC.name,
        lambda r: r.key == plan_id.encode() and header(r, "ce_type") == PlanEnded.ce_type,
        timeout=30,
    )
    assert json.loads(record.value)["reason"] == "limit"
    patient = bearer(tokens.patient(personnummer))
    assert await eventually(lambda: _refused(platform, plan_id, patient), timeout=60)
    notices = await eventually(
        lambda: [m for m in received(platform, "mail") if EMAIL in m["to"] and "avslutats" in m["subject"]],
        timeout=60,
    )
    assert isinstance(notices, list) and notices[0]["subject"] == "Din vårdplan har avslutats"
    assert "Gränsdag" not in notices[0]["body"] and "bröstcancer" not in notices[0]["body"].lower()


async def _refused(platform: Platform, plan_id: str, patient: dict[str, str]) -> bool:
    return await patient_writes(platform, plan_id, patient) == 409


async def the_plan_was_exported(platform: Platform, tokens: Tokens, plan_id: str) -> None:
    """A completed export, with every service's part, in retention's list of the plan's exports."""
    admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def completed() -> list[dict] | None:
            answer = await retention.get(f"/plans/{plan_id}/exports", headers=admin)
            assert answer.status_code == 200, answer.text
            done = [e for e in answer.json()["items"] if e["state"] == "completed"]
            return done or None

        exports = await eventually(completed, timeout=120)
    assert isinstance(exports, list) and exports[0]["missing"] == []


async def the_plan_was_purged(platform: Platform, tokens: Tokens, plan_id: str) -> str:
    """Purged by the system with every receipt in, unforced (it was exported); returns the purge id."""
    admin = bearer(tokens.staff(Role.DATA_ADMIN, unit=UNIT))
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:

        async def completed() -> dict | None:
            answer = await retention.get(f"/plans/{plan_id}/purge", headers=admin)
            state = answer.json() if answer.status_code == 200 else {}
            return state if state.get("state") == "completed" else None

        state = await eventually(completed, timeout=180)
    assert isinstance(state, dict)
    assert sorted(state["received"]) == sorted(PURGING_SERVICES) and state["missing"] == []
    assert state["forced"] is False
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as plans:
        assert (await plans.get(f"/plans/{plan_id}", headers=bearer(tokens.staff(unit=UNIT)))).status_code == 404
    return str(state["purge_id"])


async def test_day_730_ends_exports_and_purges_the_plan(
    platform: Platform, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19610730")
    plan_id = await a_patient_using_a_plan(platform, tokens, personnummer)
    restart(platform, "plans", AT_LIMIT)
    restart(platform, "retention", AT_LIMIT, **GRACE)
    try:
        platform.wait_ready(["plans", "retention"])
        await the_plan_ended_at_its_limit(platform, tokens, plan_id, personnummer)
        await the_plan_was_exported(platform, tokens, plan_id)

        restart(platform, "retention", AFTER_GRACE, **GRACE)  # the grace period is over: the system purges it
        platform.wait_ready(["retention"])
        purge_id = await the_plan_was_purged(platform, tokens, plan_id)
        spans = await purge_trace(platform, purge_id)  # the system's purge, started by a timer: one trace too
        started = step(spans, "retention", "started")
        assert started is not None
        assert_receipts_and_completion(spans, started["context"]["span_id"])
        endpoints = json.loads(platform.write_endpoints().read_text())
        report = await verify(endpoints, [], Needles(plan_id=plan_id, personal=[personnummer, NAME]))
        assert report.findings == [], "\n".join(report.lines())
    finally:
        restart(platform, "plans", None)
        restart(platform, "retention", None)
        platform.wait_ready(["plans", "retention"])
