"""Delivery state of a trigger, for staff of the unit it concerns: a plan event's deliveries follow the
plan's current holder, an announcement's follow the announcement; anything else is a missing trigger
(issue 13: another unit's trigger answered 200 with an empty list). Reads are audited per patient."""

from __future__ import annotations

import pytest

from services.notifications.domain.announcements import AnnouncementCommand
from services.notifications.domain.model import Preferences
from services.notifications.service_layer.readers import MessageSentView
from shared.contracts import notifications as events
from shared.kernel.errors import NotFound
from shared.kernel.roles import Role
from tests.unit.notifications.conftest import OTHER_PNR, PNR, UNIT_A, UNIT_B, patient, staff
from tests.unit.notifications.fakes import Harness, received


async def message_trigger(h: Harness) -> str:
    await h.service.patients.set_preferences(patient(), Preferences(email_enabled=True, email="anna@example.se"))
    await h.plan("p1", UNIT_A, PNR)
    view = MessageSentView(plan_id="p1", message_id="m1", sender_kind="staff", notify_inbox="direct")
    await h.service.triggers.on_message_sent(view, received("msg-1"), None)
    h.uow.audit_log.records.clear()
    return "msg-1"


async def test_the_holding_units_staff_see_a_triggers_deliveries_and_the_read_is_audited(h: Harness) -> None:
    trigger = await message_trigger(h)
    shown = await h.service.staff.deliveries(trigger, staff(unit=UNIT_A))
    assert sorted((d.channel, d.state) for d in shown) == [("email", "sent"), ("inbox", "sent")]
    assert h.uow.audit_log.actions() == [("read", "notification.deliveries", trigger)]
    assert h.uow.audit_log.records[0].patient_ref == PNR


async def test_another_units_trigger_is_a_missing_one(h: Harness) -> None:
    trigger = await message_trigger(h)
    with pytest.raises(NotFound) as foreign:
        await h.service.staff.deliveries(trigger, staff(unit=UNIT_B))
    with pytest.raises(NotFound) as missing:
        await h.service.staff.deliveries("no-such-trigger", staff(unit=UNIT_B))
    assert str(foreign.value) == str(missing.value) == "no such trigger"
    assert h.uow.audit_log.records == []


async def test_after_a_handover_the_deliveries_follow_the_plan(h: Harness) -> None:
    trigger = await message_trigger(h)
    moved = await h.ownership.get("p1")
    await h.ownership.save(moved.model_copy(update={"unit_id": UNIT_B, "version": 2}))  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await h.service.staff.deliveries(trigger, staff(unit=UNIT_A))
    assert len(await h.service.staff.deliveries(trigger, staff(unit=UNIT_B))) == 2


async def announced(h: Harness, scope: str, by: object) -> str:
    command = AnnouncementCommand(scope=scope, subject="Info", text="Text", channels=["inbox"])  # type: ignore[arg-type]
    announcement = await h.service.announcements.create(command, by)  # type: ignore[arg-type]
    await h.service.announcements.on_announcement_requested(
        events.AnnouncementRequested(announcement_id=announcement.id), None, None
    )
    for batch in h.work.of(events.AnnouncementBatch):
        await h.service.announcements.on_announcement_batch(batch, None, None)
    return f"announcement:{announcement.id}"


async def test_a_units_announcement_is_its_own_staffs_to_follow(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    trigger = await announced(h, "unit", staff(Role.PATIENT_ADMIN, unit=UNIT_A))
    assert [d.plan_id for d in await h.service.staff.deliveries(trigger, staff(unit=UNIT_A))] == ["p1"]
    with pytest.raises(NotFound, match="no such trigger"):
        await h.service.staff.deliveries(trigger, staff(unit=UNIT_B))


async def test_a_region_announcement_shows_each_unit_what_reached_its_patients(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    await h.plan("p2", UNIT_B, OTHER_PNR)
    trigger = await announced(h, "region", staff(Role.PUBLISHER, unit=UNIT_A))
    assert [d.plan_id for d in await h.service.staff.deliveries(trigger, staff(unit=UNIT_B))] == ["p2"]
    assert [r.patient_ref for r in h.uow.audit_log.records if r.resource == "notification.deliveries"] == [OTHER_PNR]
