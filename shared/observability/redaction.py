"""Removes who called from spans before they leave the process: the HTTP instrumentation records the
client's address and user agent, which identify a patient's device. The Collector's config drops
them too (`deploy/otel/collector.yaml`); this keeps the dev span files and any exporter clean."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

DROPPED_ATTRIBUTES = frozenset(
    {
        "client.address",
        "client.port",
        "network.peer.address",
        "network.peer.port",
        "user_agent.original",
        "user_agent.synthetic.type",
        "http.user_agent",
        "http.client_ip",
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
    }
)


def redacted(span: ReadableSpan) -> ReadableSpan:
    """The span without the caller's address and user agent (the same span when it has none)."""
    attributes = span.attributes or {}
    if not DROPPED_ATTRIBUTES.intersection(attributes):
        return span
    return ReadableSpan(
        name=span.name,
        context=span.get_span_context(),
        parent=span.parent,
        resource=span.resource,
        attributes={k: v for k, v in attributes.items() if k not in DROPPED_ATTRIBUTES},
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingExporter(SpanExporter):
    """Wraps an exporter so that it only ever sees redacted spans."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)
