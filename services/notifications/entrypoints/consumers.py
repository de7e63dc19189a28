"""Events the notifications service consumes, named by their contract classes."""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel

from services.notifications.adapters.export import MongoPlanDeliveries
from services.notifications.adapters.purge import NotificationsPlanPurger
from services.notifications.domain.model import PlanRecipient
from services.notifications.service_layer import readers
from services.notifications.service_layer.export import NotificationsExport
from services.notifications.service_layer.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from shared.contracts import forms, handover, messaging, plans, retention
from shared.contracts import notifications as work
from shared.messaging.consumer import EventConsumer, Handler, Subscription
from shared.ownership import MongoOwnershipRepository, OwnershipProjector
from shared.purge import MongoTombstones, PurgeParticipant
from shared.runtime import Runtime


def consumers(runtime: Runtime, service: NotificationsService) -> list[EventConsumer]:
    return [
        ownership(runtime, service),
        plan_events(runtime, service),
        triggers(runtime, service),
        work_topic(runtime, service),
        purge(runtime),
    ]


def purge(runtime: Runtime) -> EventConsumer:
    """Retention's export and purge requests (one consumer, so a plan's export is answered before its
    purge): answer with the plan's part of the export; delete the plan's notification data, answer
    with a receipt. The group keeps its name from before it answered exports (a new one rereads the topic)."""
    participant = PurgeParticipant(
        "notifications", NotificationsPlanPurger(runtime.db), MongoTombstones(runtime.db), work.PurgeReceipt
    )
    return EventConsumer(
        "notifications.purge",
        [retention.RETENTION_TOPIC.name],
        [*export_subscriptions(runtime), *participant.subscriptions()],
        runtime.uow,
        runtime.broker,
    )


def export_subscriptions(runtime: Runtime) -> list[Subscription]:
    """Retention's export requests (a purged plan's are dropped: the default for a tombstoned key)."""
    export = NotificationsExport(MongoOwnershipRepository(runtime.db), MongoPlanDeliveries(runtime.db), runtime.audit)
    requested = retention.ExportRequested
    return [Subscription(requested.ce_type, requested, export.on_export_requested)]


def _outside_transaction(ce_type: str, model: type[BaseModel], handler: Handler) -> Subscription:
    """A handler with outside effects (providers, the work topic): idempotent itself, through the ledger."""
    return Subscription(ce_type, model, handler, transactional=False)


def ownership(runtime: Runtime, _: NotificationsService) -> EventConsumer:
    """The access rule's copy of plans' ownership, kept in transactions."""
    return EventConsumer(
        "notifications.plan-events",
        [plans.PLANS_TOPIC.name],
        OwnershipProjector(MongoOwnershipRepository(runtime.db), work.TransferApplied).subscriptions(),
        runtime.uow,
        runtime.broker,
    )


def plan_events(runtime: Runtime, service: NotificationsService) -> EventConsumer:
    """Notifications' own read model for the fan-out, and the patient's notice that the plan ended
    (outside transactions: the copy of preferences must see the saved plan; the notice calls providers)."""
    return EventConsumer(
        "notifications.plan-recipients",
        [plans.PLANS_TOPIC.name],
        [
            _outside_transaction(plans.PlanStarted.ce_type, PlanRecipient, service.read_model.on_plan_started),
            _outside_transaction(plans.PlanEnded.ce_type, readers.PlanRef, service.triggers.on_plan_ended),
        ],
        runtime.uow,
        runtime.broker,
    )


def triggers(runtime: Runtime, service: NotificationsService) -> EventConsumer:
    """Other services' events that notify patients and staff."""
    handlers = service.triggers
    return EventConsumer(
        "notifications.triggers",
        [
            messaging.MESSAGING_TOPIC.name,
            forms.FORMS_TOPIC.name,
            retention.RETENTION_TOPIC.name,
            handover.HANDOVER_TOPIC.name,
        ],
        [
            _outside_transaction(messaging.MessageSent.ce_type, readers.MessageSentView, handlers.on_message_sent),
            _outside_transaction(
                messaging.ReplyEscalated.ce_type, readers.ReplyEscalatedView, handlers.on_reply_escalated
            ),
            _outside_transaction(
                forms.PatientNotificationDue.ce_type,
                readers.PatientNotificationDueView,
                handlers.on_patient_notification_due,
            ),
            _outside_transaction(
                retention.PurgeReminderDue.ce_type, readers.PurgeReminderView, handlers.on_purge_reminder
            ),
            _outside_transaction(
                readers.HANDOVER_COMPLETED, readers.HandoverCompletedView, handlers.on_handover_completed
            ),
        ],
        runtime.uow,
        runtime.broker,
    )


def work_topic(runtime: Runtime, service: NotificationsService) -> EventConsumer:
    """The service's own work, over many workers: announcement fan-out and batches, deliveries due."""
    announcements = service.announcements
    settings = cast(NotificationsSettings, runtime.settings)  # create_app builds the runtime from them
    return EventConsumer(
        "notifications.work",
        [work.WORK_TOPIC.name],
        [
            _outside_transaction(
                work.AnnouncementRequested.ce_type, work.AnnouncementRequested, announcements.on_announcement_requested
            ),
            _outside_transaction(
                work.AnnouncementBatch.ce_type, work.AnnouncementBatch, announcements.on_announcement_batch
            ),
            _outside_transaction(
                work.AnnouncementStalled.ce_type, work.AnnouncementStalled, announcements.on_announcement_stalled
            ),
            _outside_transaction(work.DeliveriesDue.ce_type, work.DeliveriesDue, service.deliverer.on_deliveries_due),
        ],
        runtime.uow,
        runtime.broker,
        workers=settings.fanout_workers,
    )
