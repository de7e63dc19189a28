"""Events the retention service consumes (names from the published AsyncAPI contract)."""

from __future__ import annotations

from services.retention.domain.model import PlanEndedView, PlanStartedView
from services.retention.service_layer.handlers import RetentionService
from shared.messaging.consumer import EventConsumer, Subscription
from shared.runtime import Runtime

PLANS_TOPIC = "careplan.plans.v1"
PLAN_STARTED = "se.careplan.plan.started.v1"
PLAN_ENDED = "se.careplan.plan.ended.v1"


def consumers(runtime: Runtime, service: RetentionService) -> list[EventConsumer]:
    return [
        EventConsumer(
            "retention.plan-events",
            [PLANS_TOPIC],
            [
                Subscription(PLAN_STARTED, PlanStartedView, service.on_plan_started),
                Subscription(PLAN_ENDED, PlanEndedView, service.on_plan_ended),
            ],
            runtime.uow,
            runtime.broker,
        )
    ]
