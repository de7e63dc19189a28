"""Events of other services that notify patients and staff, against fakes: who gets what, on which
channels, in which words (never health information), and once only."""

from __future__ import annotations

import pytest

from services.notifications.domain.model import Preferences, StaffEntry
from services.notifications.service_layer.readers import (
    HandoverCompletedView,
    MessageSentView,
    PatientNotificationDueView,
    PlanRef,
    PurgeReminderView,
    ReplyEscalatedView,
)
from shared.contracts import notifications as events
from shared.kernel.roles import Role
from shared.messaging.consumer import DependencyNotReady
from shared.ownership import OwnershipState
from tests.unit.notifications.conftest import PNR, THERAPIST, UNIT_A, UNIT_B, patient, staff, unit_announcement
from tests.unit.notifications.fakes import Harness, received

EVERY_CHANNEL = Preferences(email_enabled=True, email="anna@example.se", sms_enabled=True, phone="+46701234567")


def staff_message(notify: str = "direct") -> MessageSentView:
    return MessageSentView(plan_id="p1", message_id="m1", sender_kind="staff", notify_inbox=notify)  # type: ignore[arg-type]


async def with_plan(h: Harness, **plan: object) -> None:
    await h.service.patients.set_preferences(patient(), EVERY_CHANNEL)
    await h.plan("p1", UNIT_A, PNR, **plan)  # type: ignore[arg-type]


async def register(h: Harness, hsa_id: str, email: str, *roles: str, unit: str = UNIT_A) -> None:
    admin = staff(Role.PERMISSION_ADMIN, unit=unit, hsa_id="SE2321000016-PA")
    await h.service.staff.register(hsa_id, StaffEntry(email=email, roles=list(roles)), admin)


async def test_a_staff_message_to_notify_directly_reaches_inbox_email_and_sms_once(h: Harness) -> None:
    await with_plan(h)
    for _ in range(2):  # a redelivered event
        await h.service.triggers.on_message_sent(staff_message(), received("e1"), None)
    assert sorted(d.channel for d in h.deliveries("e1")) == ["email", "inbox", "sms"]
    assert {d.state for d in h.deliveries("e1")} == {"sent"}
    assert [(s.address, s.subject) for s in h.email.sent] == [("anna@example.se", "Nytt meddelande i Min vårdplan")]
    assert [s.address for s in h.sms.sent] == ["+46701234567"]
    inbox = await h.service.patients.inbox(patient())
    assert [i.subject for i in inbox] == ["Nytt meddelande i Min vårdplan"]
    delivered = h.uow.events_of(events.NotificationDelivered)
    assert len(delivered) == 3 and all(e.plan_id == "p1" and PNR not in e.delivery_id for e in delivered)


async def test_a_staff_message_without_notify_directly_notifies_no_one(h: Harness) -> None:
    await with_plan(h)
    await h.service.triggers.on_message_sent(staff_message("none"), received("e1"), None)
    assert h.deliveries() == [] and h.email.sent == []


async def test_a_protected_identity_gets_the_generic_text(h: Harness) -> None:
    await with_plan(h, protected=True)
    await h.service.triggers.on_message_sent(staff_message(), received("e1"), None)
    assert {s.subject for s in h.email.sent} == {"Nytt i e-tjänsterna"}
    assert "Min vårdplan" not in h.email.sent[0].body and "mottagning" not in h.sms.sent[0].body


async def test_a_patients_message_is_emailed_to_the_responsible_therapist_never_texted(h: Harness) -> None:
    await register(h, THERAPIST, "karin@region.example.se", "therapist")
    await with_plan(h, responsible=THERAPIST)
    await h.service.triggers.on_message_sent(
        MessageSentView(plan_id="p1", message_id="m1", sender_kind="patient"), received("e1"), None
    )
    assert [(s.address, s.subject) for s in h.email.sent] == [
        ("karin@region.example.se", "Nytt meddelande från en patient")
    ]
    assert h.sms.sent == [] and [d.recipient_kind for d in h.deliveries()] == ["staff"]


