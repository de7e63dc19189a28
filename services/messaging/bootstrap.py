"""Wiring of the messaging service: `uvicorn --factory services.messaging.bootstrap:create_app`.

The service runs on the shared platform (probes, metrics, outbox relay, durable timers); its
domain arrives with its own issue.
"""

from __future__ import annotations

from fastapi import FastAPI

import services.messaging.domain.events  # noqa: F401 - registers the topic
from services.messaging.settings import MessagingSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: messaging",
    description="Conversations between patients and staff, drafts, unread counts, and the 3-working-day reply SLA.",
    build=lambda _: None,
)


def create_app(settings: MessagingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(MessagingSettings), clock)
