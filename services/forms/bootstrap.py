"""Wiring of the forms service: `uvicorn --factory services.forms.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.forms.adapters.stores import ensure_indexes, mongo_stores
from services.forms.entrypoints import planning_routes, routes
from services.forms.entrypoints.consumers import consumers
from services.forms.service_layer.service import FormsService
from services.forms.settings import FormsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


async def _ensure_indexes(runtime: Runtime) -> None:
    await ensure_indexes(runtime.db)
    await MongoOwnershipRepository(runtime.db).ensure_indexes()


SPEC = ServiceSpec(
    title="Care plan: forms",
    description="Questionnaires, scoring, results over time, form modules, measurement batteries, "
    "activity plans and flags.",
    build=lambda runtime: FormsService(runtime.uow, mongo_stores(runtime.db), runtime.timers),
    routers=[routes.router, planning_routes.router],
    consumers=consumers,
    timer_handlers=lambda _, service: service.timer_handlers(),
    ensure_indexes=_ensure_indexes,
)


def create_app(settings: FormsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(FormsSettings), clock)
