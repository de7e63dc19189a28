"""Kafka spans in the current OpenTelemetry messaging conventions, as a faststream middleware.

faststream's own telemetry middleware names spans `<topic> process` and sets the deprecated
`messaging.operation`; SREs query by the stable names: spans `send careplan.plans.v1` (PRODUCER) and
`process careplan.plans.v1` (CONSUMER) with `messaging.operation.type`, `messaging.destination.name`,
`messaging.destination.partition.id`, `messaging.kafka.offset` and `messaging.consumer.group.name`, and
the CloudEvents id and type. The W3C trace context travels in the record's headers. No attribute
carries a payload: the key is a plan id, never a person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream import BaseMiddleware
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

SYSTEM = "messaging.system"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
DESTINATION = "messaging.destination.name"
PARTITION = "messaging.destination.partition.id"
OFFSET = "messaging.kafka.offset"
KEY = "messaging.kafka.message.key"
BODY_SIZE = "messaging.message.body.size"
GROUP = "messaging.consumer.group.name"
MESSAGE_ID = "messaging.message.id"
CE_ID = "cloudevents.event_id"
CE_TYPE = "cloudevents.event_type"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _headers(raw: Any) -> dict[str, str]:
    return {name: _text(value) or "" for name, value in (raw or ())}


class KafkaSpans:
    """The middleware factory given to the broker: one `KafkaSpanMiddleware` per message or publish."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("careplan.kafka", tracer_provider=tracer_provider)

    def __call__(self, msg: Any, /, *, context: Any) -> KafkaSpanMiddleware:
        return KafkaSpanMiddleware(msg, context=context, tracer=self._tracer)


class KafkaSpanMiddleware(BaseMiddleware):
    """A CONSUMER span around each record's processing, a PRODUCER span around each publish."""

    def __init__(self, msg: Any, /, *, context: Any, tracer: trace.Tracer) -> None:
        super().__init__(msg, context=context)
        self._tracer = tracer

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        record = msg.raw_message
        headers = _headers(record.headers)
        parent = propagate.extract(headers)
        attributes: dict[str, Any] = {
            SYSTEM: "kafka",
            OPERATION_TYPE: "process",
            OPERATION_NAME: "process",
            DESTINATION: record.topic,
            PARTITION: str(record.partition),
            OFFSET: record.offset,
            BODY_SIZE: len(record.value or b""),
        }
        if record.key is not None:
            attributes[KEY] = _text(record.key)
        with self._tracer.start_as_current_span(
            f"process {record.topic}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
        ) as span:
            try:
                return await call_next(msg)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.set_attribute("error.type", type(exc).__name__)
                raise

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        attributes: dict[str, Any] = {
            SYSTEM: "kafka",
            OPERATION_TYPE: "send",
            OPERATION_NAME: "send",
            DESTINATION: cmd.destination,
        }
        if getattr(cmd, "key", None) is not None:
            attributes[KEY] = _text(cmd.key)
        ce_id = (cmd.headers or {}).get("ce_id")
        if ce_id:
            attributes[MESSAGE_ID] = ce_id
        with self._tracer.start_as_current_span(
            f"send {cmd.destination}", context=context.get_current(), kind=SpanKind.PRODUCER, attributes=attributes
        ) as span:
            headers = dict(cmd.headers or {})
            propagate.inject(headers)  # the consumer's span continues this one
            cmd.headers = headers
            try:
                return await call_next(cmd)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.set_attribute("error.type", type(exc).__name__)
                raise


def describe_consumed(group: str, ce_id: str | None, ce_type: str | None) -> None:
    """Add the consumer group and the CloudEvent's id and type to the current CONSUMER span."""
    span = trace.get_current_span()
    span.set_attribute(GROUP, group)
    if ce_id:
        span.set_attribute(MESSAGE_ID, ce_id)
        span.set_attribute(CE_ID, ce_id)
    if ce_type:
        span.set_attribute(CE_TYPE, ce_type)
