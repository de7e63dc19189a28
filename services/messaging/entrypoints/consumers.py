"""Events the messaging service consumes: plans' ownership (who may see a plan) and their end, and
retention's purge requests."""

from __future__ import annotations

from services.messaging.service_layer.service import MessagingService
from shared.contracts import messaging, plans
from shared.contracts.retention import RETENTION_TOPIC
from shared.messaging.consumer import EventConsumer, Subscription
from shared.ownership import OwnershipProjector
from shared.purge import PurgeParticipant
from shared.purge.store import mongo_participant_parts
from shared.runtime import Runtime


def consumers(runtime: Runtime, service: MessagingService) -> list[EventConsumer]:
    return [
        EventConsumer(
            "messaging.plan-events",
            [plans.PLANS_TOPIC.name],
            [
                *OwnershipProjector(service.ownership).subscriptions(),  # first: the same transaction, in order
                Subscription(plans.PlanEnded.ce_type, plans.PlanEnded, service.sla.on_plan_ended),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "messaging.purge",
            [RETENTION_TOPIC.name],
            purge_participant(runtime).subscriptions(),
            runtime.uow,
            runtime.broker,
        ),
    ]


MESSAGING_COLLECTIONS = {"conversations": "plan_id", "messages": "plan_id"}
"""Where messaging keeps a plan's data, and the field naming the plan (for the purge)."""


def purge_participant(runtime: Runtime) -> PurgeParticipant:
    purger, tombstones = mongo_participant_parts(runtime.db, MESSAGING_COLLECTIONS)
    return PurgeParticipant("messaging", purger, tombstones, messaging.PurgeReceipt)
