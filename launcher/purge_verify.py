"""`careplan purge verify PLAN_ID`: look everywhere the platform keeps data for what is left of a plan.

It scans every document of every collection of every service's database, every Redis key (name and
string value), and every record (key, value, headers) of every platform topic for the plan id, the
patient's personnummer and name, and prints each finding. Some places keep the plan id by design and
are reported apart, not as findings: the tombstones of purged plans (an id, no personal data), the
audit trail (pseudonymised, kept after the purge), and the keyring's marker of the plan's destroyed
key. Personal fields on the topics are sealed with the plan's key (crypto-shredding): the scan finds
no plaintext there, and checks that the key itself is gone (a live key is a finding).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient

from shared.crypto.mongo_keyring import KEYS_COLLECTION
from shared.messaging.naming import Namespace

KEPT_BY_DESIGN = {"purged_plans", "audit", "inbox", KEYS_COLLECTION}
"""Collections that may name the plan id after a purge, never its personal data: the tombstones, the
pseudonymised audit trail, consumers' deduplication records of events handled after the purge
(event id, type, time and key), and the keyring's marker of a destroyed key (`scan_keyring` checks
that the key itself is gone). Kafka records keep the plan id as their key (a random id, not
personal data); their content is checked for identities."""


@dataclass
class Needles:
    """What to look for: the plan id and, if given, the patient's identity."""

    plan_id: str
    personal: list[str] = field(default_factory=list)

    def found_in(self, text: str, *, personal_only: bool = False) -> list[str]:
        wanted = self.personal if personal_only else [self.plan_id, *self.personal]
        return [w for w in wanted if w and w in text]


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{k} {v:,}" for k, v in self.scanned.items())
        head = [f"scanned: {counts}"]
        kept = [f"kept by design (no personal data): {k}" for k in self.kept]
        found = [f"FOUND {f}" for f in self.findings] or ["nothing of the plan was found"]
        return head + kept + found


async def scan_mongo(uri: str, databases: Iterable[str], needles: Needles, report: Report) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        for name in databases:
            db = client[name]
            for collection in await db.list_collection_names():
                await _scan_collection(db[collection], f"{name}.{collection}", needles, report)
    finally:
        await client.close()


async def _scan_collection(collection: Any, where: str, needles: Needles, report: Report) -> None:
    # Raw BSON: strings are UTF-8 in it, so a byte search finds a needle in any field without decoding
    # (a whole test session's databases are scanned in seconds, not minutes).
    kept_by_design = collection.name in KEPT_BY_DESIGN
    wanted = needles.personal if kept_by_design else [needles.plan_id, *needles.personal]
    encoded = [(w, w.encode()) for w in wanted if w]
    raw = collection.with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
    async for doc in raw.find({}):
        report.scanned["documents"] = report.scanned.get("documents", 0) + 1
        data = doc.raw
        hits = [w for w, b in encoded if b in data]
        if hits:
            report.findings.append(f"mongodb {where} _id={doc['_id']!s:.40}: {_describe(hits, needles)}")
        elif kept_by_design and needles.plan_id.encode() in data and where not in report.kept:
            report.kept.append(where)


