"""The marker of personal data in contract models, and where a model's personal fields are.

A field declared `Personal[str]` (or `Annotated[T, PersonalData()]`) is personal data: on Kafka its
value is sealed with the key of its plan, the plan of the nearest enclosing object that has a
`plan_id` field (so each recipient of an announcement batch is sealed with its own plan's key). The
JSON schema of such a field says `"x-personal": true`.

Pure: no I/O, so domain models may import it.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

PLAN_FIELD = "plan_id"
"""The field naming the plan whose key seals the personal fields of an object (and of objects inside it)."""


@dataclass(frozen=True)
class PersonalData:
    """Annotation metadata: this field is personal data (sealed with its plan's key on Kafka)."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(core_schema), "x-personal": True}


T = TypeVar("T")
Personal: TypeAlias = Annotated[T, PersonalData()]
"""`Personal[str]`: a field holding personal data."""


class Seal:
    """The whole value at this place is sealed (one envelope)."""

    def __repr__(self) -> str:
        return "SEAL"


SEAL = Seal()


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's personal data is: by JSON field name, `SEAL` or the spec of the value inside."""

    fields: Mapping[str, Spec]
    has_plan: bool
    """The model has a `plan_id` field: its value is the plan of everything sealed inside it."""


@dataclass(frozen=True)
class EachSpec:
    """Every item of a list (or value of a dict) follows `item`."""

    item: Spec


Spec: TypeAlias = Seal | ModelSpec | EachSpec


@functools.cache
def personal_spec(model: type[BaseModel]) -> ModelSpec | None:
    """Where the personal fields of `model` (and of the models in it) are; None when it has none."""
    fields: dict[str, Spec] = {}
    for name, info in model.model_fields.items():
        if any(isinstance(m, PersonalData) for m in info.metadata):
            spec: Spec | None = SEAL
        else:
            spec = _type_spec(info.annotation)
        if spec is not None:
            fields[info.serialization_alias or info.alias or name] = spec
    if not fields:
        return None
    return ModelSpec(fields=fields, has_plan=PLAN_FIELD in model.model_fields)


def _type_spec(annotation: Any) -> Spec | None:
    """The spec of a value of this type: a model, a list/dict of them, an Annotated personal type."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return SEAL if any(isinstance(m, PersonalData) for m in metadata) else _type_spec(inner)
    if origin in (Union, types.UnionType):
        specs = {s for s in (_type_spec(a) for a in get_args(annotation)) if s is not None}
        if len(specs) > 1:
            raise TypeError(f"{annotation}: the alternatives of a union hold personal data differently")
        return next(iter(specs), None)
    if origin in (list, tuple, set, frozenset) or _is_sequence(origin):
        item = _type_spec(get_args(annotation)[0]) if get_args(annotation) else None
        return EachSpec(item) if item is not None else None
    if _is_mapping(origin):
        args = get_args(annotation)
        value = _type_spec(args[1]) if len(args) == 2 else None
        return EachSpec(value) if value is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return personal_spec(annotation)
    return None


def _is_sequence(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, Sequence) and not issubclass(origin, str | bytes)


def _is_mapping(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, Mapping)


def unplanned(spec: Spec | None, *, planned: bool = False, path: str = "") -> list[str]:
    """Paths of personal fields with no enclosing `plan_id` (they could not be sealed: a contract error)."""
    if spec is None:
        return []
    if isinstance(spec, Seal):
        return [] if planned else [path or "(payload)"]
    if isinstance(spec, EachSpec):
        return unplanned(spec.item, planned=planned, path=f"{path}[]")
    found: list[str] = []
    for name, inner in spec.fields.items():
        found += unplanned(inner, planned=planned or spec.has_plan, path=f"{path}.{name}" if path else name)
    return found
