"""Events the handover service consumes: the plans topic (its ownership copy, the units' program
versions and the plans service's answer to an accepted handover), every participant's transfer
confirmation, and retention's export and purge requests (one consumer, so a plan's export is
answered before its purge)."""

from __future__ import annotations

from services.handover.adapters.repository import MongoHandoverRepository
from services.handover.service_layer.export import HandoverExport
from services.handover.service_layer.saga import TransferAppliedView
from services.handover.service_layer.service import HandoverService
from shared.contracts import forms, handover, messaging, notifications, plans, retention
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested
from shared.contracts.transfer import TRANSFER_PARTICIPANTS, transfer_applied_type
from shared.messaging.consumer import EventConsumer, Subscription
from shared.messaging.events import Topic
from shared.ownership import OwnershipProjector
from shared.purge import PurgeParticipant
from shared.purge.store import mongo_participant_parts
from shared.runtime import Runtime

HANDOVER_COLLECTIONS: dict[str, str] = {"handovers": "plan_id", "open_handovers": "_id"}
"""Handover's own collections holding plan data, and the field naming the plan (for the purge; the
platform's own records, such as the ownership copy, the inbox and timers, are always purged)."""

CONFIRMATION_TOPICS: dict[str, Topic] = {
    "messaging": messaging.MESSAGING_TOPIC,
    "forms": forms.FORMS_TOPIC,
    "notifications": notifications.NOTIFICATIONS_TOPIC,
    "retention": retention.RETENTION_TOPIC,
    "handover": handover.HANDOVER_TOPIC,
}
"""Where each participant publishes its `transfer_applied` (its own contract's topic)."""


def plan_subscriptions(service: HandoverService) -> list[Subscription]:
    """The ownership copy first (same transaction, in order), then the saga's view of the plans topic."""
    saga = service.saga
    return [
        *OwnershipProjector(service.stores.ownership, handover.TransferApplied).subscriptions(),
        Subscription(plans.OwnershipTransferring.ce_type, plans.OwnershipTransferring, saga.on_transferring),
        Subscription(plans.OwnershipTransferRefused.ce_type, plans.OwnershipTransferRefused, saga.on_refused),
        Subscription(plans.UnitProgramsDeclared.ce_type, plans.UnitProgramsDeclared, saga.on_unit_programs_declared),
        Subscription(plans.PlanEnded.ce_type, plans.PlanEnded, service.requests.on_plan_ended),
    ]


def confirmation_subscriptions(service: HandoverService) -> list[Subscription]:
    return [
        Subscription(transfer_applied_type(s), TransferAppliedView, service.saga.on_confirmation)
        for s in TRANSFER_PARTICIPANTS
    ]


def consumers(runtime: Runtime, service: HandoverService) -> list[EventConsumer]:
    purger, tombstones = mongo_participant_parts(runtime.db, HANDOVER_COLLECTIONS)
    participant = PurgeParticipant("handover", purger, tombstones, handover.PurgeReceipt)
    export = HandoverExport(MongoHandoverRepository(runtime.db), runtime.audit)
    return [
        EventConsumer(
            "handover.plan-events", [plans.PLANS_TOPIC.name], plan_subscriptions(service), runtime.uow, runtime.broker
        ),
        EventConsumer(
            "handover.confirmations",
            sorted({CONFIRMATION_TOPICS[s].name for s in TRANSFER_PARTICIPANTS}),
            confirmation_subscriptions(service),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "handover.purge",  # the group's name from before it answered exports too (a new name rereads the topic)
            [RETENTION_TOPIC.name],
            [
                Subscription(ExportRequested.ce_type, ExportRequested, export.on_export_requested),
                *participant.subscriptions(),
            ],
            runtime.uow,
            runtime.broker,
        ),
    ]
