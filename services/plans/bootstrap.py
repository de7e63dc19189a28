"""Wiring of the plans service: `uvicorn --factory services.plans.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.plans.adapters.repository import MongoFlagStore, MongoPlanRepository, MongoProgramRepository
from services.plans.adapters.units import MongoActiveKeys, MongoUnitPrograms
from services.plans.entrypoints.consumers import consumers
from services.plans.entrypoints.routes import router
from services.plans.entrypoints.unit_routes import router as unit_router
from services.plans.service_layer.service import PlansService
from services.plans.settings import PlansSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership.repository import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> PlansService:
    db = runtime.db
    return PlansService(
        runtime.uow,
        MongoProgramRepository(db),
        MongoPlanRepository(db),
        MongoFlagStore(db),
        MongoOwnershipRepository(db),
        MongoUnitPrograms(db),
        MongoActiveKeys(db),
    )


async def ensure_indexes(runtime: Runtime) -> None:
    await MongoProgramRepository(runtime.db).ensure_indexes()
    await MongoPlanRepository(runtime.db).ensure_indexes()
    await MongoOwnershipRepository(runtime.db).ensure_indexes()


SPEC = ServiceSpec(
    title="Care plan: plans",
    description="Programs, plans (modules, sections, steps), the patient's view and the unit lists.",
    routers=[router, unit_router],
    build=build_service,
    consumers=consumers,
    ensure_indexes=ensure_indexes,
)


def create_app(settings: PlansSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(PlansSettings), clock)
