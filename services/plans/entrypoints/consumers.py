"""Events the plans service consumes: other services' events that feed the unit lists' flags, and
the retention service's word that a plan has reached its 730-day limit, its export requests and its
purge requests (one consumer, so a plan's export is answered before its purge)."""

from __future__ import annotations

from services.plans.domain import flags
from services.plans.service_layer.export import PlanExport
from services.plans.service_layer.handover import PlanTransfers
from services.plans.service_layer.lifecycle import PlanLifecycle
from services.plans.service_layer.read_model import FlagProjector
from services.plans.service_layer.service import PlansService
from shared.contracts import handover, plans, retention
from shared.messaging.consumer import EventConsumer, Handler, Subscription
from shared.purge import PurgeParticipant
from shared.purge.store import mongo_participant_parts
from shared.runtime import Runtime


def flag_subscriptions(projector: FlagProjector) -> list[Subscription]:
    readers: list[tuple[type[flags.Reader], Handler]] = [
        (flags.MessageSent, projector.message_sent),
        (flags.ConversationRead, projector.conversation_read),
        (flags.ReplyDueSoon, projector.reply_due_soon),
        (flags.ReplyOverdue, projector.reply_overdue),
        (flags.SlaMet, projector.sla_met),
        (flags.ConversationDeleted, projector.conversation_deleted),
        (flags.FormsFlagRaised, projector.forms_flag_raised),
        (flags.FormsFlagHandled, projector.forms_flag_handled),
        (flags.FormSubmitted, projector.form_submitted),
    ]
    return [Subscription(reader.ce_type, reader, handler) for reader, handler in readers]


PLAN_COLLECTIONS = {"plans": "_id", "active_plan_keys": "plan_id"}
"""Where the plans service keeps a plan's data, and the field naming the plan (for the purge)."""


def retention_subscriptions(lifecycle: PlanLifecycle) -> list[Subscription]:
    limit = retention.RetentionLimitReached
    return [Subscription(limit.ce_type, limit, lifecycle.end_at_retention_limit)]


def export_subscriptions(export: PlanExport) -> list[Subscription]:
    """Retention's export requests (a purged plan's are dropped: the default for a tombstoned key)."""
    requested = retention.ExportRequested
    return [Subscription(requested.ce_type, requested, export.on_export_requested)]


def purge_participant(runtime: Runtime) -> PurgeParticipant:
    purger, tombstones = mongo_participant_parts(runtime.db, PLAN_COLLECTIONS)
    return PurgeParticipant("plans", purger, tombstones, plans.PurgeReceipt)


def handover_subscriptions(transfers: PlanTransfers) -> list[Subscription]:
    """A handover's decisions: ownership moves here, and every other service's copy follows."""
    return [
        Subscription(handover.HandoverAccepted.ce_type, handover.HandoverAccepted, transfers.on_accepted),
        Subscription(handover.HandoverCompleted.ce_type, handover.HandoverCompleted, transfers.on_completed),
        Subscription(handover.HandoverCompensated.ce_type, handover.HandoverCompensated, transfers.on_compensated),
    ]


def consumers(runtime: Runtime, service: PlansService) -> list[EventConsumer]:
    return [
        EventConsumer(
            "plans.flags", flags.FEEDING_TOPICS, flag_subscriptions(service.flags), runtime.uow, runtime.broker
        ),
        EventConsumer(
            "plans.retention",
            [retention.RETENTION_TOPIC.name],
            [
                *retention_subscriptions(service.lifecycle),
                *export_subscriptions(PlanExport(service.lifecycle.access, runtime.audit)),
                *purge_participant(runtime).subscriptions(),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "plans.handover",
            [handover.HANDOVER_TOPIC.name],
            handover_subscriptions(service.transfers),
            runtime.uow,
            runtime.broker,
        ),
    ]
