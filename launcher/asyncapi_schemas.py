"""The JSON schemas of the AsyncAPI document: event payloads (from the contract models) and the headers.

Every schema lives in `components/schemas`; payloads and nested models refer to each other there
(pydantic's `$defs` are hoisted, none is left inside a payload), so every `$ref` resolves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import models_json_schema

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

HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "CloudEventHeaders": CLOUDEVENT_HEADERS,
    "DeadLetterHeaders": DEAD_LETTER_HEADERS,
}


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
