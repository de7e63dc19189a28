"""The consumers subscribe by the publishers' contracts, and their readers read what the publishers send."""

from __future__ import annotations

from datetime import UTC, datetime

from services.plans.entrypoints.consumers import flag_subscriptions, retention_subscriptions
from shared.contracts import forms, messaging, retention
from shared.messaging.events import Event
from tests.unit.plans.conftest import World

AT = datetime(2026, 3, 2, tzinfo=UTC)
ids = {"plan_id": "p1", "unit_id": "u1"}
talk = ids | {"conversation_id": "c1"}
PUBLISHED: list[Event] = [
    messaging.MessageSent(**talk, message_id="m1", sender_kind="patient", sent_at=AT, notify_inbox="none"),
    messaging.ConversationRead(**talk, reader_kind="staff", read_at=AT),
    messaging.ReplyDueSoon(**talk, message_id="m1", deadline=AT),
    messaging.ReplyOverdue(**talk, message_id="m1", deadline=AT),
    messaging.SlaMet(**talk, message_ids=["m1"], replied_at=AT, seconds_to_reply=1.0, breached=False),
    messaging.ConversationDeleted(**talk, deleted_at=AT),
    forms.FlagRaised(**ids, flag_id="f1", kind="result", raised_at=AT),
    forms.FlagHandled(**ids, flag_id="f1", handled_by="SE2321000016-T001"),
    forms.FormSubmitted(**ids, form_id="f", form_version=1, response_id="r", submitted_at=AT),
]


def test_every_flag_event_is_subscribed_by_its_contract_type_and_read_from_its_payload(world: World) -> None:
    subscriptions = {s.ce_type: s for s in flag_subscriptions(world.service.flags)}
    assert set(subscriptions) == {type(e).ce_type for e in PUBLISHED}
    for event in PUBLISHED:
        payload = subscriptions[event.ce_type].payload_model.model_validate(event.model_dump(mode="json"))
        assert payload.model_dump()["plan_id"] == "p1"


def test_the_retention_limit_is_read_with_the_retention_contract(world: World) -> None:
    [subscription] = retention_subscriptions(world.service.lifecycle)
    assert subscription.ce_type == retention.RetentionLimitReached.ce_type == "se.careplan.retention.limit_reached.v1"
    assert subscription.payload_model is retention.RetentionLimitReached
