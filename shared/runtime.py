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
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from shared.audit import AuditLog
from shared.clock import Clock, SystemClock
from shared.crypto.keyring import CachingKeyring, install_keyring
from shared.crypto.mongo_keyring import MongoKeyring
from shared.messaging.naming import install_namespace
from shared.messaging.outbox import OutboxRelay
from shared.messaging.sealing import Sealer
from shared.observability.kafka_spans import KafkaSpans
from shared.observability.metrics import install_service_name
from shared.observability.telemetry import configure_tracing
from shared.security.connections import kafka_security, mongo_tls_options, redis_options
from shared.security.jwks import JwksKeys
from shared.security.tokens import TokenVerifier
from shared.settings import PlatformSettings
from shared.storage.timers import TimerStore
from shared.storage.unit_of_work import MongoUnitOfWork


def _keyring_client(settings: PlatformSettings) -> AsyncMongoClient[dict[str, Any]] | None:
    if not settings.keyring_mongodb_uri:
        return None
    return AsyncMongoClient(
        settings.keyring_mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000, **mongo_tls_options(settings)
    )


def plan_keyring(settings: PlatformSettings, client: AsyncMongoClient[dict[str, Any]]) -> CachingKeyring:
    """The platform's plan keys (their own database; a KMS in production), cached briefly in this process."""
    keys = MongoKeyring(client[settings.keyring_database], short_lived_seconds=settings.keyring_work_key_seconds)
    return CachingKeyring(keys, ttl_seconds=settings.keyring_cache_seconds)


class Runtime:
    """The connections and platform components of one service process."""

    def __init__(self, settings: PlatformSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock(timedelta(seconds=settings.clock_offset_seconds))
        self.instance_id = f"{settings.service_name}-{socket.gethostname()}-{os.getpid()}"
        self.tracer_provider = configure_tracing(settings.service_name, settings.trace_file)
        install_service_name(settings.service_name)
        install_namespace(settings.kafka_namespace)  # every topic and group name of this process goes through it
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_uri,
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            appname=settings.service_name,
            **mongo_tls_options(settings),
        )
        self.db = self.mongo[settings.mongodb_database]
        self._redis = _redis_client(settings)  # only where REDIS_URL is set: readiness checks what is used
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=settings.kafka_enable_idempotence,
            linger_ms=5,
            client_id=settings.service_name,
            security=kafka_security(settings),
            middlewares=[
                KafkaSpans(self.tracer_provider),
                KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
            ],
            logger=None,
        )
        self.audit = AuditLog(self.db, service=settings.service_name, pepper=settings.audit_pepper, clock=self.clock)
        self.uow = MongoUnitOfWork(
            self.mongo, self.db, clock=self.clock, source=f"/careplan/{settings.service_name}", audit_log=self.audit
        )
        self.timers = TimerStore(self.db, self.clock)
        self.verifier = token_verifier(settings)
        self._keyring_mongo = _keyring_client(settings)  # None: the keys live next to the service's database
        self.keyring = plan_keyring(settings, self._keyring_mongo or self.mongo)
        install_keyring(self.keyring)  # consumers and publishers of this process seal and open with it
        self.sealer = Sealer(self.keyring)
        self.outbox_relay = self._outbox_relay()

    def _outbox_relay(self) -> OutboxRelay:
        """The relay publishing this service's outbox, sealing personal fields on the way."""
        poll_seconds = self.settings.outbox_poll_seconds
        return OutboxRelay(self.uow, self.broker, owner=self.instance_id, poll_seconds=poll_seconds, sealer=self.sealer)

    @property
    def redis(self) -> redis.Redis:
        """The Redis client; only services configured with REDIS_URL have one."""
        if self._redis is None:
            raise RuntimeError(f"{self.settings.service_name} uses Redis: set REDIS_URL")
        return self._redis

    async def readiness(self) -> dict[str, str]:
        """'ok' or the failure, per dependency the service is configured with."""
        checks: dict[str, Awaitable[Any]] = {
            "mongodb": self.mongo.admin.command("ping"),
            **({"redis": self._redis.ping()} if self._redis is not None else {}),
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
        if self._redis is not None:
            await self._redis.aclose()
        await self.mongo.close()
        if self._keyring_mongo is not None:
            await self._keyring_mongo.close()


def token_verifier(settings: PlatformSettings) -> TokenVerifier:
    """The bearer token verifier: keys from the identity provider's JWKS, or the configured PEM key."""
    keys = None
    if settings.auth_jwks_url:
        keys = JwksKeys(
            settings.auth_jwks_url,
            algorithms=settings.auth_algorithms,
            cache_seconds=settings.auth_jwks_cache_seconds,
            cooldown_seconds=settings.auth_jwks_cooldown_seconds,
        )
    return TokenVerifier(
        None if keys else settings.public_key_pem(),
        audience=settings.auth_audience,
        issuer=settings.auth_issuer,
        algorithms=settings.auth_algorithms,
        keys=keys,
    )


def _redis_client(settings: PlatformSettings) -> redis.Redis | None:
    """A pooled Redis client if the service is configured with REDIS_URL (blocking pool: see infrastructure.md)."""
    if settings.redis_url is None:
        return None
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=5, **redis_options(settings)
    )
    return redis.Redis(connection_pool=pool)
