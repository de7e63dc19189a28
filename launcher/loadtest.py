"""Fan-out load test: N recipients, one announcement, deliveries/s, latency percentiles, and a ledger
check of lost and duplicated deliveries against the local sinks."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from launcher.demo import staff_token
from launcher.progress import progress_bar
from services.notifications.adapters.providers import message_id
from shared.kernel.roles import Role

CHANNELS = ("inbox", "email", "sms")


@dataclass
class FanoutTarget:
    """Where the notifications service, its database and its sinks are."""

    notifications_url: str
    mongodb_uri: str
    database: str
    sinks_dir: Path
    private_key: bytes


@dataclass
class FanoutReport:
    recipients: int
    channels: list[str]
    expected: int
    sent: int
    failed: int
    deferred: int
    seconds: float
    latency_ms: dict[str, float]
    lost: int
    duplicated: int
    duplicate_requests_absorbed: int

    @property
    def deliveries_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        latency = "  ".join(f"{k} {v:,.0f} ms" for k, v in self.latency_ms.items())
        return [
            f"recipients {self.recipients:,}  channels {','.join(self.channels)}  "
            f"deliveries expected {self.expected:,}",
            f"sent {self.sent:,}  failed {self.failed:,}  deferred {self.deferred:,}  in {self.seconds:.1f}s: "
            f"{self.deliveries_per_second:,.0f} deliveries/s",
            f"end-to-end latency (announcement → delivered): {latency}",
            f"ledger check: lost {self.lost}  duplicated {self.duplicated}  "
            f"(repeated provider requests absorbed by idempotency keys: {self.duplicate_requests_absorbed})",
        ]


def recipient_documents(
    plan_id: str, unit_id: str, personnummer: str, chosen: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A plan in notifications' read model, with the copy of its patient's preferences that the fan-out
    reads, and the preferences themselves: what the service keeps once it has seen the plan start and
    the patient's choice."""
    plan = {
        "_id": plan_id,
        "plan_id": plan_id,
        "unit_id": unit_id,
        "patient_personnummer": personnummer,
        "protected_identity": False,
        "program_id": "loadtest",
        "program_version": "1",
        "responsible_hsa_id": "SE2321000016-LOAD",
        "active": True,
        "preferences": chosen,
        "preferences_version": 1,
    }
    return plan, {"_id": personnummer, **chosen, "version": 1}


async def seed_recipients(
    target: FanoutTarget, unit_id: str, count: int, channels: list[str], chunk: int = 5000
) -> None:
    """N patients of one unit in notifications' read model, with the chosen channels enabled."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri)
    db = client[target.database]
    tag = uuid.uuid4().hex[:6]
    for start in range(0, count, chunk):
        plans, preferences = [], []
        for i in range(start, min(count, start + chunk)):
            person = f"load-{tag}-{i}"
            plan, chosen = recipient_documents(
                f"load-plan-{tag}-{i}",
                unit_id,
                person,
                {
                    "email_enabled": "email" in channels,
                    "email": f"{person}@loadtest.example.se",
                    "sms_enabled": "sms" in channels,
                    "phone": f"+4670{i:07d}",
                },
            )
            plans.append(plan)
            preferences.append(chosen)
        await db["preferences"].insert_many(preferences)
        await db["plans"].insert_many(plans)
    await client.close()


async def run_fanout(
    target: FanoutTarget, recipients: int, channels: list[str], *, timeout: float = 3600, show_progress: bool = True
) -> FanoutReport:
    unit_id = f"SE2321000016-LT{uuid.uuid4().hex[:6].upper()}"
    await seed_recipients(target, unit_id, recipients, channels)
    expected = recipients * len(channels)
    token = staff_token(target.private_key, "SE2321000016-LTADM", [Role.PATIENT_ADMIN], unit=unit_id)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=target.notifications_url, timeout=30) as api:
        announcement = await _announce(api, headers, channels)
        started = time.monotonic()
        states = await _wait_for_deliveries(api, headers, announcement["id"], expected, timeout, show_progress)
        seconds = time.monotonic() - started
    if show_progress:
        sys.stdout.write("\n")
    trigger = f"announcement:{announcement['id']}"
    latency = await _latency(target, trigger, announcement["created_at"])
    lost, duplicated, absorbed = await _ledger_check(target, trigger, recipients, channels)
    return FanoutReport(
        recipients=recipients,
        channels=channels,
        expected=expected,
        sent=states.get("sent", 0),
        failed=states.get("failed", 0),
        deferred=states.get("deferred", 0),
        seconds=seconds,
        latency_ms=latency,
        lost=lost,
        duplicated=duplicated,
        duplicate_requests_absorbed=absorbed,
    )


async def _announce(api: httpx.AsyncClient, headers: dict[str, str], channels: list[str]) -> dict[str, Any]:
    """One announcement to every patient of the caller's unit; the created announcement."""
    created = await api.post(
        "/announcements",
        headers=headers,
        json={
            "scope": "unit",
            "subject": "Lasttest",
            "text": "Ett meddelande från lasttestet.",
            "channels": channels,
        },
    )
    created.raise_for_status()
    announcement: dict[str, Any] = created.json()
    return announcement


async def _wait_for_deliveries(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    announcement_id: str,
    expected: int,
    timeout: float,
    show_progress: bool,
) -> dict[str, int]:
    """Poll the announcement until `expected` deliveries are sent or failed (or the timeout); its delivery states."""
    started = time.monotonic()
    states: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        states = (await api.get(f"/announcements/{announcement_id}", headers=headers)).json()["deliveries"]
        done = states.get("sent", 0) + states.get("failed", 0)
        if show_progress:
            sys.stdout.write(progress_bar(done, expected, started))
            sys.stdout.flush()
        if done >= expected:
            break
        await asyncio.sleep(0.5)
    return states


async def _latency(target: FanoutTarget, trigger: str, created_at: str) -> dict[str, float]:
    from datetime import datetime

    start = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri, tz_aware=True)
    cursor = client[target.database]["deliveries"].find({"trigger_id": trigger, "state": "sent"}, {"sent_at": 1})
    values = sorted([(doc["sent_at"] - start).total_seconds() * 1000 async for doc in cursor])
    await client.close()
    if not values:
        return {}
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": values[-1]}


async def _ledger_check(
    target: FanoutTarget, trigger: str, recipients: int, channels: list[str]
) -> tuple[int, int, int]:
    """(lost, duplicated, repeated provider requests absorbed), from the ledger and what the sinks received."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target.mongodb_uri)
    db = client[target.database]
    prefix = f"{trigger}|"
    lost = duplicated = 0
    for channel in channels:
        if channel == "inbox":  # inbox items carry their delivery's id: one prefix query
            received = [
                d["_id"] async for d in db["inbox"].find({"_id": {"$regex": f"^{re.escape(prefix)}"}}, {"_id": 1})
            ]
        elif channel == "sms":
            received = _sink_keys(target.sinks_dir / "sms.jsonl", "key", prefix)
        else:
            received = _sink_keys(
                target.sinks_dir / "mail.jsonl", "message_id", message_id(prefix).removesuffix("@careplan>")
            )
        lost += recipients - len(set(received))
        duplicated += len(received) - len(set(received))
    absorbed = len(_sink_keys(target.sinks_dir / "sms-duplicate-requests.jsonl", "key", prefix))
    await client.close()
    return lost, duplicated, absorbed


def _sink_keys(path: Path, field: str, prefix: str) -> list[str]:
    if not path.exists():
        return []
    keys = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            value = json.loads(line).get(field) or ""
            if value.startswith(prefix):
                keys.append(value)
    return keys
