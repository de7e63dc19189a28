"""One way every service is wired: settings → Mongo, Redis, Kafka broker, outbox relay, timers,
consumers, auth, audit, telemetry → a FastAPI app with /livez, /readyz, /metrics, /openapi.json."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import redis.asyncio as redis
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import BaseModel
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pymongo import AsyncMongoClient

from shared.audit import AuditLog, AuditRecord
from shared.auth import Role, Staff, TokenVerifier
from shared.clock import Clock, SystemClock
from shared.consumer import EventConsumer
from shared.http import RequestMetricsMiddleware, install_error_handlers, require_staff
from shared.identity import Personnummer
from shared.outbox import OutboxRelay
from shared.settings import PlatformSettings
from shared.telemetry import configure_logging, configure_tracing
from shared.timers import TimerHandler, TimerRunner, TimerStore
from shared.unit_of_work import UnitOfWork


class Runtime:
    """The connections and platform components of one service process."""

    def __init__(self, settings: PlatformSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock(timedelta(seconds=settings.clock_offset_seconds))
        self.instance_id = f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"
        self.tracer_provider = configure_tracing(settings.service_name, settings.trace_file)
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000, appname=settings.service_name
        )
        self.db = self.mongo[settings.mongodb_database]
        self.redis = redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=settings.redis_max_connections, timeout=5
            )
        )
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=settings.kafka_enable_idempotence,
            linger_ms=5,
            client_id=settings.service_name,
            middlewares=[
                KafkaTelemetryMiddleware(tracer_provider=self.tracer_provider),
                KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
            ],
            logger=None,
        )
        self.audit = AuditLog(self.db, service=settings.service_name, pepper=settings.audit_pepper, clock=self.clock)
        self.uow = UnitOfWork(self.mongo, self.db, clock=self.clock, source=f"/careplan/{settings.service_name}",
                              audit_log=self.audit)
        self.timers = TimerStore(self.db, self.clock)
        self.verifier = TokenVerifier(settings.public_key_pem(), audience=settings.auth_audience,
                                      issuer=settings.auth_issuer, algorithms=settings.auth_algorithms)
        self.outbox_relay = OutboxRelay(self.uow, self.broker, owner=self.instance_id,
                                        poll_seconds=settings.outbox_poll_seconds)

    async def readiness(self) -> dict[str, str]:
        """'ok' or the failure, per dependency."""
        checks: dict[str, Awaitable[Any]] = {
            "mongodb": self.mongo.admin.command("ping"),
            "redis": self.redis.ping(),
            "kafka": self._kafka_ping(),
        }
        results = await asyncio.gather(*(asyncio.wait_for(c, 3) for c in checks.values()), return_exceptions=True)
        return {name: "ok" if not isinstance(r, BaseException) else f"failed: {type(r).__name__}"
                for name, r in zip(checks, results, strict=True)}

    async def _kafka_ping(self) -> None:
        if not await self.broker.ping(timeout=2):
            raise ConnectionError("broker did not answer")

    async def close(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()
        await self.mongo.close()


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


def create_service_app(spec: ServiceSpec, settings: PlatformSettings, clock: Clock | None = None) -> FastAPI:
    """Build the service's FastAPI app; connections start and stop with the app's lifespan."""
    configure_logging(settings.service_name, settings.log_level)
    runtime = Runtime(settings, clock)
    service = spec.build(runtime)
    for consumer in spec.consumers(runtime, service):
        consumer.register()
    timer_runner = TimerRunner(runtime.timers, runtime.uow, spec.timer_handlers(runtime, service),
                               owner=runtime.instance_id,
                               clock=runtime.clock, poll_seconds=settings.timer_poll_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.gather(runtime.audit.ensure_indexes(), runtime.timers.ensure_indexes(),
                             runtime.outbox_relay.ensure_indexes())
        if spec.ensure_indexes:
            await spec.ensure_indexes(runtime)
        await runtime.broker.start()
        tasks = [asyncio.create_task(runtime.outbox_relay.run_forever(), name="outbox-relay"),
                 asyncio.create_task(timer_runner.run_forever(), name="timer-runner")]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.close()

    app = FastAPI(title=spec.title, description=spec.description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.service = service
    app.state.timer_runner = timer_runner
    install_error_handlers(app)
    app.add_middleware(RequestMetricsMiddleware, service=settings.service_name)
    _add_probes(app, runtime)
    _add_audit_route(app, runtime)
    for router in spec.routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=runtime.tracer_provider,
                                       excluded_urls="livez,readyz,metrics")
    return app


class AuditQuery(BaseModel):
    """Whose audit trail to read (in the body: identities never go into URLs, which are logged and traced)."""

    personnummer: Personnummer


def _add_audit_route(app: FastAPI, runtime: Runtime) -> None:
    @app.post("/audit/query", tags=["audit"], response_model=list[AuditRecord],
              summary="Who read or changed a patient's data in this service, at the caller's unit")
    async def audit_query(query: AuditQuery,
                          by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN, Role.DATA_ADMIN)]) -> list[AuditRecord]:
        return await runtime.audit.for_patient(query.personnummer, by.unit_id)


def _add_probes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/livez", tags=["probes"], summary="The process is alive (checks nothing external)")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["probes"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["probes"], summary="Broker, MongoDB and Redis answer")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                            status_code=200 if ready else 503)
