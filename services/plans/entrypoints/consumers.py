"""Events the plans service consumes: other services' events that feed the unit lists' flags."""

from __future__ import annotations

from services.plans.domain import flags as contract
from services.plans.service_layer.read_model import FlagProjector
from shared.messaging.consumer import EventConsumer, Subscription
from shared.runtime import Runtime


def consumers(runtime: Runtime, projector: FlagProjector) -> list[EventConsumer]:
    messaging = "se.careplan.messaging."
    forms = "se.careplan.forms."
    return [
        EventConsumer(
            "plans.flags",
            [contract.MESSAGING_TOPIC, contract.FORMS_TOPIC],
            [
                Subscription(f"{messaging}message_sent.v1", contract.MessageSent, projector.message_sent),
                Subscription(
                    f"{messaging}conversation_read.v1", contract.ConversationRead, projector.conversation_read
                ),
                Subscription(f"{messaging}reply_due_soon.v1", contract.ReplyDeadline, projector.reply_due_soon),
                Subscription(f"{messaging}reply_overdue.v1", contract.ReplyDeadline, projector.reply_overdue),
                Subscription(f"{messaging}sla_met.v1", contract.SlaMet, projector.sla_met),
                Subscription(
                    f"{messaging}conversation_deleted.v1", contract.ConversationDeleted, projector.conversation_deleted
                ),
                Subscription(f"{forms}flag_raised.v1", contract.FormsFlagRaised, projector.forms_flag_raised),
                Subscription(f"{forms}flag_handled.v1", contract.FormsFlagHandled, projector.forms_flag_handled),
                Subscription(f"{forms}form_submitted.v1", contract.FormSubmitted, projector.form_submitted),
            ],
            runtime.uow,
            runtime.broker,
        )
    ]
