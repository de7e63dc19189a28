"""Activity plans: a patient's weekly schedule of occasions to register, with custom measurements.

Occasions fall on the schedule's weekdays and whole or half hours (Europe/Stockholm), in the weeks
`repeat_every_weeks` apart counted from the week of the start date, never before the start date.
The patient may register an occasion from its day until `registration_window_days` days after it
(end of that day); after that the occasion is missed.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.forms.domain.model import Flag
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Unit = Literal["cm", "km", "m", "kg", "mmHg", "mmol/l", "hours", "minutes", "pieces", "times"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]


class ScheduledTime(BaseModel):
    """One weekly occasion: a weekday and a time on the whole or half hour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: Weekday
    time: str = Field(pattern=r"^([01]\d|2[0-3]):(00|30)$", description="HH:00 or HH:30")

    def clock_time(self) -> dt.time:
        hours, minutes = self.time.split(":")
        return dt.time(int(hours), int(minutes))


class Measurement(BaseModel):
    """A custom measurement the patient registers at each occasion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    unit: Unit
    min_target: float | None = None
    max_target: float | None = None
    flag_outside_target: bool = False
    chart_staff: bool = True
    chart_patient: bool = False
    mandatory: bool = False

    @model_validator(mode="after")
    def _targets(self) -> Measurement:
        for name in ("min_target", "max_target"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"measurement {self.id}: {name} must be a finite number")
        if self.min_target is not None and self.max_target is not None and self.min_target > self.max_target:
            raise ValueError(f"measurement {self.id}: min_target is above max_target")
        if self.flag_outside_target and self.min_target is None and self.max_target is None:
            raise ValueError(f"measurement {self.id}: flag_outside_target needs a min_target or max_target")
        return self

    def outside_target(self, value: float) -> bool:
        return (self.min_target is not None and value < self.min_target) or (
            self.max_target is not None and value > self.max_target
        )


class ActivityPlanSpec(BaseModel):
    """What staff set in the activity-plan editor."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=5000)
    schedule: list[ScheduledTime] = Field(min_length=1, max_length=7 * 48)
    start_date: date
    repeat_every_weeks: int = Field(default=1, ge=1, le=52)
    registration_window_days: int = Field(default=1, ge=0, le=30)
    flag_on_missed: bool = False
    allow_skip: bool = False
    allow_comments: bool = False
    enabled: bool = True
    measurements: list[Measurement] = Field(default=[], max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> ActivityPlanSpec:
        if len(set(self.schedule)) != len(self.schedule):
            raise ValueError("schedule: a weekday and time is listed twice")
        ids = [m.id for m in self.measurements]
        if len(set(ids)) != len(ids):
            raise ValueError("measurements: ids must be unique")
        return self


class ActivityPlan(ActivityPlanSpec):
    id: str
    plan_id: str
    unit_id: str
    revision: int = 1
    """Raised on every change, so timers scheduled for an earlier revision know they are stale."""
    updated_at: datetime

    @classmethod
    def new(cls, spec: ActivityPlanSpec, plan_id: str, unit_id: str, now: datetime) -> ActivityPlan:
        return cls(**spec.model_dump(), id=str(uuid.uuid4()), plan_id=plan_id, unit_id=unit_id, updated_at=now)

    def revised(self, spec: ActivityPlanSpec, now: datetime) -> ActivityPlan:
        """The plan as changed by staff: a new revision, so timers of the earlier one know they are stale."""
        return ActivityPlan(
            **spec.model_dump(),
            id=self.id,
            plan_id=self.plan_id,
            unit_id=self.unit_id,
            revision=self.revision + 1,
            updated_at=now,
        )

    def saved(self, unit_id: str) -> events.ActivityPlanSaved:
        return events.ActivityPlanSaved(
            plan_id=self.plan_id,
            unit_id=unit_id,
            activity_plan_id=self.id,
            revision=self.revision,
            enabled=self.enabled,
        )

    def measurement(self, measurement_id: str) -> Measurement | None:
        return next((m for m in self.measurements if m.id == measurement_id), None)

    def chart_of(self, measurement_id: str, for_patient: bool) -> Measurement | None:
        """The measurement, if it is charted for this audience."""
        measurement = self.measurement(measurement_id)
        if measurement is None or not (measurement.chart_patient if for_patient else measurement.chart_staff):
            return None
        return measurement

    def register(self, entry: RegistrationInput, now: datetime) -> Registration:
        """The patient's registration of an occasion, if it may be made now; Invalid/Conflict naming the field."""
        if not self.enabled:
            raise Conflict("this activity plan is not active", field="activity_plan_id")
        errors = registration_errors(self, entry)
        if errors:
            raise Invalid("; ".join(f"{name}: {rule}" for name, rule in errors), field=errors[0][0])
        if now < self.registration_opens(entry.occasion):
            raise Conflict("occasion: can not be registered before its day", field="occasion")
        if now >= self.registration_deadline(entry.occasion):
            raise Conflict("occasion: the registration window has closed", field="occasion")
        return Registration(
            id=occasion_id(self.id, entry.occasion),
            activity_plan_id=self.id,
            plan_id=self.plan_id,
            registered_at=now,
            **(entry.model_dump() | {"occasion": entry.occasion.astimezone(UTC)}),
        )

    def outside_target_flags(self, registration: Registration, unit_id: str) -> list[Flag]:
        """One flag per value outside its target, for measurements that flag that."""
        return [
            Flag(
                id=f"outside_target:{registration.id}:{m.id}",
                kind="outside_target",
                plan_id=self.plan_id,
                unit_id=unit_id,
                label=m.title,
                raised_at=registration.registered_at,
            )
            for m in self.measurements
            if m.id in registration.values and m.flag_outside_target and m.outside_target(registration.values[m.id])
        ]

    def missed(self, occasion: datetime, unit_id: str, now: datetime) -> tuple[events.ActivityMissed, list[Flag]]:
        """An occasion's window closed unregistered: the event, and a flag if the plan flags misses."""
        common = {"plan_id": self.plan_id, "unit_id": unit_id}
        flags = [
            Flag(
                id=f"missed_activity:{occasion_id(self.id, occasion)}",
                kind="missed_activity",
                label=self.title,
                raised_at=now,
                **common,
            )
        ]
        return events.ActivityMissed(**common, activity_plan_id=self.id, occasion=occasion), (
            flags if self.flag_on_missed else []
        )

    def _occasions_on(self, day: date) -> list[datetime]:
        week = (day - (self.start_date - timedelta(days=self.start_date.weekday()))).days // 7
        if day < self.start_date or week % self.repeat_every_weeks:
            return []
        weekday = WEEKDAYS[day.weekday()]
        return sorted(
            datetime.combine(day, s.clock_time(), tzinfo=STOCKHOLM) for s in self.schedule if s.weekday == weekday
        )

    def is_occasion(self, moment: datetime) -> bool:
        local = moment.astimezone(STOCKHOLM)
        return local in self._occasions_on(local.date())

    def next_occasion(self, after: datetime) -> datetime:
        """The first occasion strictly after `after` (there always is one within interval + 1 weeks)."""
        day = max(after.astimezone(STOCKHOLM).date(), self.start_date)
        while True:
            later = [o for o in self._occasions_on(day) if o > after]
            if later:
                return later[0]
            day += timedelta(days=1)

    def registration_deadline(self, occasion: datetime) -> datetime:
        """The first moment the occasion can no longer be registered (the day after the window)."""
        last_day = occasion.astimezone(STOCKHOLM).date() + timedelta(days=self.registration_window_days + 1)
        return datetime.combine(last_day, dt.time(0, 0), tzinfo=STOCKHOLM)

    def registration_opens(self, occasion: datetime) -> datetime:
        return datetime.combine(occasion.astimezone(STOCKHOLM).date(), dt.time(0, 0), tzinfo=STOCKHOLM)


def occasion_id(activity_plan_id: str, occasion: datetime) -> str:
    """One id per occasion, whatever time zone the occasion was given in."""
    return f"{activity_plan_id}:{occasion.astimezone(UTC):%Y%m%dT%H%MZ}"


class Registration(BaseModel):
    """The patient's registration of one occasion: done with values, or skipped."""

    id: str
    activity_plan_id: str
    plan_id: str
    occasion: datetime
    skipped: bool = False
    values: dict[str, float] = {}
    comment: str | None = None
    registered_at: datetime

    def registered(self, unit_id: str) -> events.ActivityRegistered:
        return events.ActivityRegistered(
            plan_id=self.plan_id,
            unit_id=unit_id,
            activity_plan_id=self.activity_plan_id,
            occasion=self.occasion,
            skipped=self.skipped,
            registered_at=self.registered_at,
        )

    def showing(self, measurement_ids: set[str]) -> Registration:
        """The registration with only these measurements' values."""
        return self.model_copy(update={"values": {k: v for k, v in self.values.items() if k in measurement_ids}})


class RegistrationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occasion: datetime
    skipped: bool = False
    values: dict[str, float] = {}
    comment: str | None = Field(default=None, max_length=2000)


def registration_errors(plan: ActivityPlan, entry: RegistrationInput) -> list[tuple[str, str]]:
    """(field, rule broken) for every problem with a registration; empty if it may be stored."""
    errors: list[tuple[str, str]] = []
    if entry.occasion.tzinfo is None:
        return [("occasion", "needs a time zone")]
    if not plan.is_occasion(entry.occasion):
        errors.append(("occasion", "is not an occasion of this activity plan's schedule"))
    if entry.skipped and not plan.allow_skip:
        errors.append(("skipped", "this activity plan does not allow skipping an occasion"))
    if entry.comment and not plan.allow_comments:
        errors.append(("comment", "this activity plan does not allow comments"))
    for measurement_id, value in entry.values.items():
        if plan.measurement(measurement_id) is None:
            errors.append((f"values.{measurement_id}", "is not a measurement of this activity plan"))
        elif not math.isfinite(value):
            errors.append((f"values.{measurement_id}", "must be a finite number (not NaN or Infinity)"))
    if not entry.skipped:
        errors += [
            (f"values.{m.id}", "is mandatory") for m in plan.measurements if m.mandatory and m.id not in entry.values
        ]
    elif entry.values:
        errors.append(("values", "a skipped occasion has no values"))
    return errors
