"""The plan keyring in MongoDB: a database of its own (`KEYRING_DATABASE`, optionally on its own
server, `KEYRING_MONGODB_URI`), one document per plan.

    {_id: plan id, key: <32 bytes>, created_at}          a live key
    {_id: plan id, destroyed_at}                         the marker a purge leaves: no key, none ever again
    {_id: "batch_id:…", key, created_at, expires_at}     a work item's short-lived key (see `Event.work_key_field`)

Creating is an insert of a fresh key that loses to any document already there (the unique `_id`),
so two processes racing for a plan's first key, or a creation racing the purge's marker, end with
one answer for everyone. A short-lived key past `expires_at` reads as destroyed and is destroyed by
the next process that makes short-lived keys (at most every few minutes). In production a KMS (or at
least a key-encryption key from one wrapping these keys) would hold them; `PlanKeyring` is the seam.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from bson.binary import Binary
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.crypto.envelope import new_key

KEYS_COLLECTION = "plan_keys"
DUPLICATE_KEY = 11000
LOOKUP_CHUNK = 100
"""Ids per `$in` lookup (large `$in` lists are slow on some servers)."""
SWEEP_EVERY_SECONDS = 300.0
DESTROYED = {"$unset": {"key": "", "created_at": "", "expires_at": ""}}


class MongoKeyring:
    """`PlanKeyring` on a MongoDB database."""

    def __init__(self, db: Any, *, short_lived_seconds: float = 7 * 86400) -> None:
        self._keys = db[KEYS_COLLECTION]
        self._short_lived = timedelta(seconds=short_lived_seconds)
        self._swept_at: float | None = None

    async def keys_for(
        self, plan_ids: Collection[str], *, create: bool, short_lived: bool = False
    ) -> dict[str, bytes | None]:
        wanted = list(dict.fromkeys(plan_ids))
        found = await self._find(wanted)
        missing = [p for p in wanted if p not in found]
        if create and missing:
            fresh = {p: new_key() for p in missing}
            lost = await self._insert(fresh, short_lived)
            found |= {p: k for p, k in fresh.items() if p not in lost}
            found |= await self._find(lost)  # the key (or the marker) another process wrote first
        if create and short_lived:
            await self._sweep()
        return found

    async def _find(self, plan_ids: list[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        now = datetime.now(UTC)
        for start in range(0, len(plan_ids), LOOKUP_CHUNK):
            chunk = plan_ids[start : start + LOOKUP_CHUNK]
            query = {"_id": chunk[0]} if len(chunk) == 1 else {"_id": {"$in": chunk}}
            async for doc in self._keys.find(query, {"key": 1, "expires_at": 1}):
                expired = doc.get("expires_at") is not None and doc["expires_at"] <= now
                found[doc["_id"]] = bytes(doc["key"]) if doc.get("key") is not None and not expired else None
        return found

    async def _insert(self, fresh: dict[str, bytes], short_lived: bool) -> list[str]:
        """Insert the fresh keys; returns the plans for which another document was there first."""
        now = datetime.now(UTC)
        plan_ids = list(fresh)
        expiry = {"expires_at": now + self._short_lived} if short_lived else {}
        documents = [{"_id": p, "key": Binary(k), "created_at": now, **expiry} for p, k in fresh.items()]
        try:
            await self._keys.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return [plan_ids[e["index"]] for e in errors]
        return []

    async def destroy(self, plan_id: str) -> None:
        update = {"$set": {"destroyed_at": datetime.now(UTC)}, **DESTROYED}
        try:
            await self._keys.update_one({"_id": plan_id}, update, upsert=True)
        except DuplicateKeyError:  # a key was being made at the same moment: it exists now, destroy it
            await self._keys.update_one({"_id": plan_id}, update)

    async def _sweep(self) -> None:
        """Destroy the short-lived keys past their expiry (the backstop for work items never finished)."""
        if self._swept_at is not None and time.monotonic() - self._swept_at < SWEEP_EVERY_SECONDS:
            return
        if self._swept_at is None:
            await self._keys.create_index("expires_at", sparse=True)
        self._swept_at = time.monotonic()
        now = datetime.now(UTC)
        await self._keys.update_many({"expires_at": {"$lte": now}}, {"$set": {"destroyed_at": now}, **DESTROYED})