async def scan_keyring(uri: str, database: str, needles: Needles, report: Report) -> None:
    """The plan's key must be destroyed: only its marker (the plan id, no key) may be left."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        where = f"{database}.{KEYS_COLLECTION}"
        doc = await client[database][KEYS_COLLECTION].find_one({"_id": needles.plan_id})
        if doc is not None and doc.get("key") is not None:
            report.findings.append(f"mongodb {where}: the plan's key is not destroyed (its sealed events can be read)")
    finally:
        await client.close()


async def scan_redis(url: str, needles: Needles, report: Report) -> None:
    client = redis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(count=500):
            report.scanned["redis keys"] = report.scanned.get("redis keys", 0) + 1
            name = key.decode("utf-8", "replace")
            value = await client.get(key) if await client.type(key) == b"string" else None
            hits = needles.found_in(name + _text(value))
            if hits:
                report.findings.append(f"redis key {name:.60}: {_describe(hits, needles)}")
    finally:
        await client.aclose()


async def scan_topics(bootstrap: str, topics: list[str], needles: Needles, report: Report) -> None:
    async for topic, text in _records(bootstrap, topics):
        report.scanned["kafka records"] = report.scanned.get("kafka records", 0) + 1
        hits = needles.found_in(text, personal_only=True)
        if hits:
            report.findings.append(f"kafka {topic}: {_describe(hits, needles)}")
        elif needles.plan_id in text and f"kafka {topic} (event keys)" not in report.kept:
            report.kept.append(f"kafka {topic} (event keys)")


async def _records(bootstrap: str, topics: list[str]) -> AsyncIterator[tuple[str, str]]:
    """Every record of the topics from the beginning, as text (key, value and headers)."""
    if not topics:
        return  # a consumer without topics would wait for an assignment forever
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        idle = 0
        while idle < 3:  # three empty polls in a row: the end of every partition
            batches = await consumer.getmany(timeout_ms=700, max_records=2000)
            idle = 0 if batches else idle + 1
            for records in batches.values():
                for r in records:
                    headers = json.dumps([(k, v.decode("utf-8", "replace")) for k, v in r.headers or ()])
                    parts = [r.key or b"", r.value or b""]
                    yield r.topic, " ".join(p.decode("utf-8", "replace") for p in parts) + headers
    finally:
        await consumer.stop()


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def _describe(hits: list[str], needles: Needles) -> str:
    return ", ".join("the plan id" if h == needles.plan_id else "the patient's identity" for h in hits)


async def verify(endpoints: dict[str, Any], topics: list[str], needles: Needles) -> Report:
    """Scan the databases, Redis and topics named in `endpoints.json` (the shape `careplan up` writes)."""
    report = Report()
    keyring = endpoints.get("keyring_database", "careplan_keyring")
    keyring_uri = endpoints.get("keyring_mongodb_uri") or endpoints["mongodb_uri"]
    await scan_mongo(endpoints["mongodb_uri"], endpoints["databases"].values(), needles, report)
    await scan_mongo(keyring_uri, [keyring], needles, report)
    await scan_keyring(keyring_uri, keyring, needles, report)
    await scan_redis(endpoints["redis_url"], needles, report)
    namespace = Namespace(endpoints.get("kafka_namespace", ""))  # a namespaced run's topics, not another's
    await scan_topics(endpoints["kafka_bootstrap_servers"], [namespace.topic(t) for t in topics], needles, report)
    return report


def add_verify_action(actions: Any) -> None:
    """`careplan purge verify PLAN_ID [--personnummer N] [--name NAME] [--no-topics]`, added to the
    `purge` command's actions (see `launcher.purge_command`)."""
    check = actions.add_parser(
        "verify",
        help="scan every database, Redis and every topic for the plan id, personnummer and name",
        description="Exit 0 when nothing of the plan is found (the tombstone and the audit trail are kept by "
        "design and reported apart), 1 otherwise. Reads endpoints.json of a running 'careplan up'.",
    )
    check.add_argument("plan_id")
    check.add_argument("--personnummer", default="", help="the patient's personnummer (12 digits)")
    check.add_argument("--name", default="", help="the patient's name as it was given at plan start")
    check.add_argument("--no-topics", action="store_true", help="skip reading every topic from the beginning")
    check.set_defaults(run=run_verify)


def run_verify(args: Any) -> int:
    import asyncio

    from launcher.catalogue import all_topics

    endpoints_path = args.state_dir / "endpoints.json"
    if not endpoints_path.exists():
        print(f"careplan purge verify: no {endpoints_path}; start the platform with 'careplan up'", file=sys.stderr)
        return 2
    endpoints = json.loads(endpoints_path.read_text())
    topics = [] if args.no_topics else [t.name for t in all_topics()]
    needles = Needles(plan_id=args.plan_id, personal=[v for v in (args.personnummer, args.name) if v])
    report = asyncio.run(verify(endpoints, topics, needles))
    print("\n".join(report.lines()))
    return 0 if not report.findings else 1
