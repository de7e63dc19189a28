"""Leases in MongoDB: one holder at a time for a named job (e.g. the outbox relay) across replicas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.clock import Clock, SystemClock

LEASES_COLLECTION = "leases"


class Lease:
    """A renewable, expiring claim on `name` by `owner`.

    Leases measure process liveness, so they run on the wall clock, never on a service's business
    clock (which tests and dev mode may shift by days).
    """

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        name: str,
        owner: str,
        ttl: timedelta = timedelta(seconds=10),
        clock: Clock | None = None,
    ) -> None:
        self._collection = db[LEASES_COLLECTION]
        self.name = name
        self.owner = owner
        self._clock = clock or SystemClock()
        self._ttl = ttl

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another owner holds an unexpired one."""
        now = self._clock.now()
        try:
            result = await self._collection.update_one(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self._ttl}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists and is held by someone else
        return result.matched_count == 1 or result.upserted_id is not None

    async def release(self) -> None:
        await self._collection.delete_one({"_id": self.name, "owner": self.owner})
