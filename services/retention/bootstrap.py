"""Wiring of the retention service: `uvicorn --factory services.retention.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.retention.adapters.export_repository import MongoExportPartRepository, MongoExportRepository
from services.retention.adapters.metrics import PurgeProbe
from services.retention.adapters.pdf_export import render_pdf
from services.retention.adapters.repository import (
    MongoEndedPlans,
    MongoPlanDataEraser,
    MongoPurgeRepository,
    MongoScheduleRepository,
    MongoTombstoneRepository,
)
from services.retention.entrypoints.consumers import consumers
from services.retention.entrypoints.routes import router
from services.retention.service_layer.services import RetentionServices
from services.retention.service_layer.stores import Stores
from services.retention.settings import RetentionSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


def build_services(runtime: Runtime, settings: RetentionSettings) -> RetentionServices:
    db = runtime.db
    stores = Stores(
        schedules=MongoScheduleRepository(db),
        purges=MongoPurgeRepository(db),
        tombstones=MongoTombstoneRepository(db),
        ownership=MongoOwnershipRepository(db),
        ended=MongoEndedPlans(db),
        eraser=MongoPlanDataEraser(db),
        timers=runtime.timers,
        exports=MongoExportRepository(db),
        export_parts=MongoExportPartRepository(db),
    )
    return RetentionServices.build(runtime.uow, stores, settings.policy(), render_pdf=render_pdf)


async def ensure_indexes(runtime: Runtime) -> None:
    await MongoOwnershipRepository(runtime.db).ensure_indexes()
    await MongoEndedPlans(runtime.db).ensure_indexes()
    await MongoPlanDataEraser(runtime.db).ensure_indexes()
    await MongoExportRepository(runtime.db).ensure_indexes()
    await MongoExportPartRepository(runtime.db).ensure_indexes()
    await PurgeProbe(runtime.db, runtime.clock).ensure_indexes()


def service_spec(settings: RetentionSettings) -> ServiceSpec:
    """The retention service's part of the wiring, built with its own settings."""
    return ServiceSpec(
        title="Care plan: retention",
        description="The 730-day limit of every plan: deadlines, reminders, the export for the journal "
        "(FHIR R4 Bundle and PDF), and the purge saga.",
        build=lambda runtime: build_services(runtime, settings),
        routers=[router],
        consumers=consumers,
        timer_handlers=lambda _, services: services.timer_handlers(),
        ensure_indexes=ensure_indexes,
        probes=lambda runtime: [PurgeProbe(runtime.db, runtime.clock)],
    )


SPEC = service_spec(RetentionSettings.model_construct())
"""The declarations with the settings' defaults, for tools that read a service's routes and consumers
(the AsyncAPI document's `receive` operations); `create_app` builds its own from the real settings."""


def create_app(settings: RetentionSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or load_settings(RetentionSettings)
    return create_service_app(service_spec(settings), settings, clock)
