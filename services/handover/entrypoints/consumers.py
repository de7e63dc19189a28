"""Events the handover service consumes: retention's purge requests (it answers for the plan data it
holds: today only the platform's own records of the plan)."""

from __future__ import annotations

from services.handover.service_layer.service import HandoverService
from shared.contracts import handover
from shared.contracts.retention import RETENTION_TOPIC
from shared.messaging.consumer import EventConsumer
from shared.purge import PurgeParticipant
from shared.purge.store import mongo_participant_parts
from shared.runtime import Runtime

HANDOVER_COLLECTIONS: dict[str, str] = {}
"""Handover's own collections holding plan data (none until its domain lands; the platform's own
records, such as the inbox and timers, are always purged)."""


def consumers(runtime: Runtime, service: HandoverService) -> list[EventConsumer]:
    purger, tombstones = mongo_participant_parts(runtime.db, HANDOVER_COLLECTIONS)
    participant = PurgeParticipant("handover", purger, tombstones, handover.PurgeReceipt)
    return [
        EventConsumer(
            "handover.purge", [RETENTION_TOPIC.name], participant.subscriptions(), runtime.uow, runtime.broker
        )
    ]
