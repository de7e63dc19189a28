"""Crypto-shredding of events: personal fields are sealed with their plan's key as they go onto Kafka,
and opened as they come off it.

- Publishing (`Sealer.seal`, called by the outbox relay and `publish_record`): the event model of the
  record's `ce_type` (`EVENT_TYPES`) says which fields are personal (`shared.crypto.personal`); each
  such value becomes an envelope (`shared.crypto.envelope`) under the key of the plan of the nearest
  enclosing object with a `plan_id`. The outbox in MongoDB holds plaintext: it is deleted once
  relayed, and a purge deletes a plan's pending entries.
- Consuming (`Sealer.open`, called by `EventConsumer` before validation): every envelope in the
  payload is opened, whatever the event type. An envelope whose key is destroyed (the plan was purged)
  becomes a neutral placeholder of the same JSON type; the payload says so (`Opened.shredded`).
- Work items (`Event.work_key_field`, the announcement batches of the notifications work topic) carry
  hundreds of plans' recipients: a plan key each would cost hundreds of key lookups per batch on both
  sides. Their personal fields are sealed whole (the batch's `recipients`, one envelope) with one
  short-lived key of their own instead, which the consumer destroys once it has handled the item
  (`Sealer.finish`), and which expires anyway.

The purge saga destroys a plan's key once every service has deleted the plan (`shared.crypto.keyring`):
what is left of the plan on the topics can never be read again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from shared.crypto import envelope
from shared.crypto.keyring import PlanKeyring, installed_keyring
from shared.crypto.personal import PLAN_FIELD, SEAL, EachSpec, ModelSpec, Seal, Spec, personal_spec
from shared.messaging.events import EVENT_TYPES, EventRecord

log = logging.getLogger(__name__)
SEALED_MARK = b"A256GCM"
"""Bytes every sealed payload contains (a cheap test before walking a payload for envelopes)."""

Leaf = Callable[[Any, str], Any]


class UnsealablePayload(ValueError):
    """A personal field outside any object with a plan id (a contract error: it has no key to use)."""


@dataclass(frozen=True)
class Opened:
    """A payload with its envelopes opened; `shredded` when some could not be (key destroyed)."""

    data: dict[str, Any]
    shredded: bool = False
    kids: frozenset[str] = frozenset()
    """The keys its envelopes named."""


class Sealer:
    """Seals records for Kafka and opens payloads read from it, with keys from a `PlanKeyring`
    (by default the process's, installed by the service's `Runtime`)."""

    def __init__(
        self, keyring: PlanKeyring | None = None, event_types: Mapping[str, type[BaseModel]] = EVENT_TYPES
    ) -> None:
        self._keyring = keyring
        self._event_types = event_types

    @property
    def keyring(self) -> PlanKeyring:
        return self._keyring or installed_keyring()

    def spec_of(self, ce_type: str) -> ModelSpec | None:
        model = self._event_types.get(ce_type)
        return personal_spec(model) if model is not None else None

    def work_key_of(self, ce_type: str, data: dict[str, Any]) -> str | None:
        """The short-lived key sealing a work item's personal fields (`Event.work_key_field`), if any."""
        model = self._event_types.get(ce_type)
        field = getattr(model, "work_key_field", None)
        return f"{field}:{data[field]}" if field and data.get(field) else None

    def _sealing(self, record: EventRecord) -> _Sealing | None:
        """What sealing the record takes: where its personal values are, and the keys (None: nothing to seal).

        A work item's top-level fields that hold personal data are sealed whole, each as one envelope under
        the item's own key (one key, so finer envelopes would only cost more)."""
        spec = self.spec_of(record.ce_type)
        if spec is None:
            return None
        work_key = self.work_key_of(record.ce_type, record.data)
        if work_key is not None:
            spec = ModelSpec(fields=dict.fromkeys(spec.fields, SEAL), has_plan=False)
        kids = _plans_in(record.data, spec, work_key)
        return _Sealing(spec, work_key, kids) if kids else None

    async def warm(self, records: Iterable[EventRecord]) -> None:
        """Fetch (or make) the keys of every plan the records need, in one go (the relay's batch)."""
        sealings = [s for s in (self._sealing(r) for r in records) if s is not None]
        plans = {kid for s in sealings if s.work_key is None for kid in s.kids}
        work = {s.work_key for s in sealings if s.work_key is not None}
        if plans:
            await self.keyring.keys_for(plans, create=True)
        if work:
            await self.keyring.keys_for(work, create=True, short_lived=True)

    async def seal(self, record: EventRecord) -> EventRecord:
        """The record with each personal value sealed under its plan's key (or its work item's key), shredded
        if the key is gone."""
        sealing = self._sealing(record)
        if sealing is None:
            return record
        short_lived = sealing.work_key is not None
        ciphers = _Ciphers(await self.keyring.keys_for(sealing.kids, create=True, short_lived=short_lived))

        def seal_value(value: Any, kid: str) -> Any:
            cipher = ciphers.of(kid)
            if cipher is None:
                log.info("published an event of type %s with personal data of a destroyed key shredded", record.ce_type)
                return envelope.shredded(value, kid)
            return envelope.seal(value, cipher, kid)

        return dataclasses.replace(record, data=_walk(record.data, sealing.spec, sealing.work_key, seal_value))

    async def open(self, data: dict[str, Any], raw: bytes | None = None) -> Opened:
        """Open every envelope in `data` (any event type). `raw`, the record's value, lets a payload
        without envelopes skip the walk. Raises `envelope.SealBroken` for an envelope that does not open."""
        if raw is not None and SEALED_MARK not in raw:
            return Opened(data)
        kids: set[str] = set()
        _find_envelopes(data, kids)
        if not kids:
            return Opened(data)
        ciphers = _Ciphers(await self.keyring.keys_for(kids, create=False))
        shredded: list[bool] = []

        def open_one(node: dict[str, Any]) -> Any:
            value, opened = envelope.open_envelope(node, ciphers.of(str(node["kid"])))
            if not opened:
                shredded.append(True)
            return value

        opened_data = _replace_envelopes(data, open_one)
        return Opened(opened_data, shredded=bool(shredded), kids=frozenset(kids))

    async def finish(self, ce_type: str, opened: Opened) -> None:
        """A work item was handled: destroy its short-lived key (its one reader is done with it)."""
        work_key = self.work_key_of(ce_type, opened.data)
        if work_key is not None and work_key in opened.kids:
            await self.keyring.destroy(work_key)


