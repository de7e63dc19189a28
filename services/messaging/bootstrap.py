"""Wiring of the messaging service: `uvicorn --factory services.messaging.bootstrap:create_app`."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.messaging.adapters.metrics import ReplySlaProbe
from services.messaging.adapters.repository import MongoConversationRepository, MongoMessageRepository
from services.messaging.entrypoints.consumers import consumers
from services.messaging.entrypoints.routes import router
from services.messaging.service_layer.service import MessagingService
from services.messaging.settings import MessagingSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> MessagingService:
    return MessagingService.create(
        runtime.uow,
        MongoOwnershipRepository(runtime.db),
        MongoConversationRepository(runtime.db),
        MongoMessageRepository(runtime.db),
        runtime.timers,
    )


async def ensure_indexes(runtime: Runtime) -> None:
    await asyncio.gather(
        MongoOwnershipRepository(runtime.db).ensure_indexes(),
        MongoConversationRepository(runtime.db).ensure_indexes(),
        MongoMessageRepository(runtime.db).ensure_indexes(),
    )


SPEC = ServiceSpec(
    title="Care plan: messaging",
    description="Conversations between patients and staff, drafts, unread counts, and the 3-working-day reply SLA.",
    build=build_service,
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: service.sla.timer_handlers(),
    ensure_indexes=ensure_indexes,
    probes=lambda runtime: [ReplySlaProbe(runtime.db)],
)


def create_app(settings: MessagingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(MessagingSettings), clock)
