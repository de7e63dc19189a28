"""The connections and platform components of one service process: MongoDB, Redis, the Kafka broker,
the unit of work, outbox relay, timers, token verifier, audit log and tracing."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import redis.asyncio as redis
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from shared.audit import AuditLog
from shared.clock import Clock, SystemClock
from shared.messaging.outbox import OutboxRelay
from shared.observability.telemetry import configure_tracing
from shared.security.tokens import TokenVerifier
from shared.settings import PlatformSettings
from shared.storage.timers import TimerStore
from shared.storage.unit_of_work import MongoUnitOfWork


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
        self.uow = MongoUnitOfWork(
            self.mongo, self.db, clock=self.clock, source=f"/careplan/{settings.service_name}", audit_log=self.audit
        )
        self.timers = TimerStore(self.db, self.clock)
        self.verifier = TokenVerifier(
            settings.public_key_pem(),
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            algorithms=settings.auth_algorithms,
        )
        self.outbox_relay = OutboxRelay(
            self.uow, self.broker, owner=self.instance_id, poll_seconds=settings.outbox_poll_seconds
        )

    async def readiness(self) -> dict[str, str]:
        """'ok' or the failure, per dependency."""
        checks: dict[str, Awaitable[Any]] = {
            "mongodb": self.mongo.admin.command("ping"),
            "redis": self.redis.ping(),
            "kafka": self._kafka_ping(),
        }
        results = await asyncio.gather(*(asyncio.wait_for(c, 3) for c in checks.values()), return_exceptions=True)
        return {
            name: "ok" if not isinstance(r, BaseException) else f"failed: {type(r).__name__}"
            for name, r in zip(checks, results, strict=True)
        }

    async def _kafka_ping(self) -> None:
        if not await self.broker.ping(timeout=2):
            raise ConnectionError("broker did not answer")

    async def close(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()
        await self.mongo.close()
