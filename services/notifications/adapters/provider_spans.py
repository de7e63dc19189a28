"""CLIENT spans around the calls to the e-mail and SMS providers, in the OpenTelemetry conventions,
with the outcome; never the address, the number or the text. A failed delivery marks its span (and
the Collector's tail sampling keeps its trace)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.notifications.domain.outcomes import Outcome

OUTCOME = "careplan.delivery.outcome"
DELIVERIES = "careplan.delivery.count"
_tracer = trace.get_tracer("careplan.notifications.providers")


@dataclass
class ProviderCall:
    """What the call ended in; set by the adapter before the span closes."""

    outcomes: list[Outcome] = field(default_factory=list)
    status_code: int | None = None


@contextmanager
def provider_span(
    name: str, *, protocol: str, host: str, port: int | None, method: str | None = None, route: str | None = None
) -> Iterator[ProviderCall]:
    """A CLIENT span named like `smtp send` or `POST /messages`, ended with the call's outcomes."""
    attributes: dict[str, str | int] = {"server.address": host, "network.protocol.name": protocol}
    if port is not None:
        attributes["server.port"] = port
    if method is not None:
        attributes["http.request.method"] = method
    if route is not None:
        attributes["url.template"] = route
    call = ProviderCall()
    with _tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
        yield call
        states = {outcome.status for outcome in call.outcomes}
        span.set_attribute(DELIVERIES, len(call.outcomes))
        if call.status_code is not None:
            span.set_attribute("http.response.status_code", call.status_code)
        if states:
            worst = "failed" if "failed" in states else "retry" if "retry" in states else "sent"
            span.set_attribute(OUTCOME, worst)
            if worst != "sent":
                span.set_attribute("error.type", worst)
                span.set_status(Status(StatusCode.ERROR, f"delivery {worst}"))
