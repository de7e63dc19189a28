"""Notifications' own read model of plans: what an announcement's fan-out streams (not an access rule:
access follows `shared.ownership`)."""

from __future__ import annotations

from typing import Any

from services.notifications.domain.model import PlanRecipient
from services.notifications.service_layer.ports import Recipients
from shared.messaging.events import ReceivedEvent


class RecipientProjector:
    def __init__(self, recipients: Recipients) -> None:
        self.recipients = recipients

    async def on_plan_started(self, event: PlanRecipient, _: ReceivedEvent | None, __: Any) -> None:
        """Save the plan, then copy the patient's preferences onto it. Outside a transaction on purpose:
        the copy must read the preferences after the plan is visible, so that a preference change
        racing with the start either finds the plan or is found by the copy (both steps idempotent)."""
        await self.recipients.save_started(event)
        await self.recipients.copy_preferences(event.patient_personnummer)
