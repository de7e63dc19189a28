"""Announcements: who may make which, the fan-out into batches on the work topic, batch delivery,
and progress for the unit that made it (another unit's is a missing one)."""

from __future__ import annotations

import pytest

from services.notifications.domain.announcements import AnnouncementCommand
from services.notifications.domain.model import FanoutRecipient, Preferences
from services.notifications.service_layer.announcements import BATCH_SIZE
from shared.contracts import notifications as events
from shared.kernel.errors import Forbidden, Invalid, NotFound
from shared.kernel.roles import Role
from shared.ownership import OwnershipState
from tests.unit.notifications.conftest import UNIT_A, UNIT_B, new_pnr, patient, staff
from tests.unit.notifications.fakes import Harness

PATIENT_ADMIN_A = staff(Role.PATIENT_ADMIN, unit=UNIT_A)
PUBLISHER = staff(Role.PUBLISHER, unit=UNIT_B)


def command(scope: str = "unit", **fields: object) -> AnnouncementCommand:
    return AnnouncementCommand.model_validate(
        {"scope": scope, "subject": "Sommarstängt", "text": "Stängt vecka ${veckor}.", "variables": {"veckor": "29-31"}}
        | {"channels": ["inbox", "email"]}
        | fields
    )


async def fan_out(h: Harness, announcement_id: str) -> list[events.AnnouncementBatch]:
    await h.service.announcements.on_announcement_requested(
        events.AnnouncementRequested(announcement_id=announcement_id), None, None
    )
    return h.work.of(events.AnnouncementBatch)


async def test_a_unit_announcement_is_a_patient_admins_and_is_requested_in_one_unit_of_work(h: Harness) -> None:
    announcement = await h.service.announcements.create(command(), PATIENT_ADMIN_A)
    assert (announcement.unit_id, announcement.created_by) == (UNIT_A, PATIENT_ADMIN_A.hsa_id)
    assert [e.announcement_id for e in h.uow.events_of(events.AnnouncementRequested)] == [announcement.id]
    progress = await h.service.announcements.progress(announcement.id, staff(unit=UNIT_A))
    assert progress.announcement == announcement and progress.deliveries == {}


@pytest.mark.parametrize(
    ("scope", "by"),
    [("unit", staff(unit=UNIT_A)), ("unit", PUBLISHER), ("region", PATIENT_ADMIN_A), ("program_version", staff())],
)
async def test_who_may_announce_to_whom(h: Harness, scope: str, by: object) -> None:
    with pytest.raises(Forbidden):
        await h.service.announcements.create(command(scope, program_id="p", program_version="1"), by)  # type: ignore[arg-type]
    assert h.uow.published == []


async def test_a_program_announcement_names_the_program_version(h: Harness) -> None:
    with pytest.raises(Invalid) as refused:
        await h.service.announcements.create(command("program_version", program_id="p"), PUBLISHER)
    assert refused.value.field == "program_version"
    region = await h.service.announcements.create(command("region"), PUBLISHER)
    assert region.unit_id is None


async def test_another_units_announcement_is_a_missing_one(h: Harness) -> None:
    announcement = await h.service.announcements.create(command(), PATIENT_ADMIN_A)
    for missing in (announcement.id, "no-such"):
        with pytest.raises(NotFound, match="no such announcement"):
            await h.service.announcements.progress(missing, staff(unit=UNIT_B))
    region = await h.service.announcements.create(command("region"), PUBLISHER)
    assert (await h.service.announcements.progress(region.id, staff(unit=UNIT_A))).announcement.scope == "region"


