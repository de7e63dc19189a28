"""The consumers subscribe by the contracts' names (never literals), with the ownership copy first in
its own transactional consumer of the plans topic."""

from __future__ import annotations

from launcher.consumer_groups import service_consumer_groups
from shared.contracts import forms, handover, messaging, plans, retention
from shared.contracts import notifications as work
from shared.ownership import OwnershipProjector
from tests.fakes import InMemoryOwnershipRepository


def groups() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {g.name: (g.topics, g.ce_types) for g in service_consumer_groups("notifications")}


def test_the_plans_topic_feeds_the_ownership_copy_and_the_read_model() -> None:
    ownership = tuple(s.ce_type for s in OwnershipProjector(InMemoryOwnershipRepository()).subscriptions())
    assert groups()["notifications.plan-events"] == ((plans.PLANS_TOPIC.name,), ownership)
    assert groups()["notifications.plan-recipients"] == (
        (plans.PLANS_TOPIC.name,),
        (plans.PlanStarted.ce_type, plans.PlanEnded.ce_type),
    )


def test_triggers_and_work_are_named_by_their_contracts() -> None:
    topics, ce_types = groups()["notifications.triggers"]
    assert topics == (
        messaging.MESSAGING_TOPIC.name,
        forms.FORMS_TOPIC.name,
        retention.RETENTION_TOPIC.name,
        handover.HANDOVER_TOPIC.name,
    )
    assert set(ce_types) >= {
        messaging.MessageSent.ce_type,
        messaging.ReplyEscalated.ce_type,
        forms.PatientNotificationDue.ce_type,
        retention.PurgeReminderDue.ce_type,
    }
    assert groups()["notifications.work"] == (
        (work.WORK_TOPIC.name,),
        (
            work.AnnouncementRequested.ce_type,
            work.AnnouncementBatch.ce_type,
            work.AnnouncementStalled.ce_type,
            work.DeliveriesDue.ce_type,
        ),
    )
