"""Wiring of the messaging service: `uvicorn --factory services.messaging.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.messaging.adapters.repository import MessagingRepository
from services.messaging.entrypoints.consumers import consumers
from services.messaging.entrypoints.routes import router
from services.messaging.service_layer.handlers import DUE_SOON_TIMER, OVERDUE_TIMER, MessagingService
from services.messaging.settings import MessagingSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> MessagingService:
    return MessagingService(runtime.uow, MessagingRepository(runtime.db), runtime.timers)


SPEC = ServiceSpec(
    title="Care plan: messaging",
    description="Conversations between patients and staff, drafts, unread counts, and the 3-working-day reply SLA.",
    build=build_service,
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: {DUE_SOON_TIMER: service.on_due_soon, OVERDUE_TIMER: service.on_overdue},
    ensure_indexes=lambda runtime: MessagingRepository(runtime.db).ensure_indexes(),
)


def create_app(settings: MessagingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(MessagingSettings), clock)
