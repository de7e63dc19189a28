"""Activity plans: staff set them up, the patient registers occasions, missed occasions are flagged.

One durable timer per activity plan runs ahead of the schedule: it is due when the next occasion's
registration window closes, checks that occasion, and schedules the one after. Its key carries the
plan's revision, so a change to the schedule leaves the old chain to die out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.forms.adapters.chart import measurement_chart
from services.forms.domain.activity import ActivityPlan, ActivityPlanSpec, Registration, RegistrationInput, occasion_id
from services.forms.service_layer.access import PlanAccess, PlanTimers
from services.forms.service_layer.flags import FlagService
from services.forms.service_layer.ports import Stores
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

MISSED_TIMER = "forms.activity_missed"
NO_SUCH_ACTIVITY_PLAN = "no such activity plan for this plan"


class ActivityService:
    def __init__(
        self, uow: UnitOfWork, stores: Stores, access: PlanAccess, timers: PlanTimers, flags: FlagService
    ) -> None:
        self.uow = uow
        self.activities = stores.activities
        self.plans = stores.plans
        self.access = access
        self.timers = timers
        self.flags = flags

    async def _activity(self, plan_id: str, activity_plan_id: str, session: Any = None) -> ActivityPlan:
        activity = await self.activities.get(activity_plan_id, session)
        if activity is None or activity.plan_id != plan_id:
            raise NotFound(NO_SUCH_ACTIVITY_PLAN, field="activity_plan_id")
        return activity

    async def save(
        self, plan_id: str, spec: ActivityPlanSpec, by: Staff, activity_plan_id: str | None = None
    ) -> ActivityPlan:
        """Create an activity plan, or change one (a new revision)."""

        async def work(tx: Transaction) -> ActivityPlan:
            ownership = await self.access.writable(plan_id, by, tx.session)
            now = tx.clock.now()
            if activity_plan_id is None:
                activity = ActivityPlan.new(spec, plan_id, ownership.unit_id, now)
            else:
                activity = (await self._activity(plan_id, activity_plan_id, tx.session)).revised(spec, now)
            await self.activities.save(activity, tx.session)
            if activity.enabled:
                await self._watch_next(activity, now, tx)
            tx.publish(activity.saved(ownership.unit_id))
            action = "create" if activity.revision == 1 else "update"
            patient, unit = ownership.patient_personnummer, ownership.unit_id
            tx.audit(by, action, "activity_plan", activity.id, patient=patient, unit_id=unit)
            return activity

        return await self.uow.run(work)

    async def get(self, plan_id: str, activity_plan_id: str, by: Principal) -> ActivityPlan:
        ownership = await self.access.readable(plan_id, by)
        activity = await self._activity(plan_id, activity_plan_id)
        await self.access.audit_read(by, ownership, "activity_plan", activity.id)
        return activity

    async def of_plan(self, plan_id: str, by: Principal) -> list[ActivityPlan]:
        ownership = await self.access.readable(plan_id, by)
        found = await self.activities.of_plan(plan_id)
        await self.access.audit_read(by, ownership, "activity_plan", plan_id)
        return found

    async def register(
        self, plan_id: str, activity_plan_id: str, entry: RegistrationInput, by: Patient
    ) -> Registration:
        """The patient registers an occasion (done with values, or skipped) within its window."""

        async def work(tx: Transaction) -> Registration:
            ownership = await self.access.writable(plan_id, by, tx.session)
            activity = await self._activity(plan_id, activity_plan_id, tx.session)
            registration = activity.register(entry, tx.clock.now())
            if await self.activities.registration(registration.id, tx.session) is not None:
                raise Conflict("occasion: is registered already", field="occasion")
            await self.activities.add_registration(registration, tx.session)
            for flag in activity.outside_target_flags(registration, ownership.unit_id):
                await self.flags.raise_flag(flag, tx)
            plan = await self.access.forms(plan_id, tx.session)
            await self.flags.note_activity(plan, ownership.unit_id, registration.registered_at, tx)
            await self.plans.save(plan, tx.session)
            tx.publish(registration.registered(ownership.unit_id))
            patient, unit = ownership.patient_personnummer, ownership.unit_id
            tx.audit(by, "create", "activity_registration", registration.id, patient=patient, unit_id=unit)
            return registration

        return await self.uow.run(work)

    async def registrations(self, plan_id: str, activity_plan_id: str, by: Principal) -> list[Registration]:
        """The registrations (audited); the patient sees only the measurements charted for the patient."""
        ownership = await self.access.readable(plan_id, by)
        activity = await self._activity(plan_id, activity_plan_id)
        found = await self.activities.registrations(activity.id)
        await self.access.audit_read(by, ownership, "activity_registration", activity.id)
        if not isinstance(by, Patient):
            return found
        return [r.showing({m.id for m in activity.measurements if m.chart_patient}) for r in found]

    async def chart(self, plan_id: str, activity_plan_id: str, measurement_id: str, by: Principal) -> str:
        """A measurement over time with its target range (SVG), if it is charted for the caller (audited)."""
        ownership = await self.access.readable(plan_id, by)
        activity = await self._activity(plan_id, activity_plan_id)
        measurement = activity.chart_of(measurement_id, for_patient=isinstance(by, Patient))
        if measurement is None:
            raise NotFound(f"no chart of {measurement_id!r} for you", field="measurement_id")
        found = await self.activities.registrations(activity.id)
        await self.access.audit_read(by, ownership, "activity_registration", activity.id)
        return measurement_chart(
            measurement, [(r.occasion, r.values[measurement_id]) for r in found if measurement_id in r.values]
        )

    # -- missed occasions ----------------------------------------------------------------------
    async def _watch_next(self, activity: ActivityPlan, after: datetime, tx: Transaction) -> None:
        occasion = activity.next_occasion(after)
        await self.timers.schedule(
            activity.plan_id,
            f"{MISSED_TIMER}:{activity.id}:{activity.revision}:{occasion.isoformat()}",
            MISSED_TIMER,
            activity.registration_deadline(occasion),
            {"activity_plan_id": activity.id, "revision": activity.revision, "occasion": occasion.isoformat()},
            tx,
        )

    async def on_missed_timer(self, timer: Timer, tx: Transaction) -> None:
        """An occasion's window closed: if unregistered, it is missed (and flagged if the plan says so)."""
        activity = await self.activities.get(timer.payload["activity_plan_id"], tx.session)
        if activity is None or activity.revision != timer.payload["revision"] or not activity.enabled:
            return  # changed or disabled since: a newer chain watches (or none)
        ownership = await self.access.live(activity.plan_id, tx.session)
        if ownership is None:
            return
        occasion = datetime.fromisoformat(timer.payload["occasion"])
        if await self.activities.registration(occasion_id(activity.id, occasion), tx.session) is None:
            missed, flags = activity.missed(occasion, ownership.unit_id, tx.clock.now())
            tx.publish(missed)
            for flag in flags:
                await self.flags.raise_flag(flag, tx)
        await self._watch_next(activity, occasion, tx)