@dataclass(frozen=True)
class _Sealing:
    spec: ModelSpec
    work_key: str | None
    kids: set[str]


class _Ciphers:
    """The ciphers of one payload's keys, each made once (for this payload only: nothing outlives the
    keyring's cache)."""

    def __init__(self, keys: dict[str, bytes | None]) -> None:
        self._keys = keys
        self._ciphers: dict[str, AESGCM] = {}

    def of(self, plan_id: str) -> AESGCM | None:
        found = self._ciphers.get(plan_id)
        if found is None:
            key = self._keys.get(plan_id)
            if key is None:
                return None
            found = self._ciphers[plan_id] = envelope.cipher(key)
        return found


def _walk(node: Any, spec: Spec, plan: str | None, leaf: Leaf) -> Any:
    """`node` with `leaf(value, plan)` applied at every personal value (None values stay None)."""
    if isinstance(spec, Seal):
        if node is None or envelope.is_envelope(node):
            return node
        if not plan:
            raise UnsealablePayload("a personal field has no plan id around it")
        return leaf(node, plan)
    if isinstance(spec, EachSpec):
        if isinstance(node, list):
            return [_walk(item, spec.item, plan, leaf) for item in node]
        if isinstance(node, dict):
            return {k: _walk(v, spec.item, plan, leaf) for k, v in node.items()}
        return node
    if not isinstance(node, dict):
        return node
    own = node.get(PLAN_FIELD) if spec.has_plan else None
    plan = own if isinstance(own, str) and own else plan
    return {k: _walk(v, spec.fields[k], plan, leaf) if k in spec.fields else v for k, v in node.items()}


def _plans_in(data: dict[str, Any], spec: ModelSpec, plan: str | None = None) -> set[str]:
    """The plans (keys) sealing `data` needs."""
    plans: set[str] = set()

    def note(value: Any, kid: str) -> Any:
        plans.add(kid)
        return value

    _walk(data, spec, plan, note)
    return plans


def _find_envelopes(node: Any, kids: set[str]) -> None:
    if envelope.is_envelope(node):
        kids.add(str(node["kid"]))
    elif isinstance(node, dict):
        for value in node.values():
            _find_envelopes(value, kids)
    elif isinstance(node, list):
        for item in node:
            _find_envelopes(item, kids)


def _replace_envelopes(node: Any, open_one: Callable[[dict[str, Any]], Any]) -> Any:
    if envelope.is_envelope(node):
        return open_one(node)
    if isinstance(node, dict):
        return {k: _replace_envelopes(v, open_one) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_envelopes(item, open_one) for item in node]
    return node


async def open_payload(data: dict[str, Any], keyring: PlanKeyring) -> dict[str, Any]:
    """A payload read off a topic, with its personal fields opened (tools and tests reading topics)."""
    return (await Sealer(keyring).open(data)).data
