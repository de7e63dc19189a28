"""The retention schedule: every plan must be ended and purged within 730 days of its start.

The schedule decides what a plan's deadlines mean; the holding unit is never copied into it (it
comes from the plan's current ownership when an event needs it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from shared.contracts.retention import PurgeReminderDue, RetentionLimitReached

RETENTION_LIMIT = timedelta(days=730)
LIMIT_REASON = "limit"
"""The reason the plans service gives when it ends a plan because its limit was reached."""

ScheduleStatus = Literal["active", "ended", "limit_reached"]


class RetentionSchedule(BaseModel):
    """What retention knows of a plan: when it started, when it must be gone, where it stands."""

    plan_id: str
    started_at: datetime
    limit_at: datetime
    status: ScheduleStatus
    ended_at: datetime | None = None
    end_reason: str | None = None
    export_id: str | None = None
    """The plan's latest complete export for the journal (a purge without force needs one)."""
    purge_when_exported: bool = False
    """The automatic purge at the limit waits for the plan's export: it starts when `plan_exported` is in."""

    @classmethod
    def for_started_plan(cls, plan_id: str, started_at: datetime) -> RetentionSchedule:
        return cls(plan_id=plan_id, started_at=started_at, limit_at=started_at + RETENTION_LIMIT, status="active")

    def reminder_times(self, days_before: list[int]) -> list[tuple[int, datetime]]:
        """(days left, when) of each reminder before the limit."""
        return [(days, self.limit_at - timedelta(days=days)) for days in days_before]

    def end(self, ended_at: datetime, reason: str) -> bool:
        """Record the plan's end; False if it had ended already (a replay changes nothing)."""
        if self.status == "ended":
            return False
        self.status, self.ended_at, self.end_reason = "ended", ended_at, reason
        return True

    def automatic_purge_at(self, grace: timedelta) -> datetime | None:
        """When an automatic purge is due: a grace period after an end at the limit, else never."""
        if self.status != "ended" or self.end_reason != LIMIT_REASON or self.ended_at is None:
            return None
        return self.ended_at + grace

    def reminder(self, unit_id: str, days_left: int) -> PurgeReminderDue | None:
        """The reminder to send now; none for a plan that is no longer active (ended plans are not reminded)."""
        if self.status != "active":
            return None
        return PurgeReminderDue(plan_id=self.plan_id, unit_id=unit_id, days_left=days_left, limit_at=self.limit_at)

    def reach_limit(self, unit_id: str) -> RetentionLimitReached | None:
        """Day 730 of an active plan: it must be ended now (the plans service ends it with reason `limit`).
        A plan that has ended already raises nothing: its purge is due (see `overdue_for_purge`)."""
        if self.status != "active":
            return None
        self.status = "limit_reached"
        return RetentionLimitReached(plan_id=self.plan_id, unit_id=unit_id, limit_at=self.limit_at)

    def overdue_for_purge(self, now: datetime) -> bool:
        """An ended plan still on the platform at its limit is purged at once, without a grace period."""
        return self.status == "ended" and now >= self.limit_at


class PlanStartedView(BaseModel):
    """The fields of `se.careplan.plan.started.v1` retention needs (a tolerant reader)."""

    plan_id: str
    started_at: datetime


class PlanEndedView(BaseModel):
    """The fields of `se.careplan.plan.ended.v1` retention needs."""

    plan_id: str
    ended_at: datetime
    reason: str = ""


class RetentionView(BaseModel):
    """A plan's retention deadlines as staff of its holding unit see them."""

    plan_id: str
    unit_id: str
    started_at: datetime
    limit_at: datetime
    status: ScheduleStatus
    ended_at: datetime | None = None

    @classmethod
    def of(cls, schedule: RetentionSchedule, unit_id: str) -> RetentionView:
        return cls(unit_id=unit_id, **schedule.model_dump(include=set(cls.model_fields) - {"unit_id"}))
