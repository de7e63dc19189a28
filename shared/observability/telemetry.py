"""Tracing and logging set-up: OTLP export when configured, a JSON-lines span file in dev mode,
FastAPI/pymongo/redis instrumentation, and JSON logs that carry trace and span ids.

Personal data never goes into span attributes: pymongo statements are not captured and the
redis instrumentation records only command names.
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
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if trace_file is not None:
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(trace_file), schedule_delay_millis=200))
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
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


def configure_logging(service_name: str, level: str) -> None:
    """JSON logs on stdout with service, trace and span ids on every line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceContextFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            static_fields={"service": service_name},
            rename_fields={"levelname": "level", "asctime": "time"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
