"""Tracing and logging set-up: OTLP export when configured, a JSON-lines span file in dev mode,
FastAPI/pymongo/redis instrumentation, and JSON logs that carry trace and span ids.

HTTP spans use the stable semantic conventions (`http.request.method`, `http.response.status_code`).
Personal data never goes into span attributes: pymongo statements are not captured, the redis
instrumentation records only command names, and the caller's address and user agent are removed
from every span before export.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from pythonjsonlogger.json import JsonFormatter

from shared.observability.log_context import current_log_fields
from shared.observability.redaction import RedactingExporter

_configured = False


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def span_as_dict(span: ReadableSpan) -> dict[str, object]:
    """The span in the shape of the SDK's `to_json`, tolerant of bytes attributes (Kafka keys)."""
    context = span.get_span_context()
    assert context is not None  # a finished span always has one
    return {
        "name": span.name,
        "context": {"trace_id": f"0x{context.trace_id:032x}", "span_id": f"0x{context.span_id:016x}"},
        "kind": str(span.kind),
        "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "status": {"status_code": span.status.status_code.name},
        "attributes": dict(span.attributes or {}),
        "links": [
            {
                "trace_id": f"0x{link.context.trace_id:032x}",
                "span_id": f"0x{link.context.span_id:016x}",
                "attributes": dict(link.attributes or {}),
            }
            for link in span.links
        ],
        "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
        "resource": dict(span.resource.attributes),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one JSON line to a file an SRE can read (dev mode)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the exporter
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_as_dict(span), default=_jsonable) + "\n" for span in spans)
        with self._lock:
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._file.close()


def configure_tracing(service_name: str, trace_file: Path | None) -> TracerProvider:
    """Install the global TracerProvider once per process."""
    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    # The HTTP instrumentation reads this once, when it first instruments: the stable names only.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(OTLPSpanExporter())))
    if trace_file is not None:
        exporter = RedactingExporter(JsonLinesSpanExporter(trace_file))
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    trace.set_tracer_provider(provider)
    _instrument_clients()
    _configured = True
    return provider


def _instrument_clients() -> None:
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    PymongoInstrumentor().instrument(capture_statement=False)
    RedisInstrumentor().instrument()


class _TraceContextFilter(logging.Filter):
    """Trace and span ids, and the fields bound with `log_fields` (the consumed event's id, topic, offset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        for name, value in current_log_fields().items():
            setattr(record, name, value)
        return True


def configure_logging(service_name: str, level: str) -> None:
    """JSON logs on stdout: an ISO 8601 timestamp with its zone (UTC), level, logger, message, service,
    trace and span ids on every line; a consumer's lines also carry `ce_id`, topic, partition, offset."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceContextFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            static_fields={"service": service_name},
            rename_fields={"levelname": "level"},
            timestamp="time",  # datetime.isoformat() in UTC: 2026-11-24T09:15:02.123456+00:00
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # Partition assignments are what an operator reads after a rebalance: keep them at INFO.
    logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(level)
