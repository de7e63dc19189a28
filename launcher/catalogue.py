"""The six services, their app factories, and the topics they publish to."""

from __future__ import annotations

import importlib

from shared.messaging.events import TOPICS, Topic

SERVICES: tuple[str, ...] = ("plans", "messaging", "forms", "notifications", "retention", "handover")


def app_factory(service: str) -> str:
    """The uvicorn factory path of a service."""
    return f"services.{service}.bootstrap:create_app"


def all_topics() -> list[Topic]:
    """Every topic any service publishes to (importing the services registers their events)."""
    for service in SERVICES:
        importlib.import_module(f"services.{service}.bootstrap")
    return sorted(TOPICS.values(), key=lambda t: t.name)
