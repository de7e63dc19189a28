"""Wiring of the retention service: `uvicorn --factory services.retention.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.retention.adapters.repository import ScheduleRepository
from services.retention.entrypoints.consumers import consumers
from services.retention.entrypoints.routes import router
from services.retention.service_layer.handlers import LIMIT_TIMER, REMINDER_TIMER, RetentionService
from services.retention.settings import RetentionSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: retention",
    description="The 730-day limit of every plan: deadlines, reminders, export and purge.",
    build=lambda runtime: RetentionService(
        ScheduleRepository(runtime.db), runtime.timers, runtime.settings.retention_reminder_days
    ),  # type: ignore[attr-defined]
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: {LIMIT_TIMER: service.on_limit_timer, REMINDER_TIMER: service.on_reminder_timer},
)


def create_app(settings: RetentionSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(RetentionSettings), clock)
