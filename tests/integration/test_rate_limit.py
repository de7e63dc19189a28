"""Per-provider rate limits are shared by every replica through the real Redis server."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio as redis

from launcher.stack import Platform
from services.notifications.adapters.rate_limit import SharedRateLimit

pytestmark = pytest.mark.integration


async def test_two_replicas_share_one_budget(servers: Platform) -> None:
    client = redis.Redis.from_url(servers.addresses.redis_url)
    provider = f"test-{uuid.uuid4().hex[:6]}"
    replicas = [SharedRateLimit(client, provider, per_second=20) for _ in range(2)]
    granted: list[int] = []

    async def call(limit: SharedRateLimit) -> None:
        granted.append(await limit.acquire())

    started = time.time()
    await asyncio.gather(*(call(replicas[i % 2]) for i in range(60)))
    await client.aclose()
    per_second: dict[int, int] = {}
    for second in granted:
        per_second[second] = per_second.get(second, 0) + 1
    assert max(per_second.values()) <= 20
    assert len(per_second) >= 3  # 60 calls at 20/s across both replicas span three one-second windows
    assert time.time() - started > 1.0


async def test_a_batch_takes_what_a_second_has_left_and_waits_for_the_rest(servers: Platform) -> None:
    client = redis.Redis.from_url(servers.addresses.redis_url)
    provider = f"test-{uuid.uuid4().hex[:6]}"
    limit = SharedRateLimit(client, provider, per_second=30)
    started = time.time()
    first = await limit.acquire(25)  # fits one second
    last = await limit.acquire(50)  # 5 left in that second (or 30 in a new one), then the rest later
    used = int(await client.get(f"careplan:ratelimit:{provider}:{last}") or 0)
    await client.aclose()
    assert last - first >= 1 and time.time() - started > 1.0
    assert used <= 30  # what a second could not take was given back, not counted against other replicas
