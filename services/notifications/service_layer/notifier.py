"""Turning a trigger into ledger entries for patients and staff, and handing them to the deliverer."""

from __future__ import annotations

from services.notifications.domain.model import FanoutRecipient, PatientPlan
from services.notifications.domain.triggers import Trigger, patient_deliveries, staff_delivery
from services.notifications.service_layer.delivery import Deliverer
from services.notifications.service_layer.ports import Stores
from shared.clock import Clock


class Notifier:
    def __init__(self, stores: Stores, deliverer: Deliverer, clock: Clock) -> None:
        self.stores = stores
        self.deliverer = deliverer
        self.clock = clock

    async def patients(self, plans: list[PatientPlan], trigger: Trigger) -> None:
        """The plans' patients, on the channels they chose as of now (the inbox always)."""
        await self.recipients(await self.with_preferences(plans), trigger)

    async def with_preferences(self, plans: list[PatientPlan]) -> list[FanoutRecipient]:
        preferences = await self.stores.recipients.preferences_of(list({p.patient_personnummer for p in plans}))
        return [FanoutRecipient.of(p, preferences[p.patient_personnummer]) for p in plans]

    async def recipients(self, recipients: list[FanoutRecipient], trigger: Trigger) -> None:
        """One ledger entry per recipient and channel (the trigger may narrow the channels)."""
        now = self.clock.now()
        await self.deliverer.deliver(
            [
                delivery
                for recipient in recipients
                for delivery in patient_deliveries(
                    trigger, recipient, self.deliverer.recipient_ref(recipient.personnummer), now
                )
            ]
        )

    async def staff(self, plan: PatientPlan, hsa_ids: list[str], trigger: Trigger) -> None:
        """E-mail to staff, at the addresses the plan's holding unit keeps for them; never SMS."""
        now = self.clock.now()
        deliveries = []
        for hsa_id in dict.fromkeys(hsa_ids):
            member = await self.stores.staff.member(plan.unit_id, hsa_id)
            delivery = staff_delivery(trigger, member, self.deliverer.recipient_ref(hsa_id), plan.plan_id, now)
            if delivery is not None:
                deliveries.append(delivery)
        await self.deliverer.deliver(deliveries)
