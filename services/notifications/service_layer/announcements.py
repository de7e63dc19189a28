"""Announcements and their fan-out: recipients streamed into batches on the work topic, each batch
delivered by whichever worker takes it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

from services.notifications.domain.announcements import (
    AnnouncementCommand,
    AnnouncementProgress,
    announcement_trigger,
    new_announcement,
    visible_to,
)
from services.notifications.domain.model import Announcement, FanoutRecipient
from services.notifications.service_layer.notifier import Notifier
from services.notifications.service_layer.ports import Stores, WorkQueue
from shared.contracts import notifications as events
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import workflow_span
from shared.storage.unit_of_work import Transaction, UnitOfWork

BATCH_SIZE = 500
ANNOUNCEMENT_WORKFLOW = "announcement"
"""The fan-out is one trace: the request, the split into batches, each batch and its provider calls."""


class AnnouncementService:
    def __init__(self, uow: UnitOfWork, stores: Stores, notifier: Notifier, work: WorkQueue) -> None:
        self.uow = uow
        self.stores = stores
        self.notifier = notifier
        self.work = work

    async def create(self, command: AnnouncementCommand, by: Staff) -> Announcement:
        """Saved with the request to fan it out (one transaction); the fan-out runs on the work topic."""
        announcement = new_announcement(command, by, str(uuid.uuid4()), self.uow.clock.now())

        async def work(tx: Transaction) -> None:
            await self.stores.bulletins.add_announcement(announcement, tx.session)
            with workflow_span(ANNOUNCEMENT_WORKFLOW, announcement.id, "requested"):
                tx.publish(events.AnnouncementRequested(announcement_id=announcement.id))

        await self.uow.run(work)
        return announcement

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

    async def _split(self, announcement: Announcement) -> tuple[int, int]:
        """Stream the recipients into batches on the work topic; (batches, recipients) once all are acked."""
        acknowledgements: list[Awaitable[Any]] = []
        batch: list[FanoutRecipient] = []
        recipients = 0
        async for recipient in self.stores.recipients.fanout(announcement):
            batch.append(recipient)
            recipients += 1
            if len(batch) == BATCH_SIZE:
                acknowledgements.append(await self._put_batch(announcement.id, len(acknowledgements), batch))
                batch = []
        if batch:
            acknowledgements.append(await self._put_batch(announcement.id, len(acknowledgements), batch))
        for acknowledged in acknowledgements:
            await acknowledged
        return len(acknowledgements), recipients

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
