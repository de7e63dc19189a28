"""Events the retention service consumes, subscribed by their contracts' classes and topics."""

from __future__ import annotations

from services.retention.domain.export import ExportPartView, PlanExportedView
from services.retention.domain.model import PlanEndedView, PlanStartedView
from services.retention.domain.purge import PurgeReceiptView
from services.retention.service_layer.participant import PurgeRequestedView
from services.retention.service_layer.services import RetentionServices
from shared.contracts import forms, handover, messaging, notifications, plans, retention
from shared.contracts.export import EXPORTING_SERVICES, export_part_type
from shared.contracts.purge import PURGING_SERVICES, receipt_type
from shared.messaging.consumer import EventConsumer, Subscription
from shared.messaging.events import Topic
from shared.ownership import OwnershipProjector
from shared.runtime import Runtime

RECEIPT_TOPICS: dict[str, Topic] = {
    "plans": plans.PLANS_TOPIC,
    "messaging": messaging.MESSAGING_TOPIC,
    "forms": forms.FORMS_TOPIC,
    "notifications": notifications.NOTIFICATIONS_TOPIC,
    "retention": retention.RETENTION_TOPIC,
    "handover": handover.HANDOVER_TOPIC,
}
"""Where each purging service publishes its receipt (its own contract's topic)."""


def plan_event_subscriptions(services: RetentionServices) -> list[Subscription]:
    """The ownership copy first (same transaction), then the plan's schedule, then (at its end) its export."""
    return [
        *OwnershipProjector(services.stores.projected_ownership(), retention.TransferApplied).subscriptions(),
        Subscription(plans.PlanStarted.ce_type, PlanStartedView, services.schedules.on_plan_started),
        Subscription(plans.PlanEnded.ce_type, PlanEndedView, services.schedules.on_plan_ended),
        Subscription(plans.PlanEnded.ce_type, PlanEndedView, services.exports.on_plan_ended),
    ]


def receipt_subscriptions(services: RetentionServices) -> list[Subscription]:
    """Every participant's receipt, read with one tolerant reader."""
    return [
        Subscription(receipt_type(s), PurgeReceiptView, services.purges.on_receipt, allow_purged=True)
        for s in PURGING_SERVICES
    ]


def purge_request_subscriptions(services: RetentionServices) -> list[Subscription]:
    """Retention answers its own purge requests like every other participant."""
    return [
        Subscription(
            retention.PurgeRequested.ce_type,
            PurgeRequestedView,
            services.participant.on_purge_requested,
            allow_purged=True,
        )
    ]


def export_subscriptions(services: RetentionServices) -> list[Subscription]:
    """Every exporting service's part (one tolerant reader), and retention's own `plan_exported`, which
    a purge at the limit may be waiting for."""
    return [
        *(Subscription(export_part_type(s), ExportPartView, services.exports.on_part) for s in EXPORTING_SERVICES),
        Subscription(retention.PlanExported.ce_type, PlanExportedView, services.automatic_purge.on_plan_exported),
    ]


def export_topics() -> list[str]:
    """Where the parts come from (each service's own topic) and where `plan_exported` goes."""
    return sorted({RECEIPT_TOPICS[s].name for s in EXPORTING_SERVICES} | {retention.RETENTION_TOPIC.name})


def consumers(runtime: Runtime, services: RetentionServices) -> list[EventConsumer]:
    return [
        EventConsumer(
            "retention.plan-events",
            [plans.PLANS_TOPIC.name],
            plan_event_subscriptions(services),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "retention.purge-requests",
            [retention.RETENTION_TOPIC.name],
            purge_request_subscriptions(services),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "retention.purge-receipts",
            sorted({RECEIPT_TOPICS[s].name for s in PURGING_SERVICES}),
            receipt_subscriptions(services),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "retention.exports", export_topics(), export_subscriptions(services), runtime.uow, runtime.broker
        ),
    ]
