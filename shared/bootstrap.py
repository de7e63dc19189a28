"""One way every service is wired: a `ServiceSpec` (routers, consumers, timer handlers, indexes)
and the `Runtime` (connections) → a FastAPI app with /livez, /readyz, /metrics, /openapi.json,
problem-details errors, and the outbox relay and timer runner running for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from shared.clock import Clock
from shared.messaging.consumer import EventConsumer, ensure_inbox_indexes
from shared.messaging.naming import current_namespace
from shared.observability.backlog import ConsumerLagProbe, OutboxProbe, TimerProbe
from shared.observability.metrics import BacklogProbe, BacklogSampler
from shared.observability.telemetry import configure_logging
from shared.runtime import Runtime
from shared.security.connections import kafka_security
from shared.settings import PlatformSettings
from shared.storage.timers import TimerHandler, TimerRunner
from shared.web.body_limit import BodyLimitMiddleware
from shared.web.middleware import RequestMetricsMiddleware
from shared.web.openapi import install_openapi
from shared.web.probes import add_audit_route, add_probes
from shared.web.problems import install_problem_handlers


@dataclass
class ServiceSpec:
    """What a service contributes to the common wiring."""

    title: str
    description: str
    build: Callable[[Runtime], Any]
    """Builds the service-layer object; routes reach it as `request.app.state.service`."""
    routers: Sequence[APIRouter] = ()
    consumers: Callable[[Runtime, Any], list[EventConsumer]] = lambda *_: []
    timer_handlers: Callable[[Runtime, Any], dict[str, TimerHandler]] = lambda *_: {}
    ensure_indexes: Callable[[Runtime], Awaitable[None]] | None = None
    probes: Callable[[Runtime], list[BacklogProbe]] = lambda _: []
    """The service's own backlog gauges (open reply SLAs, purges waiting for receipts …), sampled on scrape."""


log = logging.getLogger(__name__)


def create_service_app(spec: ServiceSpec, settings: PlatformSettings, clock: Clock | None = None) -> FastAPI:
    """Build the service's FastAPI app; connections start and stop with the app's lifespan."""
    configure_logging(settings.service_name, settings.log_level)
    runtime = Runtime(settings, clock)
    service = spec.build(runtime)
    consumers = spec.consumers(runtime, service)
    for consumer in consumers:
        consumer.register()
    timer_runner = TimerRunner(
        runtime.timers,
        runtime.uow,
        spec.timer_handlers(runtime, service),
        owner=runtime.instance_id,
        clock=runtime.clock,
        poll_seconds=settings.timer_poll_seconds,
    )
    backlog = backlog_sampler(spec, runtime, consumers)
    lifespan = _lifespan(spec, runtime, timer_runner, backlog, consumers)
    app = FastAPI(title=spec.title, description=spec.description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.backlog = backlog
    app.state.verifier = runtime.verifier
    app.state.service = service
    app.state.timer_runner = timer_runner
    _add_http_edge(app, runtime, spec)
    return app


def backlog_sampler(spec: ServiceSpec, runtime: Runtime, consumers: list[EventConsumer]) -> BacklogSampler:
    """The gauges sampled when Prometheus scrapes: outbox, timers, consumer lag and the service's own."""
    settings = runtime.settings
    groups = {consumer.name: consumer.topics for consumer in consumers}
    lag = ConsumerLagProbe(settings.service_name, settings.kafka_bootstrap_servers, kafka_security(settings), groups)
    probes: list[BacklogProbe] = [
        OutboxProbe(settings.service_name, runtime.db, runtime.clock),
        TimerProbe(settings.service_name, runtime.db, runtime.clock),
        lag,
        *spec.probes(runtime),
    ]
    return BacklogSampler(settings.service_name, probes)


def _started(runtime: Runtime, consumers: list[EventConsumer]) -> None:
    settings = runtime.settings
    log.info(
        "%s started as %s: consumer groups %s, namespace %r, database %s",
        settings.service_name,
        runtime.instance_id,
        ", ".join(c.name for c in consumers) or "none",
        current_namespace().prefix,
        settings.mongodb_database,
    )


def _lifespan(
    spec: ServiceSpec,
    runtime: Runtime,
    timer_runner: TimerRunner,
    backlog: BacklogSampler,
    consumers: list[EventConsumer],
) -> Callable[[FastAPI], Any]:
    """Indexes, the broker, and the outbox relay and timer runner for as long as the app runs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.gather(
            runtime.audit.ensure_indexes(),
            runtime.timers.ensure_indexes(),
            runtime.outbox_relay.ensure_indexes(),
            ensure_inbox_indexes(runtime.db),
        )
        if spec.ensure_indexes:
            await spec.ensure_indexes(runtime)
        await runtime.broker.start()
        tasks = [
            asyncio.create_task(runtime.outbox_relay.run_forever(), name="outbox-relay"),
            asyncio.create_task(timer_runner.run_forever(), name="timer-runner"),
        ]
        _started(runtime, consumers)
        try:
            yield
        finally:
            log.info("%s stopping", runtime.settings.service_name)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await backlog.close()
            await runtime.close()

    return lifespan


def _add_http_edge(app: FastAPI, runtime: Runtime, spec: ServiceSpec) -> None:
    """Errors as problem details, the OpenAPI document, limits, metrics, probes, routes and tracing."""
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestMetricsMiddleware, service=runtime.settings.service_name)
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.http_max_body_bytes)
    add_probes(app, runtime, app.state.backlog)
    add_audit_route(app, runtime)
    for router in spec.routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=runtime.tracer_provider, excluded_urls="livez,readyz,metrics"
    )
