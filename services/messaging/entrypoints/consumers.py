"""Events the messaging service consumes: plans' ownership (who may see a plan) and their end, and
retention's export and purge requests (one consumer, so a plan's export is answered before its purge)."""

from __future__ import annotations

from services.messaging.adapters.export import MongoPlanArchive
from services.messaging.service_layer.export import MessagingExport
from services.messaging.service_layer.service import MessagingService
from shared.contracts import messaging, plans
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested
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
                *OwnershipProjector(
                    service.ownership, messaging.TransferApplied
                ).subscriptions(),  # first: the same transaction, in order
                Subscription(plans.PlanEnded.ce_type, plans.PlanEnded, service.sla.on_plan_ended),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "messaging.purge",  # the group's name from before it answered exports too (a new name rereads the topic)
            [RETENTION_TOPIC.name],
            [*export_subscriptions(runtime, service), *purge_participant(runtime).subscriptions()],
            runtime.uow,
            runtime.broker,
        ),
    ]


MESSAGING_COLLECTIONS = {"conversations": "plan_id", "messages": "plan_id"}
"""Where messaging keeps a plan's data, and the field naming the plan (for the purge)."""


def purge_participant(runtime: Runtime) -> PurgeParticipant:
    purger, tombstones = mongo_participant_parts(runtime.db, MESSAGING_COLLECTIONS)
    return PurgeParticipant("messaging", purger, tombstones, messaging.PurgeReceipt)


def export_subscriptions(runtime: Runtime, service: MessagingService) -> list[Subscription]:
    """Retention's export requests (a purged plan's are dropped: the default for a tombstoned key)."""
    export = MessagingExport(service.ownership, MongoPlanArchive(runtime.db), runtime.audit)
    return [Subscription(ExportRequested.ce_type, ExportRequested, export.on_export_requested)]
