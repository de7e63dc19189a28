"""Unit banners: made and removed by the unit's patient admins, shown to the patients whose plans the
unit holds now, and announced to their inboxes if asked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.domain.announcements import BANNER_SUBJECT, BannerCommand
from shared.contracts import notifications as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.roles import Role
from shared.ownership import OwnershipState
from tests.unit.notifications.conftest import OTHER_PNR, PNR, UNIT_A, UNIT_B, patient, staff
from tests.unit.notifications.fakes import Harness

ADMIN_A = staff(Role.PATIENT_ADMIN, unit=UNIT_A)
CLOSED = "Mottagningen har stängt 24 december till 6 januari."


async def test_a_patient_admin_makes_a_banner_that_is_also_announced_to_the_inboxes(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    banner = await h.service.banners.create(BannerCommand(text=CLOSED), ADMIN_A)
    assert (banner.unit_id, banner.created_by) == (UNIT_A, ADMIN_A.hsa_id)
    [requested] = h.uow.events_of(events.AnnouncementRequested)
    assert banner.announcement_id == requested.announcement_id
    [batch] = await fan_out_and_deliver(h, requested)
    assert [r.plan_id for r in batch.recipients] == ["p1"]
    assert [(i.subject, i.body) for i in await h.service.patients.inbox(patient())] == [(BANNER_SUBJECT, CLOSED)]
    assert h.email.sent == []  # a banner's announcement goes to the inbox only


async def fan_out_and_deliver(h: Harness, requested: events.AnnouncementRequested) -> list[events.AnnouncementBatch]:
    await h.service.announcements.on_announcement_requested(requested, None, None)
    batches = h.work.of(events.AnnouncementBatch)
    for batch in batches:
        await h.service.announcements.on_announcement_batch(batch, None, None)
    return batches


async def test_a_banner_without_notification_announces_nothing(h: Harness) -> None:
    banner = await h.service.banners.create(BannerCommand(text=CLOSED, notify=False), ADMIN_A)
    assert banner.announcement_id is None and h.uow.published == []
    assert [b.id for b in await h.service.banners.of_unit(staff(unit=UNIT_A))] == [banner.id]


async def test_only_a_patient_admin_makes_or_removes_banners(h: Harness) -> None:
    with pytest.raises(Forbidden):
        await h.service.banners.create(BannerCommand(text=CLOSED), staff(unit=UNIT_A))
    banner = await h.service.banners.create(BannerCommand(text=CLOSED, notify=False), ADMIN_A)
    with pytest.raises(Forbidden):
        await h.service.banners.delete(banner.id, staff(unit=UNIT_A))
    with pytest.raises(NotFound, match="no such banner"):
        await h.service.banners.delete(banner.id, staff(Role.PATIENT_ADMIN, unit=UNIT_B))
    assert len(await h.service.banners.of_unit(ADMIN_A)) == 1
    await h.service.banners.delete(banner.id, ADMIN_A)
    assert await h.service.banners.of_unit(ADMIN_A) == []


async def test_patients_see_the_banners_of_the_units_holding_their_plans_now(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    await h.plan("p2", UNIT_B, OTHER_PNR, state=OwnershipState.ENDED)
    banner = await h.service.banners.create(BannerCommand(text=CLOSED, notify=False), ADMIN_A)
    await h.service.banners.create(BannerCommand(text="B", notify=False), staff(Role.PATIENT_ADMIN, unit=UNIT_B))
    assert [b.id for b in await h.service.banners.for_patient(patient())] == [banner.id]
    assert await h.service.banners.for_patient(patient(OTHER_PNR)) == []  # the plan at B has ended
    moved = await h.ownership.get("p1")
    await h.ownership.save(moved.model_copy(update={"unit_id": UNIT_B, "version": 2}))  # type: ignore[union-attr]
    assert [b.text for b in await h.service.banners.for_patient(patient())] == ["B"]


async def test_an_expired_banner_is_shown_no_more(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    until = h.clock.now() + timedelta(days=1)
    await h.service.banners.create(BannerCommand(text=CLOSED, valid_until=until, notify=False), ADMIN_A)
    assert len(await h.service.banners.for_patient(patient())) == 1
    h.clock.advance(timedelta(days=2))
    assert await h.service.banners.for_patient(patient()) == []
    assert await h.service.banners.of_unit(ADMIN_A) == []
