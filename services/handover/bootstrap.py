"""Wiring of the handover service: `uvicorn --factory services.handover.bootstrap:create_app`.

The service runs on the shared platform (probes, metrics, outbox relay, durable timers) in the
shape every service has (domain, service layer, adapters, entrypoints); its domain arrives with
its own issue.
"""

from __future__ import annotations

from fastapi import FastAPI

import shared.contracts.handover  # noqa: F401 - registers the topic
from services.handover.entrypoints.consumers import consumers
from services.handover.entrypoints.routes import router
from services.handover.service_layer.service import HandoverService
from services.handover.settings import HandoverSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> HandoverService:
    return HandoverService(runtime.uow)


SPEC = ServiceSpec(
    title="Care plan: handover",
    description="Handing a plan over to another unit running the same program version.",
    build=build_service,
    routers=[router],
    consumers=consumers,
)


def create_app(settings: HandoverSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(HandoverSettings), clock)
