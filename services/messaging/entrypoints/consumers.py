"""Events the messaging service consumes: plans' ownership (who may see a plan) and their end."""

from __future__ import annotations

from services.messaging.service_layer.service import MessagingService
from shared.contracts import plans
from shared.messaging.consumer import EventConsumer, Subscription
from shared.ownership import OwnershipProjector
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
        )
    ]
