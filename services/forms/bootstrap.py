"""Wiring of the forms service: `uvicorn --factory services.forms.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.forms.adapters.repository import FormsRepository
from services.forms.entrypoints.consumers import consumers
from services.forms.entrypoints.routes import router
from services.forms.service_layer.handlers import MODULE_NOTIFY_TIMER, FormsService
from services.forms.settings import FormsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: forms",
    description="Questionnaires, scoring, results over time, form modules and flags.",
    build=lambda runtime: FormsService(runtime.uow, FormsRepository(runtime.db), runtime.timers),
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: {MODULE_NOTIFY_TIMER: service.on_module_notify_timer},
    ensure_indexes=lambda runtime: FormsRepository(runtime.db).ensure_indexes(),
)


def create_app(settings: FormsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(FormsSettings), clock)
