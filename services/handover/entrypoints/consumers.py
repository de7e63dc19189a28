"""Events the handover service consumes (none yet)."""

from __future__ import annotations

from services.handover.service_layer.service import HandoverService
from shared.messaging.consumer import EventConsumer
from shared.runtime import Runtime


def consumers(runtime: Runtime, service: HandoverService) -> list[EventConsumer]:
    return []
