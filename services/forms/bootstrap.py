"""Wiring of the forms service: `uvicorn --factory services.forms.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.forms.adapters.repository import FormsRepository
from services.forms.entrypoints import planning_routes, routes
from services.forms.entrypoints.consumers import consumers
from services.forms.service_layer.activities import MISSED_TIMER
from services.forms.service_layer.batteries import OCCASION_TIMER, REMINDER_TIMER
from services.forms.service_layer.flags import INACTIVITY_TIMER
from services.forms.service_layer.handlers import MODULE_NOTIFY_TIMER, FormsService
from services.forms.settings import FormsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: forms",
    description="Questionnaires, scoring, results over time, form modules, measurement batteries, "
    "activity plans and flags.",
    build=lambda runtime: FormsService(runtime.uow, FormsRepository(runtime.db), runtime.timers),
    routers=[routes.router, planning_routes.router],
    consumers=consumers,
    timer_handlers=lambda _, service: {
        MODULE_NOTIFY_TIMER: service.on_module_notify_timer,
        OCCASION_TIMER: service.batteries.on_occasion_timer,
        REMINDER_TIMER: service.batteries.on_reminder_timer,
        INACTIVITY_TIMER: service.flags.on_inactivity_timer,
        MISSED_TIMER: service.activities.on_missed_timer,
    },
    ensure_indexes=lambda runtime: FormsRepository(runtime.db).ensure_indexes(),
)


def create_app(settings: FormsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(FormsSettings), clock)
