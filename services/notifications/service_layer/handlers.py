"""Use cases of the notifications service: triggers, preferences, inbox, announcements and fan-out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from faststream.kafka import KafkaBroker
from pydantic import BaseModel, Field

from services.notifications.adapters.repository import NotificationsRepository
from services.notifications.domain.model import (
    Announcement,
    Banner,
    Channel,
    Delivery,
    FanoutRecipient,
    PlanRecipient,
    Preferences,
)
from services.notifications.service_layer.delivery import Deliverer
from shared.contracts import notifications as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.messaging.consumer import DependencyNotReady
from shared.messaging.events import EventRecord, ReceivedEvent
from shared.messaging.outbox import publish_record
from shared.storage.unit_of_work import Transaction, UnitOfWork

BATCH_SIZE = 500
DEFAULT_UNIT_NAME = "din mottagning"


# -- tolerant readers of the events that trigger notifications -------------------------------
class PlanRef(BaseModel):
    plan_id: str


class ResponsibleChangedView(BaseModel):
    plan_id: str
    responsible_hsa_id: str


class MessageSentView(BaseModel):
    plan_id: str
    message_id: str
    sender_kind: Literal["patient", "staff"]
    notify_inbox: Literal["direct", "none"] = "none"


class ReplyEscalatedView(BaseModel):
    plan_id: str
    unit_id: str
    message_id: str


class PatientNotificationDue(BaseModel):
    """`se.careplan.forms.patient_notification_due.v1`: a form module became current a day ago, or a form is due."""

    plan_id: str
    notification_id: str
    reason: Literal["form_module", "form_due", "reminder"]


class PurgeReminderView(BaseModel):
    """`se.careplan.retention.purge_reminder_due.v1`"""

    plan_id: str
    days_left: int


class HandoverCompletedView(BaseModel):
    """`se.careplan.handover.completed.v1`: the plan now belongs to `to_unit_id`."""

    plan_id: str
    to_unit_id: str


class BannerCommand(BaseModel):
    text: str = Field(min_length=1, max_length=2000, pattern=r"\S")
    valid_until: datetime | None = None
    notify: bool = Field(default=True, description="Also put it in every patient's inbox (fanned out).")


class AnnouncementCommand(BaseModel):
    scope: Literal["unit", "region", "program_version"]
    program_id: str | None = None
    program_version: str | None = None
    subject: str
    text: str
    variables: dict[str, str] = {}
    channels: list[Channel] = ["inbox", "email", "sms"]


class NotificationsService:
    def __init__(
        self, uow: UnitOfWork, repo: NotificationsRepository, deliverer: Deliverer, broker: KafkaBroker
    ) -> None:
        self.uow = uow
        self.repo = repo
        self.deliverer = deliverer
        self.broker = broker

    # -- the plans read model (transactional) --------------------------------------------------
    async def on_plan_started(self, event: PlanRecipient, _: ReceivedEvent, __: Any) -> None:
        """Save the plan, then copy the patient's preferences onto it. Outside a transaction on purpose:
        the copy must read the preferences after the plan is visible, so that a preference change
        racing with the start either finds the plan or is found by the copy (both steps idempotent)."""
        await self.repo.save_plan(event, None)
        await self.repo.copy_preferences_to_plans(event.patient_personnummer, None)

    async def on_plan_ended(self, event: PlanRef, _: ReceivedEvent, tx: Transaction) -> None:
        plan = await self.repo.plan(event.plan_id, tx.session)
        if plan:
            await self.repo.save_plan(plan.model_copy(update={"active": False}), tx.session)

    async def on_responsible_changed(self, event: ResponsibleChangedView, _: ReceivedEvent, tx: Transaction) -> None:
        plan = await self.repo.plan(event.plan_id, tx.session)
        if plan:
            await self.repo.save_plan(
                plan.model_copy(update={"responsible_hsa_id": event.responsible_hsa_id}), tx.session
            )

    # -- triggers (outside transactions: they call providers) ----------------------------------
    async def _known_plan(self, plan_id: str) -> PlanRecipient:
        """The plan; if its start event (on the plans topic) has not arrived yet, the trigger is redelivered."""
        plan = await self.repo.plan(plan_id)
        if plan is None:
            raise DependencyNotReady("plan not known yet")
        return plan

    async def on_message_sent(self, event: MessageSentView, received: ReceivedEvent, _: Any) -> None:
        plan = await self._known_plan(event.plan_id)
        if event.sender_kind == "staff" and event.notify_inbox == "direct":
            await self.notify_patients(
                [plan], trigger_id=received.id, trigger_kind="new_message", template="new_message"
            )
        elif event.sender_kind == "patient":
            await self.notify_staff(
                [plan.responsible_hsa_id],
                trigger_id=received.id,
                trigger_kind="staff_new_patient_message",
                template="staff_new_patient_message",
                plan=plan,
            )

    async def on_reply_escalated(self, event: ReplyEscalatedView, received: ReceivedEvent, _: Any) -> None:
        plan = await self.repo.plan(event.plan_id)
        admins = [hsa for hsa, _ in await self.repo.staff_with_role(event.unit_id, Role.PATIENT_ADMIN.value)]
        await self.notify_staff(
            admins, trigger_id=received.id, trigger_kind="reply_overdue", template="staff_reply_overdue", plan=plan
        )

    async def on_patient_notification_due(self, event: PatientNotificationDue, received: ReceivedEvent, _: Any) -> None:
        plan = await self._known_plan(event.plan_id)  # a start battery is due as the plan starts
        if plan.active:
            await self.notify_patients(
                [plan],
                trigger_id=received.id,
                trigger_kind=event.reason,
                template="form_reminder" if event.reason == "reminder" else "form_to_fill_in",
            )

    async def on_purge_reminder(self, event: PurgeReminderView, received: ReceivedEvent, _: Any) -> None:
        plan = await self._known_plan(event.plan_id)
        variables = {"days_left": str(event.days_left)}
        await self.notify_patients(
            [plan],
            trigger_id=received.id,
            trigger_kind="purge_reminder",
            template="purge_reminder",
            variables=variables,
        )
        await self.notify_staff(
            [plan.responsible_hsa_id],
            trigger_id=received.id,
            trigger_kind="purge_reminder",
            template="staff_purge_reminder",
            plan=plan,
            variables=variables,
        )

    async def on_handover_completed(self, event: HandoverCompletedView, received: ReceivedEvent, _: Any) -> None:
        plan = await self._known_plan(event.plan_id)
        plan = plan.model_copy(update={"unit_id": event.to_unit_id})
        await self.repo.save_plan(plan, None)
        await self.notify_patients(
            [plan], trigger_id=received.id, trigger_kind="handover_done", template="handover_done"
        )

    async def notify_patients(
        self,
        plans: list[PlanRecipient],
        *,
        trigger_id: str,
        trigger_kind: str,
        template: str,
        channels: list[Channel] | None = None,
        custom: tuple[str, str] | None = None,
        variables: dict[str, str] | None = None,
    ) -> None:
        """One ledger entry per patient and channel (inbox always; e-mail/SMS as the patient chose)."""
        await self.notify_recipients(
            await self._recipients(plans),
            trigger_id=trigger_id,
            trigger_kind=trigger_kind,
            template=template,
            channels=channels,
            custom=custom,
            variables=variables,
        )

    async def _recipients(self, plans: list[PlanRecipient]) -> list[FanoutRecipient]:
        """The plans' patients with the channels they chose now."""
        preferences = await self.repo.preferences_of(list({p.patient_personnummer for p in plans}))
        return [FanoutRecipient.of(p, preferences[p.patient_personnummer]) for p in plans]

    async def notify_recipients(
        self,
        recipients: list[FanoutRecipient],
        *,
        trigger_id: str,
        trigger_kind: str,
        template: str,
        channels: list[Channel] | None = None,
        custom: tuple[str, str] | None = None,
        variables: dict[str, str] | None = None,
    ) -> None:
        now = self.uow.clock.now()
        deliveries = []
        for recipient in recipients:
            ref = self.deliverer.recipient_ref(recipient.personnummer)
            for channel, address in recipient.addresses.items():
                if channels is not None and channel not in channels:
                    continue
                deliveries.append(
                    Delivery(
                        id=Delivery.key(trigger_id, ref, channel),
                        trigger_id=trigger_id,
                        trigger_kind=trigger_kind,
                        recipient_kind="patient",
                        recipient=recipient.personnummer,
                        channel=channel,
                        address=address,
                        template=template,
                        variables={"unit_name": DEFAULT_UNIT_NAME, **(variables or {})},
                        custom_subject=custom[0] if custom else None,
                        custom_body=custom[1] if custom else None,
                        protected_identity=recipient.protected_identity,
                        plan_id=recipient.plan_id,
                        unit_id=recipient.unit_id,
                        created_at=now,
                    )
                )
        await self.deliverer.deliver(deliveries)

    async def notify_staff(
        self,
        hsa_ids: list[str],
        *,
        trigger_id: str,
        trigger_kind: str,
        template: str,
        plan: PlanRecipient | None,
        variables: dict[str, str] | None = None,
    ) -> None:
        """E-mail to staff (from the staff directory); never SMS."""
        now = self.uow.clock.now()
        deliveries = []
        for hsa_id in hsa_ids:
            member = await self.repo.staff_member(hsa_id)
            if member is None or not member.notifications_enabled:
                continue
            deliveries.append(
                Delivery(
                    id=Delivery.key(trigger_id, self.deliverer.recipient_ref(hsa_id), "email"),
                    trigger_id=trigger_id,
                    trigger_kind=trigger_kind,
                    recipient_kind="staff",
                    recipient=hsa_id,
                    channel="email",
                    address=str(member.email),
                    template=template,
                    variables={"unit_name": DEFAULT_UNIT_NAME, **(variables or {})},
                    plan_id=plan.plan_id if plan else None,
                    unit_id=member.unit_id,
                    created_at=now,
                )
            )
        await self.deliverer.deliver(deliveries)

    # -- announcements and fan-out -------------------------------------------------------------
    async def create_announcement(self, command: AnnouncementCommand, by: Staff) -> Announcement:
        if command.scope == "unit" and not by.has_any(Role.PATIENT_ADMIN):
            raise Forbidden("a unit announcement is made by a patient admin")
        if command.scope in ("region", "program_version") and not by.has_any(Role.PUBLISHER):
            raise Forbidden("a region or program announcement is made by a publisher")
        if command.scope == "program_version" and not (command.program_id and command.program_version):
            raise NotFound(
                "program_id and program_version are required for a program announcement", field="program_version"
            )
        announcement = Announcement(
            id=str(uuid.uuid4()),
            unit_id=by.unit_id if command.scope == "unit" else None,
            created_by=by.hsa_id,
            created_at=self.uow.clock.now(),
            **command.model_dump(),
        )

        async def work(tx: Transaction) -> None:
            await self.repo.add_announcement(announcement, tx.session)
            tx.publish(events.AnnouncementRequested(announcement_id=announcement.id))

        await self.uow.run(work)
        return announcement

    async def on_announcement_requested(self, event: events.AnnouncementRequested, _: ReceivedEvent, __: Any) -> None:
        """Split the recipients into batches spread over the work topic's partitions (streamed, never all
        in memory). Redone from the start if interrupted: batch ids and the ledger make that harmless."""
        announcement = await self.repo.announcement(event.announcement_id)
        if announcement is None:
            return
        query: dict[str, Any] = {"active": True}
        if announcement.scope == "unit":
            query["unit_id"] = announcement.unit_id
        elif announcement.scope == "program_version":
            query |= {"program_id": announcement.program_id, "program_version": announcement.program_version}
        batch: list[FanoutRecipient] = []
        batches = recipients = 0
        futures = []
        async for doc in self.repo.stream_recipients(query):
            batch.append(_recipient(doc))
            recipients += 1
            if len(batch) == BATCH_SIZE:
                futures.append(await self._publish_batch(announcement.id, batches, batch))
                batches, batch = batches + 1, []
        if batch:
            futures.append(await self._publish_batch(announcement.id, batches, batch))
            batches += 1
        for future in futures:
            await future
        await self.repo.set_fanout_totals(announcement.id, batches, recipients)

    async def _publish_batch(self, announcement_id: str, number: int, recipients: list[FanoutRecipient]) -> Any:
        batch = events.AnnouncementBatch(
            batch_id=f"{announcement_id}:{number}", announcement_id=announcement_id, recipients=recipients
        )
        record = EventRecord(
            id=batch.batch_id,
            ce_type=batch.ce_type,
            source=self.uow.source,
            topic=batch.topic.name,
            key=batch.batch_id,
            time=self.uow.clock.now(),
            data=batch.model_dump(mode="json"),
        )
        return await publish_record(self.broker, record, {})

    async def on_announcement_batch(self, event: events.AnnouncementBatch, _: ReceivedEvent, __: Any) -> None:
        announcement = await self.repo.announcement(event.announcement_id)
        if announcement is None:
            return
        recipients = event.recipients
        if event.plan_ids:  # a batch of the earlier form, still on the topic: look its recipients up
            recipients = await self._recipients([p for p in await self.repo.plans_by_id(event.plan_ids) if p.active])
        await self.notify_recipients(
            recipients,
            trigger_id=f"announcement:{announcement.id}",
            trigger_kind="announcement",
            template="announcement",
            channels=announcement.channels,
            custom=(announcement.subject, announcement.text),
            variables=announcement.variables,
        )

    async def on_deliveries_due(self, event: events.DeliveriesDue, _: ReceivedEvent, __: Any) -> None:
        await self.deliverer.attempt(event.delivery_ids)

    async def create_banner(self, command: BannerCommand, by: Staff) -> Banner:
        if not by.has_any(Role.PATIENT_ADMIN):
            raise Forbidden("a banner is created by a patient admin")
        banner = Banner(
            id=str(uuid.uuid4()),
            unit_id=by.unit_id,
            text=command.text,
            valid_until=command.valid_until,
            created_by=by.hsa_id,
            created_at=self.uow.clock.now(),
        )
        if command.notify:
            announcement = await self.create_announcement(
                AnnouncementCommand(
                    scope="unit", subject="Information från din mottagning", text=command.text, channels=["inbox"]
                ),
                by,
            )
            banner.announcement_id = announcement.id
        await self.repo.add_banner(banner)
        return banner

    async def banners_for_patient(self, personnummer: str) -> list[Banner]:
        units = await self.repo.units_of_patient(personnummer)
        return await self.repo.banners_of_units(units, self.uow.clock.now())

    # -- patients and staff --------------------------------------------------------------------
    async def set_preferences(self, personnummer: str, preferences: Preferences) -> Preferences:
        await self.repo.save_preferences(personnummer, preferences)
        return preferences


def _recipient(doc: dict[str, Any]) -> FanoutRecipient:
    """A recipient from a plan document and its copy of the patient's preferences (inbox only if none)."""
    chosen = Preferences.model_construct(**(doc.get("preferences") or {}))  # validated when it was saved
    return FanoutRecipient(
        plan_id=doc["_id"],
        unit_id=doc["unit_id"],
        personnummer=doc["patient_personnummer"],
        protected_identity=doc.get("protected_identity", False),
        addresses={c: chosen.address(c) for c in chosen.channels()},
    )
