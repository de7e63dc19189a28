"""Announcements and their fan-out: recipients streamed into batches on the work topic, each batch
delivered by whichever worker takes it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from services.notifications.adapters import metrics
from services.notifications.domain.announcements import (
    AnnouncementCommand,
    AnnouncementProgress,
    announcement_trigger,
    new_announcement,
    visible_to,
)
from services.notifications.domain.fanout_check import MAX_CHECKS, check_fanout
from services.notifications.domain.model import Announcement, FanoutRecipient
from services.notifications.service_layer.notifier import Notifier
from services.notifications.service_layer.ports import Stores, WorkQueue
from shared.contracts import notifications as events
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import workflow_span
from shared.storage.timers import Timer, TimerScheduler
from shared.storage.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)
BATCH_SIZE = 500
CHECK_TIMER = "notifications.announcement_check"
"""Checks a fan-out every `check_after` until it is complete (see `domain.fanout_check`)."""
ANNOUNCEMENT_WORKFLOW = "announcement"
"""The fan-out is one trace: the request, the split into batches, each batch and its provider calls."""


class AnnouncementService:
    def __init__(
        self,
        uow: UnitOfWork,
        stores: Stores,
        notifier: Notifier,
        work: WorkQueue,
        timers: TimerScheduler,
        check_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.uow = uow
        self.stores = stores
        self.notifier = notifier
        self.work = work
        self.timers = timers
        self.check_after = check_after

    async def create(self, command: AnnouncementCommand, by: Staff) -> Announcement:
        """Saved with the request to fan it out (one transaction); the fan-out runs on the work topic."""
        announcement = new_announcement(command, by, str(uuid.uuid4()), self.uow.clock.now())

        async def work(tx: Transaction) -> None:
            await self.stores.bulletins.add_announcement(announcement, tx.session)
            with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "requested"):
                tx.publish(events.AnnouncementRequested(announcement_id=announcement.id))
            await self._schedule_check(announcement.id, 1, tx)

        await self.uow.run(work)
        return announcement

    async def _schedule_check(self, announcement_id: str, number: int, tx: Transaction) -> None:
        due = tx.clock.now() + self.check_after
        payload = {"announcement_id": announcement_id, "check": number}
        await self.timers.schedule(f"{CHECK_TIMER}:{announcement_id}:{number}", CHECK_TIMER, due, payload, tx.session)

    async def on_check_timer(self, timer: Timer, tx: Transaction) -> None:
        """Is the fan-out complete, moving, or stalled? A stalled one is published again (its missing
        batches, or the whole split), said in a WARNING line and `careplan_announcements_resumed_total`."""
        announcement = await self.stores.bulletins.announcement(timer.payload["announcement_id"])
        if announcement is None:
            return
        check = check_fanout(announcement)
        if check.outcome == "complete":
            log.info("announcement fan-out complete: %s batches delivered", announcement.batches)
            return
        stalled = check.outcome == "stalled"
        if stalled:
            missing = "the split" if check.missing_batches is None else f"{len(check.missing_batches)} batches"
            log.warning(
                "announcement fan-out stalled at %s of %s batches; publishing %s again",
                max(check.progress, 0),
                announcement.batches if announcement.batches is not None else "?",
                missing,
            )
            metrics.ANNOUNCEMENTS_RESUMED.labels("split" if check.missing_batches is None else "batches").inc()
            with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "resumed"):
                tx.publish(
                    events.AnnouncementStalled(announcement_id=announcement.id, missing_batches=check.missing_batches)
                )
        await self.stores.bulletins.record_check(announcement.id, check.progress, resumed=stalled, session=tx.session)
        number = int(timer.payload.get("check", 1))
        if number < MAX_CHECKS:
            await self._schedule_check(announcement.id, number + 1, tx)
        else:
            log.error("announcement fan-out still incomplete after %s checks; left to an operator", number)

    async def on_announcement_stalled(
        self, event: events.AnnouncementStalled, _: ReceivedEvent | None, __: Any
    ) -> None:
        """Publish the missing batches again (all of them when the recipients changed since the split, or
        when the split never finished): the ledger makes a delivery already made a no-op."""
        announcement = await self.stores.bulletins.announcement(event.announcement_id)
        if announcement is None:
            return
        only = set(event.missing_batches) if event.missing_batches is not None else None
        with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "republish"):
            batches, recipients = await self._split(announcement, only)
            if only is not None and recipients != announcement.recipients:  # other batch boundaries now
                batches, recipients = await self._split(announcement)
        await self.stores.bulletins.set_fanout_totals(announcement.id, batches, recipients)

    async def progress(self, announcement_id: str, by: Staff, *, by_state: bool = False) -> AnnouncementProgress:
        """Recipients and batches, and deliveries sent and failed so far (tallies), or every state in the
        ledger (`by_state`: reads every delivery). Another unit's announcement is a missing one."""
        announcement = await self.stores.bulletins.announcement(announcement_id)
        if announcement is None or not visible_to(announcement, by):
            raise NotFound("no such announcement")
        if by_state:
            states = await self.stores.ledger.count_states(f"announcement:{announcement_id}")
        else:
            states = await self.stores.ledger.announcement_outcomes(announcement_id)
        return AnnouncementProgress(announcement=announcement, deliveries=states)

    async def on_announcement_requested(
        self, event: events.AnnouncementRequested, _: ReceivedEvent | None, __: Any
    ) -> None:
        """Split the recipients into batches spread over the work topic's partitions (streamed, never all
        in memory). Redone from the start if interrupted: batch ids and the ledger make that harmless."""
        announcement = await self.stores.bulletins.announcement(event.announcement_id)
        if announcement is None:
            return
        with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "fanout") as span:
            batches, recipients = await self._split(announcement)
            span.set_attributes({"careplan.fanout.batches": batches, "careplan.fanout.recipients": recipients})
        await self.stores.bulletins.set_fanout_totals(announcement.id, batches, recipients)

    async def _split(self, announcement: Announcement, only: set[int] | None = None) -> tuple[int, int]:
        """Stream the recipients (in plan-id order) into batches on the work topic, publishing every batch
        or `only` those numbers; (batches, recipients) once all are acked."""
        acknowledgements: list[Awaitable[Any]] = []
        batch: list[FanoutRecipient] = []
        recipients = batches = 0
        async for recipient in self.stores.recipients.fanout(announcement):
            batch.append(recipient)
            recipients += 1
            if len(batch) == BATCH_SIZE:
                if only is None or batches in only:
                    acknowledgements.append(await self._put_batch(announcement.id, batches, batch))
                batches, batch = batches + 1, []
        if batch:
            if only is None or batches in only:
                acknowledgements.append(await self._put_batch(announcement.id, batches, batch))
            batches += 1
        for acknowledged in acknowledgements:
            await acknowledged
        return batches, recipients

    async def _put_batch(self, announcement_id: str, number: int, recipients: list[FanoutRecipient]) -> Awaitable[Any]:
        batch_id = f"{announcement_id}:{number}"
        batch = events.AnnouncementBatch(batch_id=batch_id, announcement_id=announcement_id, recipients=recipients)
        return await self.work.put(batch, event_id=batch_id)

    async def on_announcement_batch(self, event: events.AnnouncementBatch, _: ReceivedEvent | None, __: Any) -> None:
        announcement = await self.stores.bulletins.announcement(event.announcement_id)
        if announcement is None:
            return
        recipients = event.recipients
        if event.plan_ids:  # a batch of the earlier form, still on the topic: look its recipients up
            plans = await self.stores.recipients.active_plans(event.plan_ids)
            recipients = await self.notifier.with_preferences(list(plans))
        with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "batch") as span:
            span.set_attribute("careplan.fanout.batch", event.batch_id)
            await self.notifier.recipients(recipients, announcement_trigger(announcement))
        number = event.batch_id.rpartition(":")[2]
        if number.isdigit():  # the batch's deliveries are recorded: the fan-out check counts it done
            await self.stores.bulletins.batch_done(announcement.id, int(number))
