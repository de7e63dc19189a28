"""Pydantic models as MongoDB documents: the model's `id` is the document's `_id`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def to_document(model: BaseModel) -> dict[str, Any]:
    doc = model.model_dump()
    doc["_id"] = doc.pop("id")
    return doc


def from_document(cls: type[M], doc: dict[str, Any] | None) -> M | None:
    if doc is None:
        return None
    fields = dict(doc)
    fields["id"] = fields.pop("_id")
    return cls.model_validate(fields)
