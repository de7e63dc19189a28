"""Events the forms service consumes: plans (their ownership first, then forms' own state) and
patients' messages (as activity), and retention's export and purge requests (one consumer, so a
plan's export is answered before its purge)."""

from __future__ import annotations

from services.forms.adapters.export import MongoPlanResponses
from services.forms.adapters.purge import FormsPlanPurger
from services.forms.domain.model import (
    ModuleStateChangedView,
    PatientMessageView,
    PlanEndedView,
    PlanStartedView,
)
from services.forms.service_layer.export import FormsExport
from services.forms.service_layer.service import FormsService
from shared.contracts import forms, messaging, plans
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested
from shared.messaging.consumer import EventConsumer, Subscription
from shared.ownership import MongoOwnershipRepository, OwnershipProjector
from shared.purge import MongoTombstones, PurgeParticipant
from shared.runtime import Runtime


def plan_subscriptions(projector: OwnershipProjector, service: FormsService) -> list[Subscription]:
    """The ownership projector's subscriptions first: forms' handlers then see the plan's ownership
    as of the same event, in the same transaction."""
    handlers = service.plan_events
    return [
        *projector.subscriptions(),
        Subscription(plans.PlanStarted.ce_type, PlanStartedView, handlers.on_plan_started),
        Subscription(plans.PlanEnded.ce_type, PlanEndedView, handlers.on_plan_ended),
        Subscription(plans.ModuleStateChanged.ce_type, ModuleStateChangedView, handlers.on_module_state_changed),
    ]


def messaging_subscriptions(service: FormsService) -> list[Subscription]:
    return [Subscription(messaging.MessageSent.ce_type, PatientMessageView, service.plan_events.on_patient_message)]


def consumers(runtime: Runtime, service: FormsService) -> list[EventConsumer]:
    projector = OwnershipProjector(MongoOwnershipRepository(runtime.db), forms.TransferApplied)
    return [
        EventConsumer(
            "forms.plan-events",
            [plans.PLANS_TOPIC.name],
            plan_subscriptions(projector, service),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "forms.messaging-events",
            [messaging.MESSAGING_TOPIC.name],
            messaging_subscriptions(service),
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "forms.purge",  # the group's name from before it answered exports too (a new name rereads the topic)
            [RETENTION_TOPIC.name],
            [*export_subscriptions(runtime, service), *purge_participant(runtime).subscriptions()],
            runtime.uow,
            runtime.broker,
        ),
    ]


def purge_participant(runtime: Runtime) -> PurgeParticipant:
    return PurgeParticipant("forms", FormsPlanPurger(runtime.db), MongoTombstones(runtime.db), forms.PurgeReceipt)


def export_subscriptions(runtime: Runtime, service: FormsService) -> list[Subscription]:
    """Retention's export requests (a purged plan's are dropped: the default for a tombstoned key)."""
    export = FormsExport(service.stores, MongoPlanResponses(runtime.db), runtime.audit)
    return [Subscription(ExportRequested.ce_type, ExportRequested, export.on_export_requested)]
