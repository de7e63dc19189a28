"""Events the forms service consumes: plans and their form modules; patients' messages (as activity)."""

from __future__ import annotations

from services.forms.domain.model import (
    ModuleStateChangedView,
    PatientMessageView,
    PlanEndedView,
    PlanStartedView,
)
from services.forms.service_layer.handlers import FormsService
from shared.messaging.consumer import EventConsumer, Subscription
from shared.runtime import Runtime


def consumers(runtime: Runtime, service: FormsService) -> list[EventConsumer]:
    return [
        EventConsumer(
            "forms.plan-events",
            ["careplan.plans.v1"],
            [
                Subscription("se.careplan.plan.started.v1", PlanStartedView, service.on_plan_started),
                Subscription("se.careplan.plan.ended.v1", PlanEndedView, service.on_plan_ended),
                Subscription(
                    "se.careplan.plan.module_state_changed.v1", ModuleStateChangedView, service.on_module_state_changed
                ),
            ],
            runtime.uow,
            runtime.broker,
        ),
        EventConsumer(
            "forms.messaging-events",
            ["careplan.messaging.v1"],
            [
                Subscription("se.careplan.messaging.message_sent.v1", PatientMessageView, service.on_patient_message),
            ],
            runtime.uow,
            runtime.broker,
        ),
    ]
