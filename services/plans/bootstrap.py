"""Wiring of the plans service: `uvicorn --factory services.plans.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.plans.adapters.repository import FlagStore, PlanRepository, ProgramRepository
from services.plans.entrypoints.consumers import consumers
from services.plans.entrypoints.routes import router
from services.plans.service_layer.handlers import PlansService
from services.plans.service_layer.read_model import FlagProjector
from services.plans.settings import PlansSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> PlansService:
    return PlansService(runtime.uow, ProgramRepository(runtime.db), PlanRepository(runtime.db), FlagStore(runtime.db))


async def ensure_indexes(runtime: Runtime) -> None:
    await ProgramRepository(runtime.db).ensure_indexes()
    await PlanRepository(runtime.db).ensure_indexes()


SPEC = ServiceSpec(
    title="Care plan: plans",
    description="Programs, plans (modules, sections, steps), the patient's view and the unit lists.",
    routers=[router],
    build=build_service,
    consumers=lambda runtime, service: consumers(runtime, FlagProjector(service.flags)),
    ensure_indexes=ensure_indexes,
)


def create_app(settings: PlansSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(PlansSettings), clock)
