"""The six services, their app factories, the topics they publish to, and who publishes each event."""

from __future__ import annotations

import importlib

from shared.messaging.events import TOPICS, Event, Topic

SERVICES: tuple[str, ...] = ("plans", "messaging", "forms", "notifications", "retention", "handover")


def app_factory(service: str) -> str:
    """The uvicorn factory path of a service."""
    return f"services.{service}.bootstrap:create_app"


def all_topics() -> list[Topic]:
    """Every topic any service publishes to (importing the services registers their events)."""
    for service in SERVICES:
        importlib.import_module(f"services.{service}.bootstrap")
    return sorted(TOPICS.values(), key=lambda t: t.name)


def publishing_service(event_type: type[Event]) -> str:
    """The service that publishes an event: the contract module declaring it (`shared/contracts/<service>.py`),
    or the service package it is declared in."""
    parts = event_type.__module__.split(".")
    if parts[:2] == ["shared", "contracts"] and len(parts) == 3 and parts[2] in SERVICES:
        return parts[2]
    if parts[0] == "services" and len(parts) > 1 and parts[1] in SERVICES:
        return parts[1]
    raise LookupError(f"{event_type.ce_type}: declare it in shared/contracts/<service>.py (found in {'.'.join(parts)})")