async def test_the_fan_out_streams_the_scopes_active_patients_into_batches(h: Harness) -> None:
    for i in range(BATCH_SIZE * 2 + 3):
        await h.plan(f"a{i}", UNIT_A, f"pnr-{i}")  # identities are not validated here
    await h.plan("elsewhere", UNIT_B, new_pnr())
    await h.plan("ended", UNIT_A, new_pnr())
    await h.recipients.end("ended")
    announcement = await h.service.announcements.create(command(), PATIENT_ADMIN_A)
    batches = await fan_out(h, announcement.id)
    assert [len(b.recipients) for b in batches] == [BATCH_SIZE, BATCH_SIZE, 3]
    assert [b.batch_id for b in batches] == [f"{announcement.id}:{n}" for n in range(3)]
    assert {r.unit_id for b in batches for r in b.recipients} == {UNIT_A}
    progress = await h.service.announcements.progress(announcement.id, PATIENT_ADMIN_A)
    assert (progress.announcement.batches, progress.announcement.recipients) == (3, BATCH_SIZE * 2 + 3)
    assert len(await fan_out(h, announcement.id)) == 3  # redone after an interruption: the same batches


async def test_program_and_region_scopes(h: Harness) -> None:
    await h.plan("sleep", UNIT_A, new_pnr(), program=("somn", "2.0"))
    await h.plan("sleep-old", UNIT_B, new_pnr(), program=("somn", "1.0"))
    await h.plan("other", UNIT_B, new_pnr())
    program = await h.service.announcements.create(
        command("program_version", program_id="somn", program_version="2.0"), PUBLISHER
    )
    assert [r.plan_id for b in await fan_out(h, program.id) for r in b.recipients] == ["sleep"]
    region = await h.service.announcements.create(command("region"), PUBLISHER)
    await fan_out(h, region.id)
    assert (await h.service.announcements.progress(region.id, PUBLISHER)).announcement.recipients == 3


async def test_a_batch_is_delivered_on_the_announcements_channels_with_its_variables(h: Harness) -> None:
    first, second = new_pnr(), new_pnr()
    await h.service.patients.set_preferences(
        patient(first), Preferences(email_enabled=True, email="a@example.se", sms_enabled=True, phone="+46701234567")
    )
    await h.plan("p1", UNIT_A, first)
    await h.plan("p2", UNIT_A, second)
    announcement = await h.service.announcements.create(command(), PATIENT_ADMIN_A)
    [batch] = await fan_out(h, announcement.id)
    for _ in range(2):  # a redelivered batch
        await h.service.announcements.on_announcement_batch(batch, None, None)
    assert [(s.address, s.subject, s.body) for s in h.email.sent] == [
        ("a@example.se", "Sommarstängt", "Stängt vecka 29-31.")
    ]
    assert h.sms.sent == []  # not one of the announcement's channels
    assert [i.body for i in await h.service.patients.inbox(patient(second))] == ["Stängt vecka 29-31."]
    progress = await h.service.announcements.progress(announcement.id, PATIENT_ADMIN_A)
    assert progress.deliveries == {"sent": 3}
    by_state = await h.service.announcements.progress(announcement.id, PATIENT_ADMIN_A, by_state=True)
    assert by_state.deliveries == {"sent": 3}


async def test_a_batch_of_the_earlier_form_looks_its_active_recipients_up(h: Harness) -> None:
    await h.plan("p1", UNIT_A, new_pnr())
    await h.plan("p2", UNIT_A, new_pnr(), state=OwnershipState.ENDED)
    await h.recipients.end("p2")
    announcement = await h.service.announcements.create(command(), PATIENT_ADMIN_A)
    batch = events.AnnouncementBatch(batch_id="b", announcement_id=announcement.id, plan_ids=["p1", "p2"])
    await h.service.announcements.on_announcement_batch(batch, None, None)
    assert [d.plan_id for d in h.deliveries()] == ["p1"]


async def test_a_batch_or_request_of_a_missing_announcement_does_nothing(h: Harness) -> None:
    recipient = FanoutRecipient(plan_id="p", unit_id=UNIT_A, personnummer=new_pnr(), addresses={"inbox": None})
    batch = events.AnnouncementBatch(batch_id="b", announcement_id="gone", recipients=[recipient])
    await h.service.announcements.on_announcement_batch(batch, None, None)
    assert await fan_out(h, "gone") == []
    assert h.deliveries() == []
