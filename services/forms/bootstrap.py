"""Wiring of the forms service: `uvicorn --factory services.forms.bootstrap:create_app`.

The service runs on the shared platform (probes, metrics, outbox relay, durable timers); its
domain arrives with its own issue.
"""

from __future__ import annotations

from fastapi import FastAPI

import services.forms.domain.events  # noqa: F401 - registers the topic
from services.forms.settings import FormsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import load_settings

SPEC = ServiceSpec(
    title="Care plan: forms",
    description="Questionnaires, scoring, results over time, measurement batteries, activity plans and flags.",
    build=lambda _: None,
)


def create_app(settings: FormsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(FormsSettings), clock)
