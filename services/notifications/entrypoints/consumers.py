"""Events the notifications service consumes."""

from __future__ import annotations

from services.notifications.domain.model import PlanRecipient
from services.notifications.service_layer import handlers as h
from shared.contracts import notifications as events
from shared.messaging.consumer import EventConsumer, Subscription
from shared.runtime import Runtime

PLANS_TOPIC, MESSAGING_TOPIC, FORMS_TOPIC = "careplan.plans.v1", "careplan.messaging.v1", "careplan.forms.v1"
RETENTION_TOPIC, HANDOVER_TOPIC = "careplan.retention.v1", "careplan.handover.v1"


def consumers(runtime: Runtime, service: h.NotificationsService) -> list[EventConsumer]:
    plan = "se.careplan.plan."
    return [
        EventConsumer(
            "notifications.plan-events",
            [PLANS_TOPIC],
            [
                Subscription(f"{plan}started.v1", PlanRecipient, service.on_plan_started, transactional=False),
                Subscription(f"{plan}ended.v1", h.PlanRef, service.on_plan_ended),
                Subscription(f"{plan}responsible_changed.v1", h.ResponsibleChangedView, service.on_responsible_changed),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "notifications.triggers",
            [MESSAGING_TOPIC, FORMS_TOPIC, RETENTION_TOPIC, HANDOVER_TOPIC],
            [
                Subscription(
                    "se.careplan.messaging.message_sent.v1",
                    h.MessageSentView,
                    service.on_message_sent,
                    transactional=False,
                ),
                Subscription(
                    "se.careplan.messaging.reply_escalated.v1",
                    h.ReplyEscalatedView,
                    service.on_reply_escalated,
                    transactional=False,
                ),
                Subscription(
                    "se.careplan.forms.patient_notification_due.v1",
                    h.PatientNotificationDue,
                    service.on_patient_notification_due,
                    transactional=False,
                ),
                Subscription(
                    "se.careplan.retention.purge_reminder_due.v1",
                    h.PurgeReminderView,
                    service.on_purge_reminder,
                    transactional=False,
                ),
                Subscription(
                    "se.careplan.handover.completed.v1",
                    h.HandoverCompletedView,
                    service.on_handover_completed,
                    transactional=False,
                ),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "notifications.work",
            [events.WORK_TOPIC.name],
            [
                Subscription(
                    events.AnnouncementRequested.ce_type,
                    events.AnnouncementRequested,
                    service.on_announcement_requested,
                    transactional=False,
                ),
                Subscription(
                    events.AnnouncementBatch.ce_type,
                    events.AnnouncementBatch,
                    service.on_announcement_batch,
                    transactional=False,
                ),
                Subscription(
                    events.DeliveriesDue.ce_type, events.DeliveriesDue, service.on_deliveries_due, transactional=False
                ),
            ],
            runtime.uow,
            runtime.broker,
            workers=runtime.settings.fanout_workers,
        ),  # type: ignore[attr-defined]
    ]
