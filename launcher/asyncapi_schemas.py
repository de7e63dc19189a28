"""The JSON schemas of the AsyncAPI document: event payloads (from the contract models) and the headers.

Every schema lives in `components/schemas`; payloads and nested models refer to each other there
(pydantic's `$defs` are hoisted, none is left inside a payload), so every `$ref` resolves.

A personal field (`shared.crypto.personal`, `"x-personal": true`) is, on Kafka, a `SealedValue`: its
schema says both what is on the wire and what the value is once opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.crypto.personal import personal_spec
from shared.messaging.events import Event

SCHEMAS = "#/components/schemas/"

CLOUDEVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode, plus W3C trace context.",
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique per event; consumers deduplicate on it."},
        "ce_type": {"type": "string"},
        "ce_source": {"type": "string", "examples": ["/careplan/plans"]},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "The aggregate id (normally the plan id)."},
        "ce_partitionkey": {"type": "string", "description": "Equal to the Kafka key."},
        "content-type": {"const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context of the change that caused the event."},
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers (as text) plus where it came from and why it was dead-lettered.",
    "required": ["dlt_reason", "dlt_consumer", "dlt_topic", "dlt_partition", "dlt_offset"],
    "properties": {
        "dlt_reason": {"type": "string", "description": "Why: names fields and rules, never values."},
        "dlt_consumer": {"type": "string", "description": "The consumer group that gave up on the record."},
        "dlt_topic": {"type": "string"},
        "dlt_partition": {"type": "string", "pattern": "^[0-9]+$"},
        "dlt_offset": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "additionalProperties": {"type": "string"},
}

SEALED_VALUE: dict[str, Any] = {
    "type": "object",
    "description": "A personal value sealed with its plan's key (crypto-shredding): AES-256-GCM, the plan id and "
    "the shape as associated data. The key is destroyed when the plan is purged; a reader without it takes the "
    "empty value of `shape` instead. Consumers open it before validating the payload (shared.messaging.sealing).",
    "required": ["sealed", "kid", "alg", "shape"],
    "additionalProperties": False,
    "properties": {
        "sealed": {
            "type": ["string", "null"],
            "contentEncoding": "base64",
            "description": "12-byte nonce, then ciphertext and tag; null: shredded (the plan's key was already "
            "destroyed when the event was published).",
        },
        "kid": {"type": "string", "description": "The plan id: whose key seals it."},
        "alg": {"const": "A256GCM"},
        "shape": {
            "enum": ["string", "object", "array", "number", "boolean"],
            "description": "The JSON type of the sealed value.",
        },
    },
}

HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "CloudEventHeaders": CLOUDEVENT_HEADERS,
    "DeadLetterHeaders": DEAD_LETTER_HEADERS,
    "SealedValue": SEALED_VALUE,
}
PERSONAL = "x-personal"
WORK_KEY = "x-sealed-with-work-key"
KEPT_ON_A_PERSONAL_FIELD = ("title", "description", "default", PERSONAL, WORK_KEY)
SEALED_NOTE = (
    "Personal data: sealed on Kafka (a SealedValue of its own, or inside a sealed enclosing value); this once opened."
)
WORK_ITEM_NOTE = (
    "Personal data: sealed whole on Kafka with the work item's own short-lived key (a SealedValue); this once opened."
)


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"{SCHEMAS}{name}"}


def payload_schemas(events: Iterable[type[Event]]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(components/schemas, payload schema by ce_type): one schema per model, referred to by `$ref`."""
    events = list(events)
    refs, definitions = models_json_schema(
        [(event, "serialization") for event in events], ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    payloads = {event.ce_type: refs[(event, "serialization")] for event in events}
    renames = _readable_names(schemas)
    schemas = {renames.get(name, name): _rename_refs(schema, renames) for name, schema in schemas.items()}
    payloads = {ce_type: _rename_refs(schema, renames) for ce_type, schema in payloads.items()}
    _mark_work_items(events, schemas, payloads)
    schemas = {name: _sealed(schema) for name, schema in schemas.items()}
    for name, schema in HEADER_SCHEMAS.items():
        if name in schemas:
            raise ValueError(f"a contract model is called {name}, like a header schema: rename one")
        schemas[name] = schema
    return dict(sorted(schemas.items())), payloads


def _readable_names(schemas: dict[str, Any]) -> dict[str, str]:
    """Pydantic names models that share a class name by their module path (`shared__contracts__forms__
    PurgeReceipt`); call them by their contract instead (`FormsPurgeReceipt`) where that is free."""
    renames: dict[str, str] = {}
    for name in schemas:
        *path, model = name.split("__")
        readable = f"{path[-1].capitalize()}{model}" if path else name
        if readable != name and readable not in schemas and readable not in renames.values():
            renames[name] = readable
    return renames


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS) and ref[len(SCHEMAS) :] in renames:
            node = {**node, "$ref": SCHEMAS + renames[ref[len(SCHEMAS) :]]}
        return {key: _rename_refs(value, renames) if key != "$ref" else value for key, value in node.items()}
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _sealed(node: Any) -> Any:
    """Every `"x-personal": true` schema as it is on Kafka: a `SealedValue`, or (events put on a topic by
    hand, older records) the plain value."""
    if isinstance(node, list):
        return [_sealed(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get(PERSONAL) is True:
        plain = {k: v for k, v in node.items() if k not in KEPT_ON_A_PERSONAL_FIELD}
        kept = {k: v for k, v in node.items() if k in KEPT_ON_A_PERSONAL_FIELD}
        note = WORK_ITEM_NOTE if WORK_KEY in node else SEALED_NOTE
        return {**kept, "anyOf": [schema_ref("SealedValue"), {**plain, "description": note}]}
    return {key: _sealed(value) for key, value in node.items()}


def _mark_work_items(events: list[type[Event]], schemas: dict[str, Any], payloads: dict[str, Any]) -> None:
    """A work item's top-level fields holding personal data are sealed whole (`Event.work_key_field`)."""
    for event in events:
        spec = personal_spec(event)
        if event.work_key_field is None or spec is None:
            continue
        name = payloads[event.ce_type]["$ref"].removeprefix(SCHEMAS)
        for field in spec.fields:
            schemas[name]["properties"][field] |= {PERSONAL: True, WORK_KEY: event.work_key_field}
