"""Every service holding plan data follows a handover through the shared projector in its consumer
of the plans topic, and answers with its own `transfer_applied` on its own topic: the saga can only
complete if each of them does."""

from __future__ import annotations

import importlib
from typing import Any, cast

import pytest

from launcher.consumer_groups import _Inert, _Runtime, settings_class
from shared.contracts import plans
from shared.contracts.transfer import TRANSFER_PARTICIPANTS, transfer_applied_type
from shared.messaging.consumer import EventConsumer
from shared.messaging.events import EVENT_TYPES
from shared.ownership import OwnershipProjector
from shared.runtime import Runtime


def consumers_of(service: str) -> list[EventConsumer]:
    spec = importlib.import_module(f"services.{service}.bootstrap").SPEC
    runtime = _Runtime(settings_class(service).model_construct())
    return cast(list[EventConsumer], spec.consumers(cast(Runtime, runtime), _Inert()))


@pytest.mark.parametrize("service", TRANSFER_PARTICIPANTS)
def test_the_service_answers_transfers_with_its_own_confirmation(service: str) -> None:
    handlers: list[Any] = [
        s.handler
        for consumer in consumers_of(service)
        if consumer.topics == [plans.PLANS_TOPIC.name]
        for s in consumer._subscriptions.get(plans.OwnershipTransferring.ce_type, [])
    ]
    projectors = [h.__self__ for h in handlers if isinstance(getattr(h, "__self__", None), OwnershipProjector)]
    assert len(projectors) == 1, f"{service} must follow transfers with one shared projector"
    confirm = projectors[0].confirm
    assert confirm is EVENT_TYPES[transfer_applied_type(service)]
    assert confirm is not None and confirm.__module__ == f"shared.contracts.{service}"


def test_the_plans_service_moves_the_plan_on_the_handovers_decisions() -> None:
    [handover_consumer] = [c for c in consumers_of("plans") if c.name == "plans.handover"]
    assert set(handover_consumer.ce_types) == {
        "se.careplan.handover.accepted.v1",
        "se.careplan.handover.completed.v1",
        "se.careplan.handover.compensated.v1",
    }
