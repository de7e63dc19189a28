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
