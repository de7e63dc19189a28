"""The handover's other endings through HTTP on the real servers: a service that cannot apply the
transfer makes it undone everywhere (compensation), an unanswered handover expires on its durable
timer (across a killed handover process), and a plan that ends withdraws its pending handover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from launcher.stack import Platform
from shared.kernel.roles import Role
from tests.conftest import Tokens
from tests.e2e.test_handover import (
    BREAST,
    FROM,
    PLAN_READS,
    RESPONSIBLE,
    SLEEP,
    call,
    initiate,
    plan_with_a_message,
    staff,
    statuses,
    units,
)
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
__all__ = ["units"]  # the module-scoped fixture, shared with test_handover
RETIRING = "SE2321000016-HOV005"
EXPIRY_SECONDS = 8


async def handover_state(platform: Platform, tokens: Tokens, handover_id: str, wanted: str) -> dict[str, Any] | None:
    answer = await call(platform, "handover", "GET", f"/handovers/{handover_id}", staff(tokens, FROM))
    found: dict[str, Any] = answer.json()
    return found if found.get("state") == wanted else None


async def test_a_refused_transfer_is_compensated_and_the_plan_stays_writable_at_home(
    platform: Platform, tokens: Tokens, units: None
) -> None:
    admin = staff(tokens, RETIRING, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA05")
    declared = await call(platform, "plans", "PUT", "/units/me/programs", admin, json={"programs": [BREAST]})
    assert declared.status_code == 200, declared.text
    plan_id, _ = await plan_with_a_message(platform, tokens, "kompensation.hov@example.se")
    handover_id = (await eventually(lambda: initiated(platform, tokens, plan_id), timeout=30))["handover_id"]  # type: ignore[index]

    # The receiving unit stops running the version after the request: the plans service refuses to move it.
    stopped = await call(platform, "plans", "PUT", "/units/me/programs", admin, json={"programs": [SLEEP]})
    assert stopped.status_code == 200, stopped.text
    accept = {"responsible_hsa_id": RESPONSIBLE}
    accepted = await call(platform, "handover", "POST", f"/handovers/{handover_id}/accept", admin, json=accept)
    assert accepted.status_code == 200, accepted.text

    settled: Any = await eventually(lambda: handover_state(platform, tokens, handover_id, "compensated"), timeout=60)
    assert "does not run" in settled["outcome_reason"]
    assert await statuses(platform, plan_id, staff(tokens, FROM)) == dict.fromkeys(PLAN_READS, 200)
    assert await statuses(platform, plan_id, staff(tokens, RETIRING)) == dict.fromkeys(PLAN_READS, 404)
    conversations = (
        await call(platform, "messaging", "GET", f"/plans/{plan_id}/conversations", staff(tokens, FROM))
    ).json()

    async def home_unit_replies() -> bool:  # writable again once the revert reached messaging
        path = f"/conversations/{conversations[0]['id']}/messages"
        answer = await call(platform, "messaging", "POST", path, staff(tokens, FROM), json={"text": "Vi fortsätter."})
        return answer.status_code == 201

    await eventually(home_unit_replies, timeout=30)
    again = await initiate(platform, tokens, plan_id, RETIRING)  # the plan is free for the next request
    assert again.status_code == 409 and again.json()["field"] == "to_unit_id"  # refused up front now


async def initiated(platform: Platform, tokens: Tokens, plan_id: str) -> dict[str, Any] | None:
    """Initiate once the handover service has heard of the receiving unit's programs."""
    answer = await initiate(platform, tokens, plan_id, RETIRING)
    return answer.json() if answer.status_code == 201 else None


@pytest.fixture
def short_expiry(platform: Platform) -> Iterator[dict[str, str]]:
    """The handover service restarted with pending handovers expiring after a few seconds."""
    settings = {"HANDOVER_EXPIRY_SECONDS": str(EXPIRY_SECONDS)}
    platform.stop_service("handover")
    platform.start_service("handover", overrides=settings)
    platform.wait_ready(["handover"])
    try:
        yield settings
    finally:
        platform.stop_service("handover")
        platform.start_service("handover")
        platform.wait_ready(["handover"])


async def test_an_unanswered_handover_expires_even_across_a_killed_process(
    platform: Platform, tokens: Tokens, units: None, short_expiry: dict[str, str]
) -> None:
    plan_id, _ = await plan_with_a_message(platform, tokens, "utgangen.hov@example.se")
    created = await initiate(platform, tokens, plan_id, "SE2321000016-HOV002")
    assert created.status_code == 201, created.text
    handover_id = created.json()["handover_id"]

    platform.stop_service("handover", kill=True)  # the expiry is a durable timer in MongoDB, not a sleep
    platform.start_service("handover", overrides=short_expiry)
    platform.wait_ready(["handover"])

    expired: Any = await eventually(
        lambda: handover_state(platform, tokens, handover_id, "expired"), timeout=EXPIRY_SECONDS + 40
    )
    assert expired["to_unit_id"] == "SE2321000016-HOV002"
    receiving = staff(tokens, "SE2321000016-HOV002", Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")
    late = await call(
        platform,
        "handover",
        "POST",
        f"/handovers/{handover_id}/accept",
        receiving,
        json={"responsible_hsa_id": RESPONSIBLE},
    )
    assert late.status_code == 409 and late.json()["field"] == "handover_id"
    assert await statuses(platform, plan_id, staff(tokens, FROM)) == dict.fromkeys(PLAN_READS, 200)


async def test_ending_the_plan_withdraws_its_pending_handover(platform: Platform, tokens: Tokens, units: None) -> None:
    plan_id, _ = await plan_with_a_message(platform, tokens, "avslutad.hov@example.se")
    handover_id = (await initiate(platform, tokens, plan_id, "SE2321000016-HOV002")).json()["handover_id"]
    ended = await call(platform, "plans", "POST", f"/plans/{plan_id}/end", staff(tokens, FROM), json={})
    assert ended.status_code == 200, ended.text

    withdrawn: Any = await eventually(lambda: handover_state(platform, tokens, handover_id, "withdrawn"), timeout=30)
    assert withdrawn["outcome_reason"] == "the plan ended"
    receiving = staff(tokens, "SE2321000016-HOV002", Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")
    incoming = (await call(platform, "handover", "GET", "/units/me/handovers/incoming", receiving)).json()
    assert handover_id not in [h["handover_id"] for h in incoming]
