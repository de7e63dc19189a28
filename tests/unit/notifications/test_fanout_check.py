"""Nothing stuck without a sign: an announcement whose batches were lost (they go straight to the work
topic, not through the outbox) is found by its durable check timer, and only its missing batches are
published again; every patient gets one delivery per channel, and the check stops once it is complete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.domain.fanout_check import check_fanout
from services.notifications.service_layer.announcements import BATCH_SIZE, CHECK_TIMER
from shared.clock import FixedClock
from shared.contracts import notifications as events
from tests.unit.notifications.conftest import UNIT_A, staff, unit_announcement
from tests.unit.notifications.fakes import Harness
from tests.unit.notifications.test_announcements import PATIENT_ADMIN_A, command, fan_out

RECIPIENTS = BATCH_SIZE * 2 + 7  # three batches


def test_a_fan_out_is_complete_moving_or_stalled_by_its_stored_state() -> None:
    announcement = unit_announcement()
    assert check_fanout(announcement).outcome == "stalled"  # the split never finished
    assert check_fanout(announcement).missing_batches is None  # so all of it is redone
    announcement.batches = 3
    assert check_fanout(announcement).missing_batches == [0, 1, 2]  # nothing done since it was made
    announcement.batches_done = [1]
    assert check_fanout(announcement).outcome == "progressing"
    announcement.checked_progress = 1
    stalled = check_fanout(announcement)
    assert (stalled.outcome, stalled.missing_batches) == ("stalled", [0, 2])
    announcement.batches_done = [1, 0, 2]
    assert check_fanout(announcement).outcome == "complete"


async def fire_checks(h: Harness, clock: FixedClock) -> int:
    clock.advance(timedelta(minutes=5))
    handlers = {CHECK_TIMER: h.service.announcements.on_check_timer}
    return await h.timers.fire_due(clock.now(), h.uow, handlers)


async def deliver(h: Harness, batches: list[events.AnnouncementBatch]) -> None:
    for batch in batches:
        await h.service.announcements.on_announcement_batch(batch, None, None)


async def test_lost_batches_are_published_again_and_each_patient_gets_one_notice(h: Harness, clock: FixedClock) -> None:
    for i in range(RECIPIENTS):
        await h.plan(f"p{i:04d}", UNIT_A, f"pnr-{i:04d}")
    announcement = await h.service.announcements.create(command(channels=["inbox"]), PATIENT_ADMIN_A)
    assert [t.kind for t in h.timers.pending()] == [CHECK_TIMER]
    first, lost, also_lost = await fan_out(h, announcement.id)
    await deliver(h, [first])  # the broker lost the other two
    h.work.events.clear()

    assert await fire_checks(h, clock) == 1  # progress since it was made: one batch; nothing republished
    assert h.uow.events_of(events.AnnouncementStalled) == []
    assert await fire_checks(h, clock) == 1  # no progress since: stalled
    [stalled] = h.uow.events_of(events.AnnouncementStalled)
    assert stalled.missing_batches == [1, 2]

    await h.service.announcements.on_announcement_stalled(stalled, None, None)
    republished = h.work.of(events.AnnouncementBatch)
    assert [b.batch_id for b in republished] == [lost.batch_id, also_lost.batch_id]  # only the missing ones
    assert [b.recipients for b in republished] == [lost.recipients, also_lost.recipients]
    await deliver(h, republished)
    await deliver(h, republished)  # a redelivery changes nothing

    progress = await h.service.announcements.progress(announcement.id, staff(unit=UNIT_A))
    assert progress.deliveries == {"sent": RECIPIENTS}  # everyone once
    assert progress.announcement.resumed == 1 and sorted(progress.announcement.batches_done) == [0, 1, 2]
    assert await fire_checks(h, clock) == 1  # complete: the last check
    assert h.timers.pending(CHECK_TIMER) == []


async def test_a_split_that_never_ran_is_redone_whole(h: Harness, clock: FixedClock) -> None:
    for i in range(3):
        await h.plan(f"q{i}", UNIT_A, f"pnr-q{i}")
    announcement = await h.service.announcements.create(command(channels=["inbox"]), PATIENT_ADMIN_A)
    # the request never reached a worker: no split, no batches
    assert await fire_checks(h, clock) == 1
    [stalled] = h.uow.events_of(events.AnnouncementStalled)
    assert stalled.missing_batches is None
    await h.service.announcements.on_announcement_stalled(stalled, None, None)
    await deliver(h, h.work.of(events.AnnouncementBatch))
    progress = await h.service.announcements.progress(announcement.id, staff(unit=UNIT_A))
    assert (progress.announcement.recipients, progress.deliveries) == (3, {"sent": 3})


@pytest.mark.parametrize("joined", [1, BATCH_SIZE])
async def test_recipients_that_changed_since_the_split_get_every_batch_again(
    h: Harness, clock: FixedClock, joined: int
) -> None:
    for i in range(BATCH_SIZE + 1):
        await h.plan(f"r{i:04d}", UNIT_A, f"pnr-r{i:04d}")
    announcement = await h.service.announcements.create(command(channels=["inbox"]), PATIENT_ADMIN_A)
    first, _ = await fan_out(h, announcement.id)
    await deliver(h, [first])
    h.work.events.clear()
    for i in range(joined):  # new plans shift the batch boundaries
        await h.plan(f"a{i:04d}", UNIT_A, f"pnr-a{i:04d}")
    await fire_checks(h, clock)
    await fire_checks(h, clock)
    [stalled] = h.uow.events_of(events.AnnouncementStalled)
    await h.service.announcements.on_announcement_stalled(stalled, None, None)
    await deliver(h, h.work.of(events.AnnouncementBatch))
    progress = await h.service.announcements.progress(announcement.id, staff(unit=UNIT_A))
    assert progress.deliveries == {"sent": BATCH_SIZE + 1 + joined}  # the first batch's patients once only
