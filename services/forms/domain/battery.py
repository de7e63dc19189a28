"""Measurement batteries: a set of forms started together, and the staff rules that raise flags.

A battery opens its forms for the patient at each *occasion*: at plan start (a program's start
battery), now (an extra measurement), when a given module starts, or on a schedule (start date,
then every N days, at 09:00 Europe/Stockholm). An occasion stays open until the patient has
submitted each of its forms; a reminder follows `reminder_after_days` later if it is still open.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.forms.domain.model import PlanForms
from shared.contracts import forms as events
from shared.kernel.errors import Invalid
from shared.messaging.events import Event

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHEDULED_AT = time(9, 0)
FormId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]


class BatterySpec(BaseModel):
    """What staff set when they start or schedule a battery for a plan."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    form_ids: list[FormId] = Field(min_length=1, max_length=30)
    trigger: Literal["now", "module_start", "schedule"]
    module_id: str | None = Field(default=None, description="For trigger module_start: the module.")
    start_date: date | None = Field(default=None, description="For trigger schedule: the first occasion's day.")
    interval_days: int | None = Field(default=None, ge=1, le=365, description="For trigger schedule.")
    reminder_after_days: int = Field(default=3, ge=1, le=30)

    @model_validator(mode="after")
    def _trigger_fields(self) -> BatterySpec:
        if len(set(self.form_ids)) != len(self.form_ids):
            raise ValueError("form_ids: a form is listed twice")
        if self.trigger == "module_start" and not self.module_id:
            raise ValueError("module_id: a module_start battery needs the module")
        if self.trigger == "schedule" and (self.start_date is None or self.interval_days is None):
            raise ValueError("start_date, interval_days: a scheduled battery needs both")
        return self


class StartBattery(BaseModel):
    """A program's start battery (designer): opened for every plan of the program when it starts."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="Startformulär", min_length=1, max_length=200)
    form_ids: list[FormId] = Field(min_length=1, max_length=30)
    reminder_after_days: int = Field(default=3, ge=1, le=30)


class Battery(BaseModel):
    id: str
    plan_id: str
    unit_id: str
    name: str
    form_ids: list[str]
    trigger: Literal["plan_start", "now", "module_start", "schedule"]
    module_id: str | None = None
    start_date: date | None = None
    interval_days: int | None = None
    reminder_after_days: int = 3
    occasions: int = 0
    created_at: datetime
    stopped_at: datetime | None = None

    def occasion_key(self, number: int) -> str:
        """The key of occasion `number` in the plan's open forms (and of its timers)."""
        return f"battery:{self.id}:{number}"

    def scheduled_occasion_at(self, number: int) -> datetime:
        """When scheduled occasion `number` (1, 2, …) starts."""
        assert self.start_date is not None and self.interval_days is not None
        day = self.start_date + timedelta(days=self.interval_days * (number - 1))
        return datetime.combine(day, SCHEDULED_AT, tzinfo=STOCKHOLM)

    def require_start_ahead(self, now: datetime) -> None:
        """A schedule may not start on a day that has passed."""
        if self.trigger == "schedule" and self.scheduled_occasion_at(1).date() < now.astimezone(STOCKHOLM).date():
            raise Invalid("start_date: is in the past", field="start_date")

    def next_scheduled_occasion(self, now: datetime) -> int:
        """The number of the next scheduled occasion still ahead (occasions missed while down are skipped)."""
        number = self.occasions + 1
        while number > 1 and self.scheduled_occasion_at(number) <= now:
            number += 1
        return number

    @property
    def live(self) -> bool:
        return self.stopped_at is None

    def open_occasion(self, plan: PlanForms, unit_id: str, now: datetime, number: int | None = None) -> list[Event]:
        """Open the next occasion (or occasion `number`): its forms open for the patient, who is told."""
        self.occasions = number or self.occasions + 1
        key = self.occasion_key(self.occasions)
        plan.current_forms[key] = list(self.form_ids)
        common = {"plan_id": self.plan_id, "unit_id": unit_id}
        return [
            events.MeasurementDue(
                **common,
                battery_id=self.id,
                occasion=self.occasions,
                trigger=self.trigger,
                form_ids=self.form_ids,
                due_at=now,
            ),
            events.PatientNotificationDue(**common, notification_id=key, reason="form_due", form_ids=self.form_ids),
        ]

    def reminder(self, plan: PlanForms, unit_id: str, occasion: int, notification_id: str) -> list[Event]:
        """A reminder of what is still open of an occasion; nothing if the occasion is done."""
        remaining = plan.current_forms.get(self.occasion_key(occasion))
        if not self.live or not remaining:
            return []
        return [
            events.PatientNotificationDue(
                plan_id=self.plan_id,
                unit_id=unit_id,
                notification_id=notification_id,
                reason="reminder",
                form_ids=remaining,
            )
        ]

    def stop(self, plan: PlanForms, unit_id: str, now: datetime) -> list[Event]:
        """No more occasions or reminders; its open forms close. Stopping it again changes nothing."""
        if not self.live:
            return []
        self.stopped_at = now
        for number in range(1, self.occasions + 1):
            plan.current_forms.pop(self.occasion_key(number), None)
        return [events.BatteryStopped(plan_id=self.plan_id, unit_id=unit_id, battery_id=self.id, stopped_at=now)]


class FlagRuleSpec(BaseModel):
    """A unit's rule: flag a result in given intervals, or a patient inactive for N days."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["result", "inactivity"]
    form_id: FormId | None = None
    result_id: str | None = None
    labels: list[str] = Field(default=[], description="For kind result: the interval labels that raise a flag.")
    days: int | None = Field(default=None, ge=1, le=365, description="For kind inactivity.")

    @model_validator(mode="after")
    def _kind_fields(self) -> FlagRuleSpec:
        if self.kind == "result" and (not self.form_id or not self.result_id or not self.labels):
            raise ValueError("form_id, result_id, labels: a result rule needs all three")
        if self.kind == "inactivity" and self.days is None:
            raise ValueError("days: an inactivity rule needs the number of days")
        return self


class FlagRule(FlagRuleSpec):
    id: str
    unit_id: str
    created_by: str
    created_at: datetime
