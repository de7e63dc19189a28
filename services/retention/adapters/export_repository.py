"""MongoDB storage of exports: `exports` (one document per export: the saga's state and, once complete,
its FHIR Bundle as zlib-compressed JSON and its PDF, both as BSON binary) and `export_parts` (the
parts received for exports not complete yet, one document per export and service, deleted once the
export is assembled). Both hold personal data: a purge deletes a plan's documents in both.

A document may not exceed MongoDB's 16 MB: a complete export's compressed Bundle and its PDF together
must stay under `MAX_RENDERINGS_BYTES` (compressed JSON is a tenth of its size or less, and a PDF of
text is small: a plan of two years with hundreds of messages stays far below it). A larger one fails
the export with `ExportTooLarge` rather than half-storing it; GridFS would be the way past it.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from bson.binary import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.retention.domain.export import Export
from shared.storage.unit_of_work import ConcurrentModification

Db = AsyncDatabase[dict[str, Any]]
EXPORTS_COLLECTION = "exports"
EXPORT_PARTS_COLLECTION = "export_parts"
MAX_RENDERINGS_BYTES = 15 * 1024 * 1024
"""What the renderings may take of a 16 MB document (the rest is ample for the saga's fields)."""
RENDERINGS = {"fhir_bundle": 0, "pdf": 0}
"""Projection leaving the renderings out (every read of the saga's state)."""


class ExportTooLarge(Exception):
    """The renderings would not fit in one MongoDB document (sizes only in the message)."""


class MongoExportRepository:
    """Exports by id, with a version check on every save; a plan's exports by plan id."""

    def __init__(self, db: Db) -> None:
        self._collection = db[EXPORTS_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("plan_id", ASCENDING), ("requested_at", DESCENDING)])

    async def get(self, export_id: str, session: Any = None) -> Export | None:
        doc = await self._collection.find_one({"_id": export_id}, RENDERINGS, session=session)
        return Export.model_validate(doc) if doc else None

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Export]:
        cursor = self._collection.find({"plan_id": plan_id}, RENDERINGS, session=session)
        return [Export.model_validate(doc) async for doc in cursor.sort("requested_at", DESCENDING)]

    async def latest_of(self, plan_id: str, session: Any = None) -> Export | None:
        cursor = self._collection.find({"plan_id": plan_id}, RENDERINGS, session=session)
        async for doc in cursor.sort("requested_at", DESCENDING).limit(1):
            return Export.model_validate(doc)
        return None

    async def save(self, export: Export, session: Any = None) -> None:
        expected, export.version = export.version, export.version + 1
        fields = export.model_dump()
        if expected == 0:
            try:
                await self._collection.insert_one({"_id": export.export_id, **fields}, session=session)
            except DuplicateKeyError:
                raise ConcurrentModification(f"export {export.export_id} saved concurrently") from None
            return
        result = await self._collection.update_one(
            {"_id": export.export_id, "version": expected}, {"$set": fields}, session=session
        )
        if result.matched_count != 1:
            raise ConcurrentModification(f"export {export.export_id} changed concurrently")

    async def save_renderings(self, export_id: str, bundle: dict[str, Any], pdf: bytes, session: Any = None) -> None:
        packed = zlib.compress(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode())
        if len(packed) + len(pdf) > MAX_RENDERINGS_BYTES:
            raise ExportTooLarge(f"export {export_id}: bundle {len(packed)} B compressed and PDF {len(pdf)} B")
        renderings = {"fhir_bundle": Binary(packed), "pdf": Binary(pdf)}
        await self._collection.update_one({"_id": export_id}, {"$set": renderings}, session=session)

    async def bundle_of(self, export_id: str, session: Any = None) -> dict[str, Any] | None:
        doc = await self._collection.find_one({"_id": export_id}, {"fhir_bundle": 1}, session=session)
        if not doc or doc.get("fhir_bundle") is None:
            return None
        bundle: dict[str, Any] = json.loads(zlib.decompress(doc["fhir_bundle"]))
        return bundle

    async def pdf_of(self, export_id: str, session: Any = None) -> bytes | None:
        doc = await self._collection.find_one({"_id": export_id}, {"pdf": 1}, session=session)
        return bytes(doc["pdf"]) if doc and doc.get("pdf") is not None else None

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int:
        return (await self._collection.delete_many({"plan_id": plan_id}, session=session)).deleted_count


class MongoExportPartRepository:
    """Parts by (export, service); the content is kept as the JSON text it arrived as (its keys are the
    services' own, e.g. audit counts with dots, which MongoDB field names need not carry)."""

    def __init__(self, db: Db) -> None:
        self._collection = db[EXPORT_PARTS_COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("export_id", ASCENDING)])
        await self._collection.create_index([("plan_id", ASCENDING)])

    async def put(self, export: Export, service: str, content: dict[str, Any], session: Any = None) -> None:
        doc = {
            "export_id": export.export_id,
            "plan_id": export.plan_id,
            "service": service,
            "content": json.dumps(content, ensure_ascii=False),
        }
        key = f"{export.export_id}:{service}"
        await self._collection.replace_one({"_id": key}, {"_id": key, **doc}, upsert=True, session=session)

    async def of_export(self, export_id: str, session: Any = None) -> dict[str, dict[str, Any]]:
        cursor = self._collection.find({"export_id": export_id}, session=session)
        return {doc["service"]: json.loads(doc["content"]) async for doc in cursor}

    async def delete_of_export(self, export_id: str, session: Any = None) -> int:
        return (await self._collection.delete_many({"export_id": export_id}, session=session)).deleted_count

    async def delete_of_plan(self, plan_id: str, session: Any = None) -> int:
        return (await self._collection.delete_many({"plan_id": plan_id}, session=session)).deleted_count
