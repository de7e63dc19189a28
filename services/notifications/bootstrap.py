"""Wiring of the notifications service: `uvicorn --factory services.notifications.bootstrap:create_app`.

The service runs on the shared platform (probes, metrics, outbox relay, durable timers); its
domain arrives with its own issue.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.settings import NotificationsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: notifications",
    description="E-mail, SMS and 1177-inbox notifications, preferences and announcement fan-out.",
    build=lambda _: None,
)


def create_app(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(NotificationsSettings), clock)
