"""Many ended plans at once, for benchmarks: copies of one real ended plan in every service's database.

Starting and ending a plan through the API costs every service several events (and an export for the
journal), so ten thousand of them take hours on a small machine. A purge only needs what a real ended
plan leaves behind in each service, so the benchmark makes one real plan, waits until the platform is
quiet, and copies every document that names it, in every collection of every service database, N
times. In each copy every UUID (the plan id, event ids, trigger ids…) is replaced consistently by a
new one derived from it, and the patient's personnummer by a fresh one, so the copies are distinct
plans of distinct patients, each with the same documents a real one has: ownership copies (ended),
read models, schedules, timers, inbox records, deliveries. Not copied: the audit trail (a purge keeps
it) and outbox entries (copying them would publish events about plans that never existed).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import bson
from bson import ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient

from launcher.demo import complete_personnummer

NOT_COPIED = {"audit", "outbox"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHUNK = 1000

Template = dict[tuple[str, str], list[dict[str, Any]]]
"""(database, collection) → the documents that name the template plan."""


async def template_documents(client: AsyncMongoClient[dict[str, Any]], databases: list[str], plan_id: str) -> Template:
    """Every document naming the plan (anywhere in it), per database and collection."""
    needle = plan_id.encode()
    found: Template = {}
    for name in databases:
        db = client[name]
        for collection in await db.list_collection_names():
            if collection in NOT_COPIED or collection.startswith("system."):
                continue
            raw = db[collection].with_options(codec_options=CodecOptions(document_class=RawBSONDocument, tz_aware=True))
            docs = [_decoded(doc) async for doc in raw.find({}) if needle in doc.raw]
            if docs:
                found[(name, collection)] = docs
    return found


def _decoded(doc: RawBSONDocument) -> dict[str, Any]:
    decoded: dict[str, Any] = bson.decode(doc.raw, codec_options=CodecOptions(tz_aware=True))
    return decoded


def personnummer_for(i: int) -> str:
    """A distinct valid personnummer for copy `i` (900 serial numbers a birth day, from 1930)."""
    birth = (date(1930, 1, 1) + timedelta(days=i // 900)).strftime("%Y%m%d")
    return complete_personnummer(birth, f"{100 + i % 900:03d}")


def copy_of(value: Any, new_uuid: Callable[[str], str], personnummer: tuple[str, str]) -> Any:
    """`value` with every UUID mapped by `new_uuid` and the old personnummer replaced by the new one."""
    if isinstance(value, str):
        return UUID.sub(lambda m: new_uuid(m.group(0)), value).replace(*personnummer)
    if isinstance(value, dict):
        return {k: copy_of(v, new_uuid, personnummer) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_of(v, new_uuid, personnummer) for v in value]
    if isinstance(value, ObjectId):
        return ObjectId()
    return value


async def copy_plan(
    client: AsyncMongoClient[dict[str, Any]],
    template: Template,
    plan_id: str,
    personnummer: str,
    count: int,
    first: int,
) -> list[str]:
    """`count` copies of the template plan in every collection it appears in; the new plan ids."""
    tag = uuid.uuid4().hex
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"careplan-bench:{tag}")

    def mapper(i: int) -> Callable[[str], str]:
        return lambda old: str(uuid.uuid5(namespace, f"{i}:{old}"))

    for (database, collection), docs in template.items():
        target = client[database][collection]
        for start in range(0, count, CHUNK):
            batch = [
                copy_of(doc, mapper(i), (personnummer, personnummer_for(first + i)))
                for i in range(start, min(count, start + CHUNK))
                for doc in docs
            ]
            await target.insert_many(batch, ordered=False)
    return [mapper(i)(plan_id) for i in range(count)]
