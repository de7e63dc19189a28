"""Pydantic models as MongoDB documents: the model's `id` is the document's `_id`."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def to_document(model: BaseModel) -> dict[str, Any]:
    """The model as a document; calendar dates (BSON has no date-only type) as ISO text, which
    pydantic reads back."""
    doc: dict[str, Any] = _dates_as_text(model.model_dump())
    doc["_id"] = doc.pop("id")
    return doc


def _dates_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def from_document(cls: type[M], doc: dict[str, Any] | None) -> M | None:
    if doc is None:
        return None
    fields = dict(doc)
    fields["id"] = fields.pop("_id")
    return cls.model_validate(fields)


async def find_by_ids(
    collection: Any, ids: list[Any], projection: dict[str, int] | None = None, concurrency: int = 32
) -> list[dict[str, Any]]:
    """The documents with these `_id`s, one indexed lookup each (a `$in` is a full scan on some
    MongoDB-compatible servers, e.g. SecantusDB); missing ones are left out, order is kept."""
    gate = asyncio.Semaphore(concurrency)

    async def one(document_id: Any) -> dict[str, Any] | None:
        async with gate:
            return await collection.find_one({"_id": document_id}, projection)  # type: ignore[no-any-return]

    found = await asyncio.gather(*(one(i) for i in dict.fromkeys(ids)))
    return [doc for doc in found if doc is not None]


class KeyedDocuments(Generic[M]):
    """One document per key (the model's `key_field` is the `_id`), read and replaced whole:
    for small per-unit or per-plan records a service keeps (e.g. the program versions a unit runs)."""

    def __init__(self, collection: Any, model: type[M], key_field: str) -> None:
        self._collection = collection
        self._model = model
        self._key_field = key_field

    async def get(self, key: str, session: Any = None) -> M | None:
        doc = await self._collection.find_one({"_id": key}, session=session)
        return self._model.model_validate(doc) if doc else None

    async def save(self, model: M, session: Any = None) -> None:
        key = getattr(model, self._key_field)
        await self._collection.replace_one(
            {"_id": key}, {"_id": key, **model.model_dump()}, upsert=True, session=session
        )
