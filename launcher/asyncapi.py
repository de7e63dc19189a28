"""The AsyncAPI 3.0 document of every topic and event type, generated from the event registry."""

from __future__ import annotations

from typing import Any

from launcher.catalogue import all_topics
from shared.messaging.events import EVENT_TYPES

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


def _message_name(ce_type: str) -> str:
    return ce_type.removeprefix("se.careplan.").replace(".", "_")


def asyncapi_document() -> dict[str, Any]:
    topics = all_topics()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in topics:
        channel_id = topic.name.replace(".", "_")
        events = sorted((t for t, cls in EVENT_TYPES.items() if cls.topic.name == topic.name))
        channel_messages = {}
        for ce_type in events:
            cls = EVENT_TYPES[ce_type]
            name = _message_name(ce_type)
            messages[name] = {
                "name": ce_type,
                "title": cls.__name__,
                "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else cls.__name__,
                "contentType": "application/json",
                "headers": CLOUDEVENT_HEADERS,
                "payload": cls.model_json_schema(mode="serialization"),
                "bindings": {"kafka": {"key": {"type": "string", "description": f"the event's {cls.key_field}"}}},
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "partitions": topic.partitions,
                    **({"topicConfiguration": {"cleanup.policy": ["compact"]}} if topic.compacted else {}),
                }
            },
        }
        if channel_messages:
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in channel_messages],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Care-plan platform events",
            "version": "1.0.0",
            "description": "Domain events of the care-plan services: CloudEvents 1.0 in Kafka binary mode, "
            "JSON payloads, keyed by plan id, trace context in the headers. Delivery is "
            "at-least-once: deduplicate on ce_id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
