"""Events the messaging service consumes: the plans it may carry conversations for."""

from __future__ import annotations

from services.messaging.domain.model import PlanEndedView, PlanStartedView, ResponsibleChangedView
from services.messaging.service_layer.handlers import MessagingService
from shared.messaging.consumer import EventConsumer, Subscription
from shared.runtime import Runtime

PLANS_TOPIC = "careplan.plans.v1"


def consumers(runtime: Runtime, service: MessagingService) -> list[EventConsumer]:
    return [
        EventConsumer(
            "messaging.plan-events",
            [PLANS_TOPIC],
            [
                Subscription("se.careplan.plan.started.v1", PlanStartedView, service.on_plan_started),
                Subscription("se.careplan.plan.ended.v1", PlanEndedView, service.on_plan_ended),
                Subscription(
                    "se.careplan.plan.responsible_changed.v1", ResponsibleChangedView, service.on_responsible_changed
                ),
            ],
            runtime.uow,
            runtime.broker,
        )
    ]
