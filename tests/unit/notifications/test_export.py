"""The notifications service's part of a plan's export for the journal: what was sent about the plan
and when, on which channel and how it went, never the addresses; an empty part for a plan nothing was
sent about; nothing for a request naming other services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from launcher.consumer_groups import service_consumer_groups
from services.notifications.domain.model import Delivery, Preferences
from services.notifications.service_layer.export import NotificationsExport
from services.notifications.service_layer.readers import MessageSentView
from shared.contracts import notifications as events
from shared.contracts.export import NotificationsPart
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested, PurgeRequested
from shared.ownership import OwnershipState
from tests.unit.notifications.conftest import PNR, UNIT_A, patient, staff
from tests.unit.notifications.fakes import Harness, received

EMAIL, PHONE = "anna.andersson@example.se", "+46701234567"


class FakePlanDeliveries:
    """The ledger's deliveries about one plan, over the in-memory ledger."""

    def __init__(self, h: Harness) -> None:
        self.h = h

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Delivery]:
        return [d.model_copy() for d in self.h.ledger.deliveries.values() if d.plan_id == plan_id]


def request(plan_id: str = "p1", services: tuple[str, ...] = ("notifications", "handover")) -> ExportRequested:
    return ExportRequested(
        plan_id=plan_id, export_id="export-3", requested_at=datetime(2027, 1, 1, tzinfo=UTC), services=list(services)
    )


async def export(h: Harness, asked: ExportRequested) -> list[events.ExportPart]:
    handler = NotificationsExport(h.ownership, FakePlanDeliveries(h), h.uow.audit_log)
    before = len(h.uow.events_of(events.ExportPart))
    await h.uow.run(lambda tx: handler.on_export_requested(asked, None, tx))
    return h.uow.events_of(events.ExportPart)[before:]


async def notified_and_ended_plan(h: Harness) -> None:
    every_channel = Preferences(email_enabled=True, email=EMAIL, sms_enabled=True, phone=PHONE)
    await h.service.patients.set_preferences(patient(), every_channel)
    await h.plan("p1", UNIT_A, PNR)
    message = MessageSentView(plan_id="p1", message_id="m1", sender_kind="staff", notify_inbox="direct")
    await h.service.triggers.on_message_sent(message, received("e1"), None)
    owned = await h.ownership.get("p1")
    assert owned is not None
    await h.ownership.save(owned.model_copy(update={"state": OwnershipState.ENDED}))


async def test_what_was_sent_is_exported_by_kind_channel_state_and_time(h: Harness) -> None:
    await notified_and_ended_plan(h)

    [answer] = await export(h, request())

    assert (answer.plan_id, answer.export_id, answer.service) == ("p1", "export-3", "notifications")
    sent = NotificationsPart.model_validate(answer.content).notifications
    assert sorted(n.channel for n in sent) == ["email", "inbox", "sms"]
    assert {(n.trigger_kind, n.state, n.recipient_kind) for n in sent} == {("new_message", "sent", "patient")}
    assert all(n.sent_at == h.clock.now() and n.created_at == h.clock.now() for n in sent)


async def test_the_part_holds_no_address_nor_the_patients_number(h: Harness) -> None:
    await notified_and_ended_plan(h)

    [answer] = await export(h, request())

    content = json.dumps(answer.content)
    assert EMAIL not in content and PHONE not in content and "0701234567" not in content
    assert PNR not in content
    assert len(NotificationsPart.model_validate(answer.content).notifications) == 3


async def test_the_part_summarises_the_plans_audit_trail_and_the_export_is_audited(h: Harness) -> None:
    await notified_and_ended_plan(h)
    await h.service.staff.deliveries("e1", staff())

    [answer] = await export(h, request())

    audit = NotificationsPart.model_validate(answer.content).audit
    assert audit.counts == {"read notification.deliveries": 1}  # the patient's own preferences are not the plan's
    exported = h.uow.audit_log.records[-1]
    assert (exported.action, exported.resource_id, exported.actor_kind) == ("export", "p1", "system")
    assert (exported.patient_ref, exported.unit_id) == (PNR, UNIT_A)


async def test_a_plan_nothing_was_sent_about_gets_an_empty_part(h: Harness) -> None:
    await h.plan("p2", UNIT_A, PNR)
    [answer] = await export(h, request("p2"))
    assert NotificationsPart.model_validate(answer.content) == NotificationsPart()


async def test_a_request_not_naming_notifications_publishes_nothing(h: Harness) -> None:
    await notified_and_ended_plan(h)
    assert await export(h, request(services=("plans", "forms"))) == []


def test_export_requests_are_read_by_the_consumer_of_purge_requests() -> None:
    """One consumer group reads both in the topic's order: a plan's export is answered before its purge."""
    [group] = [g for g in service_consumer_groups("notifications") if PurgeRequested.ce_type in g.ce_types]
    assert group.topics == (RETENTION_TOPIC.name,) and ExportRequested.ce_type in group.ce_types
