"""A patient's own preferences and 1177 inbox: what they see, the copy the fan-out reads, and the audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.domain.model import InboxItem, Preferences
from shared.kernel.errors import NotFound
from tests.unit.notifications.conftest import OTHER_PNR, PNR, UNIT_A, patient, unit_announcement
from tests.unit.notifications.fakes import Harness

CHOSEN = Preferences(email_enabled=True, email="anna@example.se", sms_enabled=True, phone="070-123 45 67")


async def test_a_patient_without_a_choice_has_the_inbox_only_and_the_read_is_audited(h: Harness) -> None:
    preferences = await h.service.patients.preferences(patient())
    assert preferences == Preferences() and preferences.channels() == ["inbox"]
    assert h.uow.audit_log.actions() == [("read", "notification.preferences", "preferences")]
    assert h.uow.audit_log.records[0].patient_ref == PNR and h.uow.audit_log.records[0].actor_kind == "patient"


async def test_a_choice_is_kept_numbers_normalised_and_copied_onto_the_patients_plans(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    saved = await h.service.patients.set_preferences(patient(), CHOSEN)
    assert saved.phone == "+46701234567"
    assert await h.service.patients.preferences(patient()) == saved
    fanned_out = [r async for r in h.recipients.fanout(unit_announcement())]
    assert [r.addresses for r in fanned_out] == [{"inbox": None, "email": "anna@example.se", "sms": "+46701234567"}]
    assert ("update", "notification.preferences", "preferences") in h.uow.audit_log.actions()


async def test_a_plan_started_after_the_choice_gets_the_copy_too(h: Harness) -> None:
    await h.service.patients.set_preferences(patient(), CHOSEN)
    await h.plan("p2", UNIT_A, PNR)
    fanned_out = [r async for r in h.recipients.fanout(unit_announcement())]
    assert fanned_out[0].addresses["email"] == "anna@example.se"


async def test_the_inbox_is_the_patients_own_newest_first_and_its_read_is_audited(h: Harness) -> None:
    now = h.clock.now()
    await h.inbox.add(
        [
            InboxItem(id="old", personnummer=PNR, subject="A", body="a", created_at=now - timedelta(days=1)),
            InboxItem(id="new", personnummer=PNR, subject="B", body="b", created_at=now),
            InboxItem(id="theirs", personnummer=OTHER_PNR, subject="C", body="c", created_at=now),
        ]
    )
    assert [i.id for i in await h.service.patients.inbox(patient())] == ["new", "old"]
    assert h.uow.audit_log.actions() == [("read", "notification.inbox", "inbox")]


async def test_marking_read_is_for_the_patients_own_items_only(h: Harness) -> None:
    await h.inbox.add([InboxItem(id="i1", personnummer=PNR, subject="A", body="a", created_at=h.clock.now())])
    with pytest.raises(NotFound, match="no such inbox item"):
        await h.service.patients.mark_read(patient(OTHER_PNR), "i1")
    assert (await h.service.patients.inbox(patient()))[0].read_at is None
    await h.service.patients.mark_read(patient(), "i1")
    assert (await h.service.patients.inbox(patient()))[0].read_at == h.clock.now()
    with pytest.raises(NotFound):
        await h.service.patients.mark_read(patient(), "missing")
    assert ("update", "notification.inbox_item", "i1") in h.uow.audit_log.actions()
