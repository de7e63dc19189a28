"""The per-plan keys that seal personal data on Kafka, and their lifecycle.

A plan's key is made the first time something personal of the plan is published, read by every
consumer that opens it, and destroyed when the plan is purged: a marker (the plan id, no key) stays,
so that no new key is ever made for a purged plan. Without the key, what is left on the topics is
noise (crypto-shredding).

`MongoKeyring` (`shared.crypto.mongo_keyring`) keeps the keys in a database of their own; in
production a KMS would (the protocol is the seam). `CachingKeyring` keeps keys in memory for a short
time, so a burst of events of the same plans costs one lookup.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Protocol

from shared.crypto.envelope import new_key


class PlanKeyring(Protocol):
    """Where plan keys live."""

    async def keys_for(
        self, plan_ids: Collection[str], *, create: bool, short_lived: bool = False
    ) -> dict[str, bytes | None]:
        """Each plan's key; None for a plan whose key was destroyed (or has expired). With `create`, a key
        is made (once, race-safe) for a plan that has none yet, expiring soon if `short_lived` (a work
        item's key, not a plan's); without `create` such a plan is left out of the answer."""
        ...

    async def destroy(self, plan_id: str) -> None:
        """Destroy the plan's key for good, leaving a marker (idempotent; a plan without a key gets the
        marker too, so none is made later)."""
        ...


class InMemoryKeyring:
    """A keyring in this process only (unit tests, and processes that publish nothing personal)."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    async def keys_for(
        self, plan_ids: Collection[str], *, create: bool, short_lived: bool = False
    ) -> dict[str, bytes | None]:
        if create:
            for plan_id in plan_ids:
                self.keys.setdefault(plan_id, new_key())
        return {p: self.keys[p] for p in plan_ids if p in self.keys}

    async def destroy(self, plan_id: str) -> None:
        self.keys[plan_id] = None


class CachingKeyring:
    """Keys kept in memory for `ttl_seconds` (destroyed ones for as long as they stay in the cache: that
    never changes back), at most `max_entries` plans, least recently used dropped first.

    A key destroyed elsewhere may still be used here until its entry expires: the short TTL bounds how
    long after a purge a running process can still open (or seal with) the plan's key."""

    def __init__(
        self,
        inner: PlanKeyring,
        *,
        ttl_seconds: float,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._ttl = ttl_seconds
        self._max = max_entries
        self._now = monotonic
        self._entries: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()

    async def keys_for(
        self, plan_ids: Collection[str], *, create: bool, short_lived: bool = False
    ) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        missing: list[str] = []
        now = self._now()
        for plan_id in dict.fromkeys(plan_ids):
            entry = self._entries.get(plan_id)
            if entry is not None and (entry[1] is None or entry[0] > now):
                self._entries.move_to_end(plan_id)
                found[plan_id] = entry[1]
            else:
                missing.append(plan_id)
        if missing:
            fetched = await self.inner.keys_for(missing, create=create, short_lived=short_lived)
            for plan_id, key in fetched.items():
                self._remember(plan_id, key, now)
            found |= fetched
        return found

    async def destroy(self, plan_id: str) -> None:
        await self.inner.destroy(plan_id)
        self._remember(plan_id, None, self._now())

    def _remember(self, plan_id: str, key: bytes | None, now: float) -> None:
        self._entries[plan_id] = (now + self._ttl, key)
        self._entries.move_to_end(plan_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


_installed: list[PlanKeyring] = [InMemoryKeyring()]


def install_keyring(keyring: PlanKeyring) -> None:
    """Make `keyring` this process's keyring (the `Runtime` of a service installs the platform's)."""
    _installed[0] = keyring


def installed_keyring() -> PlanKeyring:
    """This process's keyring: the platform's in a service; in a bare process (unit tests), one in memory."""
    return _installed[0]
