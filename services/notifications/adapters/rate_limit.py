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

    async def acquire(self, messages: int = 1) -> int:
        """Wait until this replica may send `messages` more through the provider (granted over as many
        seconds as the limit needs); returns the second of the last grant."""
        while True:
            second = int(time.time())
            key = f"careplan:ratelimit:{self._provider}:{second}"
            count = await self._take(key, messages)
            granted = min(messages, max(0, self._per_second - (count - messages)))
            if granted < messages:  # give back what this second can not take, for the other replicas
                await self._redis.decrby(key, messages - granted)
            messages -= granted
            if messages == 0:
                return second
            await asyncio.sleep(max(0.0, second + 1 - time.time()) + 0.001)

    async def _take(self, key: str, messages: int) -> int:
        """Count `messages` against the second's key (which expires soon after); the count after."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, messages)
            pipe.expire(key, 2)
            count, _ = await pipe.execute()
        return int(count)
