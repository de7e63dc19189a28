"""Wiring of the handover service: `uvicorn --factory services.handover.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.handover.adapters.repository import MongoHandoverRepository, MongoUnitPrograms
from services.handover.entrypoints.consumers import consumers
from services.handover.entrypoints.routes import router
from services.handover.service_layer.ports import Stores
from services.handover.service_layer.service import HandoverService
from services.handover.settings import HandoverSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime, settings: HandoverSettings) -> HandoverService:
    db = runtime.db
    stores = Stores(
        handovers=MongoHandoverRepository(db),
        units=MongoUnitPrograms(db),
        ownership=MongoOwnershipRepository(db),
        timers=runtime.timers,
    )
    return HandoverService(runtime.uow, stores, settings.policy())


async def ensure_indexes(runtime: Runtime) -> None:
    await MongoHandoverRepository(runtime.db).ensure_indexes()
    await MongoOwnershipRepository(runtime.db).ensure_indexes()


def service_spec(settings: HandoverSettings) -> ServiceSpec:
    """The handover service's part of the wiring, built with its own settings."""
    return ServiceSpec(
        title="Care plan: handover",
        description="Handing a plan over to another unit running the same program version, as one saga.",
        build=lambda runtime: build_service(runtime, settings),
        routers=[router],
        consumers=consumers,
        timer_handlers=lambda _, service: service.timer_handlers(),
        ensure_indexes=ensure_indexes,
    )


SPEC = service_spec(HandoverSettings.model_construct())
"""The declarations with the settings' defaults, for tools that read a service's routes and consumers."""


def create_app(settings: HandoverSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or load_settings(HandoverSettings)
    return create_service_app(service_spec(settings), settings, clock)
