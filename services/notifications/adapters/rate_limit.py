"""Per-provider rate limits shared by every replica, in Redis (a one-second window per provider)."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as redis


class SharedRateLimit:
    def __init__(self, client: redis.Redis, provider: str, per_second: int) -> None:
        self._redis = client
        self._provider = provider
        self._per_second = per_second

    async def acquire(self) -> int:
        """Wait until this replica may make one more call to the provider; returns the granted second."""
        while True:
            second = int(time.time())
            key = f"careplan:ratelimit:{self._provider}:{second}"
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, 2).execute()
            if count <= self._per_second:
                return second
            await asyncio.sleep(max(0.0, second + 1 - time.time()) + 0.001)
