"""Activity plans: staff set them up, the patient registers occasions, missed occasions are flagged.

One durable timer per activity plan runs ahead of the schedule: it is due when the next occasion's
registration window closes, checks that occasion, and schedules the one after. Its key carries the
plan's revision, so a change to the schedule leaves the old chain to die out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.forms.adapters.repository import FormsRepository
from services.forms.domain.activity import (
    ActivityPlan,
    ActivityPlanSpec,
    Registration,
    RegistrationInput,
    occasion_id,
    registration_errors,
)
from services.forms.domain.model import Flag, PlanForms
from services.forms.service_layer.flags import FlagService
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Patient, Staff
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

MISSED_TIMER = "forms.activity_missed"


class ActivityService:
    def __init__(self, uow: UnitOfWork, repo: FormsRepository, timers: TimerStore, flags: FlagService) -> None:
        self.uow = uow
        self.repo = repo
        self.timers = timers
        self.flags = flags

    async def save(
        self, plan: PlanForms, spec: ActivityPlanSpec, by: Staff, activity_plan_id: str | None = None
    ) -> ActivityPlan:
        """Create an activity plan, or change one (a new revision)."""

        async def work(tx: Transaction) -> ActivityPlan:
            revision = 1
            if activity_plan_id is not None:
                existing = await self.repo.activity_plan(activity_plan_id, tx.session)
                if existing is None or existing.plan_id != plan.plan_id:
                    raise NotFound("no such activity plan for this plan", field="activity_plan_id")
                revision = existing.revision + 1
            activity = ActivityPlan(
                **spec.model_dump(),
                id=activity_plan_id or str(uuid.uuid4()),
                plan_id=plan.plan_id,
                unit_id=plan.unit_id,
                revision=revision,
                updated_at=tx.clock.now(),
            )
            await self.repo.save_activity_plan(activity, tx.session)
            if activity.enabled:
                await self._watch_next(activity, tx.clock.now(), tx)
            tx.publish(
                events.ActivityPlanSaved(
                    plan_id=plan.plan_id,
                    unit_id=plan.unit_id,
                    activity_plan_id=activity.id,
                    revision=revision,
                    enabled=activity.enabled,
                )
            )
            tx.audit(
                by,
                "create" if revision == 1 else "update",
                "activity_plan",
                activity.id,
                patient=plan.patient_personnummer,
                unit_id=plan.unit_id,
            )
            return activity

        return await self.uow.run(work)

    async def get(self, plan: PlanForms, activity_plan_id: str) -> ActivityPlan:
        activity = await self.repo.activity_plan(activity_plan_id)
        if activity is None or activity.plan_id != plan.plan_id:
            raise NotFound("no such activity plan for this plan", field="activity_plan_id")
        return activity

    async def of_plan(self, plan: PlanForms) -> list[ActivityPlan]:
        return await self.repo.activity_plans_of(plan.plan_id)

    async def register(
        self, plan: PlanForms, activity_plan_id: str, entry: RegistrationInput, by: Patient
    ) -> Registration:
        """The patient registers an occasion (done with values, or skipped) within its window."""

        async def work(tx: Transaction) -> Registration:
            activity = await self.get(plan, activity_plan_id)
            current = await self.repo.plan(plan.plan_id, tx.session)
            if current is None or not current.active or not activity.enabled:
                raise Conflict("this activity plan is not active", field="activity_plan_id")
            errors = registration_errors(activity, entry)
            if errors:
                raise Invalid("; ".join(f"{name}: {rule}" for name, rule in errors), field=errors[0][0])
            now = tx.clock.now()
            if now < activity.registration_opens(entry.occasion):
                raise Conflict("occasion: can not be registered before its day", field="occasion")
            if now >= activity.registration_deadline(entry.occasion):
                raise Conflict("occasion: the registration window has closed", field="occasion")
            registration = Registration(
                id=occasion_id(activity.id, entry.occasion),
                activity_plan_id=activity.id,
                plan_id=plan.plan_id,
                registered_at=now,
                **(entry.model_dump() | {"occasion": entry.occasion.astimezone(UTC)}),
            )
            if await self.repo.registration(registration.id, tx.session) is not None:
                raise Conflict("occasion: is registered already", field="occasion")
            await self.repo.add_registration(registration, tx.session)
            await self._flag_outside_target(activity, registration, tx)
            await self.flags.note_activity(current, now, tx)
            await self.repo.save_plan(current, tx.session)
            tx.publish(
                events.ActivityRegistered(
                    plan_id=plan.plan_id,
                    unit_id=plan.unit_id,
                    activity_plan_id=activity.id,
                    occasion=entry.occasion,
                    skipped=entry.skipped,
                    registered_at=now,
                )
            )
            tx.audit(
                by,
                "create",
                "activity_registration",
                registration.id,
                patient=plan.patient_personnummer,
                unit_id=plan.unit_id,
            )
            return registration

        return await self.uow.run(work)

    async def registrations(self, plan: PlanForms, activity_plan_id: str, for_patient: bool) -> list[Registration]:
        """The registrations; the patient sees the values of measurements charted for the patient."""
        activity = await self.get(plan, activity_plan_id)
        found = await self.repo.registrations_of(activity.id)
        if not for_patient:
            return found
        shown = {m.id for m in activity.measurements if m.chart_patient}
        return [r.model_copy(update={"values": {k: v for k, v in r.values.items() if k in shown}}) for r in found]

    async def _flag_outside_target(self, activity: ActivityPlan, registration: Registration, tx: Transaction) -> None:
        for measurement_id, value in registration.values.items():
            measurement = activity.measurement(measurement_id)
            if measurement and measurement.flag_outside_target and measurement.outside_target(value):
                await self.flags.raise_flag(
                    Flag(
                        id=f"outside_target:{registration.id}:{measurement_id}",
                        kind="outside_target",
                        plan_id=activity.plan_id,
                        unit_id=activity.unit_id,
                        label=measurement.title,
                        raised_at=registration.registered_at,
                    ),
                    tx,
                )

    # -- missed occasions ----------------------------------------------------------------------
    async def _watch_next(self, activity: ActivityPlan, after: datetime, tx: Transaction) -> None:
        occasion = activity.next_occasion(after)
        await self.timers.schedule(
            f"{MISSED_TIMER}:{activity.id}:{activity.revision}:{occasion.isoformat()}",
            MISSED_TIMER,
            activity.registration_deadline(occasion),
            {"activity_plan_id": activity.id, "revision": activity.revision, "occasion": occasion.isoformat()},
            session=tx.session,
        )

    async def on_missed_timer(self, timer: Timer, tx: Transaction) -> None:
        activity = await self.repo.activity_plan(timer.payload["activity_plan_id"], tx.session)
        if activity is None or activity.revision != timer.payload["revision"] or not activity.enabled:
            return  # changed or disabled since: a newer chain watches (or none)
        plan = await self.repo.plan(activity.plan_id, tx.session)
        if plan is None or not plan.active:
            return
        occasion = datetime.fromisoformat(timer.payload["occasion"])
        if await self.repo.registration(occasion_id(activity.id, occasion), tx.session) is None:
            common = {"plan_id": plan.plan_id, "unit_id": plan.unit_id}
            tx.publish(events.ActivityMissed(**common, activity_plan_id=activity.id, occasion=occasion))
            if activity.flag_on_missed:
                await self.flags.raise_flag(
                    Flag(
                        id=f"missed_activity:{occasion_id(activity.id, occasion)}",
                        kind="missed_activity",
                        label=activity.title,
                        raised_at=tx.clock.now(),
                        **common,
                    ),
                    tx,
                )
        await self._watch_next(activity, occasion, tx)
