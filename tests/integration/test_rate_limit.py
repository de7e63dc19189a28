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


async def test_two_replicas_share_one_budget(platform: Platform) -> None:
    client = redis.Redis.from_url(platform.addresses.redis_url)
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
