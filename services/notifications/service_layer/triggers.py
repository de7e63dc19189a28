"""Events of other services that notify patients and staff (outside transactions: they call
providers; the ledger makes a redelivered event harmless)."""

from __future__ import annotations

from typing import Any

from services.notifications.domain.triggers import Trigger
from services.notifications.service_layer.notifier import Notifier
from services.notifications.service_layer.ports import Stores
from services.notifications.service_layer.readers import (
    HandoverCompletedView,
    MessageSentView,
    PatientNotificationDueView,
    PlanRef,
    PurgeReminderView,
    ReplyEscalatedView,
)
from shared.kernel.roles import Role
from shared.messaging.consumer import DependencyNotReady
from shared.messaging.events import ReceivedEvent
from shared.ownership import OwnershipRepository, OwnershipState, PlanOwnership


class TriggerHandlers:
    """Who hears of what: the plan's patient, its responsible therapist, its unit's patient admins, all
    found through the plan's current ownership (its holding unit's staff directory)."""

    def __init__(self, ownership: OwnershipRepository, stores: Stores, notifier: Notifier) -> None:
        self.ownership = ownership
        self.stores = stores
        self.notifier = notifier

    async def held(self, plan_id: str) -> PlanOwnership:
        """The plan's ownership; until its start has been seen (another topic) the trigger is redelivered."""
        ownership = await self.ownership.get(plan_id)
        if ownership is None:
            raise DependencyNotReady("plan not known yet")
        return ownership

    async def on_message_sent(self, event: MessageSentView, received: ReceivedEvent, _: Any) -> None:
        plan = await self.held(event.plan_id)
        if event.sender_kind == "staff" and event.notify_inbox == "direct":
            await self.notifier.patients([plan], Trigger(received.id, "new_message", "new_message"))
        elif event.sender_kind == "patient":
            trigger = Trigger(received.id, "staff_new_patient_message", "staff_new_patient_message")
            await self.notifier.staff(plan, [plan.responsible_hsa_id], trigger)

    async def on_reply_escalated(self, event: ReplyEscalatedView, received: ReceivedEvent, _: Any) -> None:
        plan = await self.held(event.plan_id)
        admins = await self.stores.staff.with_role(plan.unit_id, Role.PATIENT_ADMIN.value)
        trigger = Trigger(received.id, "reply_overdue", "staff_reply_overdue")
        await self.notifier.staff(plan, [a.hsa_id for a in admins], trigger)

    async def on_patient_notification_due(
        self, event: PatientNotificationDueView, received: ReceivedEvent, _: Any
    ) -> None:
        """A form to fill in (or a reminder); an ended plan has none."""
        plan = await self.held(event.plan_id)  # a start battery is due as the plan starts
        if plan.state is OwnershipState.ENDED:
            return
        template = "form_reminder" if event.reason == "reminder" else "form_to_fill_in"
        await self.notifier.patients([plan], Trigger(received.id, event.reason, template))

    async def on_purge_reminder(self, event: PurgeReminderView, received: ReceivedEvent, _: Any) -> None:
        plan = await self.held(event.plan_id)
        variables = {"days_left": str(event.days_left)}
        await self.notifier.patients([plan], Trigger(received.id, "purge_reminder", "purge_reminder", variables))
        staff = Trigger(received.id, "purge_reminder", "staff_purge_reminder", variables)
        await self.notifier.staff(plan, [plan.responsible_hsa_id], staff)

    async def on_handover_completed(self, event: HandoverCompletedView, received: ReceivedEvent, _: Any) -> None:
        """The patient is told (no health information), the receiving unit's responsible therapist
        e-mailed; announcements of the receiving unit reach the plan from now on."""
        plan = await self.held(event.plan_id)
        await self.stores.recipients.move(event.plan_id, event.to_unit_id)
        await self.notifier.patients([plan], Trigger(received.id, "handover_done", "handover_done"))
        if event.responsible_hsa_id:
            staff = Trigger(received.id, "handover_received", "staff_handover_received")
            await self.notifier.staff(plan, [event.responsible_hsa_id], staff)

    async def on_plan_ended(self, event: PlanRef, received: ReceivedEvent, _: Any) -> None:
        """No more announcements for the plan, and its patient is told it has ended (no health
        information: neither the program nor the reason)."""
        await self.stores.recipients.end(event.plan_id)
        plan = await self.held(event.plan_id)
        await self.notifier.patients([plan], Trigger(received.id, "plan_ended", "plan_ended"))
