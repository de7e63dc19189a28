"""What forms does with other services' events: plans start (their start forms and start battery open),
modules change (form modules open their forms; the patient is told a day later), plans end (every
pending timer of the plan is cancelled), and patients' messages (they count as activity).

The plan's ownership (unit, patient, state) is kept by `shared.ownership.OwnershipProjector`, which
runs first in the same transaction (see `entrypoints/consumers.py`)."""

from __future__ import annotations

from datetime import timedelta

from services.forms.domain.model import (
    ModuleStateChangedView,
    PatientMessageView,
    PlanEndedView,
    PlanForms,
    PlanStartedView,
)
from services.forms.service_layer.access import PlanAccess, PlanTimers
from services.forms.service_layer.batteries import BatteryService
from services.forms.service_layer.flags import FlagService
from services.forms.service_layer.ports import Stores
from shared.contracts import forms as events
from shared.messaging.consumer import DependencyNotReady
from shared.messaging.events import ReceivedEvent
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction

MODULE_NOTIFY_TIMER = "forms.form_module_notify"
NOTIFY_AFTER = timedelta(days=1)


class PlanEventHandlers:
    def __init__(
        self, stores: Stores, access: PlanAccess, timers: PlanTimers, flags: FlagService, batteries: BatteryService
    ) -> None:
        self.plans = stores.plans
        self.access = access
        self.timers = timers
        self.flags = flags
        self.batteries = batteries

    async def on_plan_started(self, event: PlanStartedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """The start forms open, the start battery too, and the inactivity count starts."""
        if await self.plans.get(event.plan_id, tx.session) is not None:
            return  # a replay
        ownership = await self.access.live(event.plan_id, tx.session)
        if ownership is None:
            raise DependencyNotReady("the plan's ownership is not known yet")
        plan = PlanForms(plan_id=event.plan_id, current_forms={"start": event.current_form_refs})
        await self.flags.note_activity(plan, ownership.unit_id, event.started_at or tx.clock.now(), tx)
        await self.batteries.on_plan_started(plan, ownership, tx)
        await self.plans.save(plan, tx.session)

    async def on_plan_ended(self, event: PlanEndedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Ended plans are read-only: nothing of theirs may fire any more."""
        await self.timers.cancel_all(event.plan_id, tx)

    async def on_module_state_changed(
        self, event: ModuleStateChangedView, _: ReceivedEvent | None, tx: Transaction
    ) -> None:
        plan = await self.plans.get(event.plan_id, tx.session)
        if plan is None:
            raise DependencyNotReady("plan not known yet")
        ownership = await self.access.live(event.plan_id, tx.session)
        if ownership is None:
            return  # ended: nothing opens any more
        plan.module_changed(event.module_id, event.state, event.form_refs)
        if event.state == "current":
            await self.batteries.on_module_started(plan, event.module_id, ownership.unit_id, tx)
        await self.plans.save(plan, tx.session)
        if event.form_module and event.state == "current":
            # set completed and current again → notified again a day later: the key holds the moment
            await self.timers.schedule(
                event.plan_id,
                f"{MODULE_NOTIFY_TIMER}:{event.plan_id}:{event.module_id}:{event.changed_at.isoformat()}",
                MODULE_NOTIFY_TIMER,
                event.changed_at + NOTIFY_AFTER,
                {"plan_id": event.plan_id, "module_id": event.module_id, "form_ids": event.form_refs},
                tx,
            )

    async def on_module_notify_timer(self, timer: Timer, tx: Transaction) -> None:
        """A day after a form module became current: tell the patient, if it still is."""
        ownership = await self.access.live(timer.payload["plan_id"], tx.session)
        plan = await self.plans.get(timer.payload["plan_id"], tx.session)
        if ownership is None or plan is None or timer.payload["module_id"] not in plan.current_forms:
            return  # ended, or the module is no longer current: nothing to fill in
        tx.publish(
            events.PatientNotificationDue(
                plan_id=plan.plan_id,
                unit_id=ownership.unit_id,
                notification_id=timer.key,
                reason="form_module",
                form_ids=timer.payload["form_ids"],
            )
        )

    async def on_patient_message(self, event: PatientMessageView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """A message from the patient is activity (restarts the inactivity count)."""
        if event.sender_kind != "patient":
            return
        ownership = await self.access.live(event.plan_id, tx.session)
        plan = await self.plans.get(event.plan_id, tx.session)
        if ownership is None or plan is None:
            return
        await self.flags.note_activity(plan, ownership.unit_id, event.sent_at, tx)
        await self.plans.save(plan, tx.session)