async def test_an_escalation_reaches_the_patient_admins_of_the_unit_holding_the_plan(h: Harness) -> None:
    await register(h, "SE2321000016-PADM", "admin.a@region.example.se", "patient_admin")
    await register(h, "SE2321000016-T002", "therapist.a@region.example.se", "therapist")
    await register(h, "SE2321000016-PADM", "admin.b@region.example.se", "patient_admin", unit=UNIT_B)
    await with_plan(h)
    await h.service.triggers.on_reply_escalated(ReplyEscalatedView(plan_id="p1", message_id="m1"), received(), None)
    assert [(s.address, s.subject) for s in h.email.sent] == [("admin.a@region.example.se", "Obesvarat meddelande")]


@pytest.mark.parametrize(
    ("reason", "subject"),
    [
        ("form_module", "Ett formulär att fylla i"),
        ("form_due", "Ett formulär att fylla i"),
        ("reminder", "Påminnelse: ett formulär att fylla i"),
    ],
)
async def test_a_form_to_fill_in_is_notified(h: Harness, reason: str, subject: str) -> None:
    await with_plan(h)
    due = PatientNotificationDueView(plan_id="p1", notification_id="n1", reason=reason)  # type: ignore[arg-type]
    await h.service.triggers.on_patient_notification_due(due, received(), None)
    assert [s.subject for s in h.email.sent] == [subject]
    assert {d.trigger_kind for d in h.deliveries()} == {reason}


async def test_an_ended_plan_gets_no_more_form_or_battery_notices(h: Harness) -> None:
    await with_plan(h, state=OwnershipState.ENDED)
    due = PatientNotificationDueView(plan_id="p1", notification_id="n1", reason="form_due")
    await h.service.triggers.on_patient_notification_due(due, received(), None)
    assert h.deliveries() == [] and h.email.sent == []


async def test_a_purge_reminder_reaches_the_patient_and_the_responsible_therapist(h: Harness) -> None:
    await register(h, THERAPIST, "karin@region.example.se", "therapist")
    await with_plan(h, responsible=THERAPIST)
    await h.service.triggers.on_purge_reminder(PurgeReminderView(plan_id="p1", days_left=60), received(), None)
    by_address = {s.address: s for s in h.email.sent}
    assert by_address["anna@example.se"].subject == "Din Min vårdplan avslutas snart"
    assert "60 dagar" in by_address["anna@example.se"].body
    assert "730 dagar" in by_address["karin@region.example.se"].body


async def test_a_completed_handover_tells_the_patient_and_moves_the_plan_for_announcements(h: Harness) -> None:
    await with_plan(h)
    await h.service.triggers.on_handover_completed(
        HandoverCompletedView(plan_id="p1", to_unit_id=UNIT_B), received(), None
    )
    assert [s.subject for s in h.email.sent] == ["Din vårdplan har flyttats"]
    assert [r.plan_id async for r in h.recipients.fanout(unit_announcement(UNIT_B))] == ["p1"]
    assert [r.plan_id async for r in h.recipients.fanout(unit_announcement(UNIT_A))] == []


async def test_the_patient_is_told_the_plan_ended_without_health_information(h: Harness) -> None:
    await with_plan(h, program=("min-vardplan-brostcancer", "1.0"))
    await h.service.triggers.on_plan_ended(PlanRef(plan_id="p1"), received("end-1"), None)
    assert {s.subject for s in h.email.sent + h.sms.sent} == {"Din vårdplan har avslutats"}
    assert all("cancer" not in s.body and "brost" not in s.body for s in h.email.sent + h.sms.sent)
    inbox = await h.service.patients.inbox(patient())
    assert [i.subject for i in inbox] == ["Din vårdplan har avslutats"]
    assert [r async for r in h.recipients.fanout(unit_announcement(UNIT_A))] == []  # no more announcements


async def test_a_trigger_for_a_plan_not_seen_yet_is_redelivered_not_dropped(h: Harness) -> None:
    with pytest.raises(DependencyNotReady):
        await h.service.triggers.on_message_sent(staff_message(), received(), None)
    with pytest.raises(DependencyNotReady):
        await h.service.triggers.on_plan_ended(PlanRef(plan_id="p1"), received(), None)
    assert h.deliveries() == []
