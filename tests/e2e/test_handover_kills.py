"""The handover saga survives killed services: each participating service is SIGKILLed mid-saga
(down when the receiving unit accepts, and again while it works through what waited for it; the
handover service right after it committed the acceptance) and restarted. Every handover completes,
and no step is applied twice: each step's event exists once (one event id, however often the relay
re-sent it) and every service's copy of the plan's ownership ends at the version a handover without
kills reaches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from launcher.stack import Platform
from services.handover.entrypoints.consumers import CONFIRMATION_TOPICS
from shared.contracts import handover, plans
from shared.contracts.transfer import TRANSFER_PARTICIPANTS, transfer_applied_type
from shared.kernel.roles import Role
from tests.conftest import Tokens
from tests.e2e.test_handover import (
    FROM,
    PLAN_READS,
    RESPONSIBLE,
    TO,
    call,
    initiate,
    plan_with_a_message,
    staff,
    statuses,
    units,
)
from tests.support.kafka_helpers import eventually, header

pytestmark = pytest.mark.integration
__all__ = ["units"]  # the module-scoped fixture, shared with test_handover
SERVICES = ("plans", "messaging", "forms", "notifications", "retention", "handover")
STEP_TYPES = {
    plans.OwnershipTransferring.ce_type,
    plans.OwnershipTransferred.ce_type,
    handover.HandoverAccepted.ce_type,
    handover.HandoverCompleted.ce_type,
    *(transfer_applied_type(s) for s in TRANSFER_PARTICIPANTS),
}


def restart(platform: Platform, service: str) -> None:
    platform.start_service(service)
    platform.wait_ready([service])


async def accept(platform: Platform, tokens: Tokens, handover_id: str) -> None:
    admin = staff(tokens, TO, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")
    body = {"responsible_hsa_id": RESPONSIBLE}
    accepted = await call(platform, "handover", "POST", f"/handovers/{handover_id}/accept", admin, json=body)
    assert accepted.status_code == 200, accepted.text


async def accept_with_kills(platform: Platform, tokens: Tokens, handover_id: str, victim: str) -> None:
    """One SIGKILL of `victim` mid-saga: a participant is down when the acceptance reaches it (the
    saga waits for it and goes on after its restart); the handover service dies right after it
    committed the acceptance, its events perhaps not yet relayed."""
    if victim != "handover":
        platform.stop_service(victim, kill=True)
    await accept(platform, tokens, handover_id)
    if victim == "handover":
        platform.stop_service("handover", kill=True)
    await asyncio.sleep(0.5)
    restart(platform, victim)


async def completed(platform: Platform, tokens: Tokens, handover_id: str) -> dict[str, Any]:
    admin = staff(tokens, TO, Role.PATIENT_ADMIN, hsa_id="SE2321000016-HOVA02")

    async def state() -> dict[str, Any] | None:
        answer: dict[str, Any] = (await call(platform, "handover", "GET", f"/handovers/{handover_id}", admin)).json()
        return answer if answer.get("state") == "completed" else None

    try:
        return await eventually(state, timeout=180)  # type: ignore[return-value]
    except AssertionError:
        last = (await call(platform, "handover", "GET", f"/handovers/{handover_id}", admin)).json()
        raise AssertionError(f"{handover_id}: {last.get('state')}, confirmed by {last.get('confirmed_by')}") from None


async def ownership_versions(platform: Platform, plan_id: str) -> dict[str, tuple[int, str] | None]:
    """Each service's copy of the plan's ownership: (version, state)."""
    assert platform.addresses is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.addresses.mongodb_uri)
    try:
        found = {}
        for service in SERVICES:
            doc = await client[f"{platform.database_prefix}careplan_{service}"]["plan_ownership"].find_one(
                {"_id": plan_id}
            )
            found[service] = (doc["version"], doc["state"]) if doc else None
        return found
    finally:
        await client.close()


async def settled_copy(platform: Platform, plan_id: str) -> tuple[int, str]:
    """The one (version, state) every service's copy reaches once the receiving unit's hold is active."""

    async def settled() -> tuple[int, str] | None:
        copies = set((await ownership_versions(platform, plan_id)).values())
        [copy] = copies if len(copies) == 1 else [None]
        return copy if copy is not None and copy[1] == "active" else None

    try:
        return await eventually(settled, timeout=30)  # type: ignore[return-value]
    except AssertionError:
        raise AssertionError(f"{plan_id}: {await ownership_versions(platform, plan_id)}") from None


async def step_event_ids(platform: Platform, plan_ids: set[str]) -> dict[tuple[str, str], set[str]]:
    """(plan, ce_type) → the distinct event ids of the saga's steps on every topic they travel on."""
    topics = {plans.PLANS_TOPIC.name, handover.HANDOVER_TOPIC.name, *(t.name for t in CONFIRMATION_TOPICS.values())}
    assert platform.addresses is not None
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.addresses.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: dict[tuple[str, str], set[str]] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    key, ce_type = (record.key or b"").decode(), header(record, "ce_type") or ""
                    if key in plan_ids and ce_type in STEP_TYPES:
                        seen.setdefault((key, ce_type), set()).add(header(record, "ce_id") or "")
        return seen
    finally:
        await consumer.stop()


async def test_every_handover_completes_once_though_each_service_is_killed_mid_saga(
    platform: Platform, tokens: Tokens, units: None
) -> None:
    control, _ = await plan_with_a_message(platform, tokens, "kontroll.hov@example.se")  # no kills
    control_handover = (await initiate(platform, tokens, control, TO)).json()["handover_id"]
    await accept(platform, tokens, control_handover)
    await completed(platform, tokens, control_handover)

    killed: dict[str, str] = {}
    for victim in SERVICES:
        plan_id, _ = await plan_with_a_message(platform, tokens, f"{victim}.dod.hov@example.se")
        created = await initiate(platform, tokens, plan_id, TO)
        assert created.status_code == 201, created.text
        await accept_with_kills(platform, tokens, created.json()["handover_id"], victim)
        killed[victim] = plan_id
        settled = await completed(platform, tokens, created.json()["handover_id"])
        assert sorted(settled["confirmed_by"]) == sorted(SERVICES), victim

    expected = await settled_copy(platform, control)
    for victim, plan_id in killed.items():
        assert await settled_copy(platform, plan_id) == expected, victim
        assert await statuses(platform, plan_id, staff(tokens, FROM)) == dict.fromkeys(PLAN_READS, 404), victim
        assert await statuses(platform, plan_id, staff(tokens, TO)) == dict.fromkeys(PLAN_READS, 200), victim
    steps = await step_event_ids(platform, {control, *killed.values()})
    for plan_id in (control, *killed.values()):
        assert {t: len(steps.get((plan_id, t), set())) for t in STEP_TYPES} == dict.fromkeys(STEP_TYPES, 1), plan_id
