"""The retention schedule: every plan must be ended and purged within 730 days of its start."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Literal

from pydantic import BaseModel

from shared.messaging.events import Event, Topic

RETENTION_LIMIT = timedelta(days=730)
RETENTION_TOPIC = Topic(
    name="careplan.retention.v1", partitions=6, description="Retention deadlines, exports and purges, keyed by plan id."
)


class RetentionSchedule(BaseModel):
    """What retention knows of a plan: when it started, when it must be gone, where it stands."""

    plan_id: str
    unit_id: str
    started_at: datetime
    limit_at: datetime
    status: Literal["active", "ended", "limit_reached"]
    ended_at: datetime | None = None

    @classmethod
    def for_started_plan(cls, plan_id: str, unit_id: str, started_at: datetime) -> RetentionSchedule:
        return cls(
            plan_id=plan_id,
            unit_id=unit_id,
            started_at=started_at,
            limit_at=started_at + RETENTION_LIMIT,
            status="active",
        )


class RetentionLimitReached(Event):
    """Day 730 of a plan has come: it must be ended and purged now."""

    ce_type: ClassVar[str] = "se.careplan.retention.limit_reached.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    unit_id: str
    limit_at: datetime


class PurgeReminderDue(Event):
    """The plan will be ended and purged in `days_left` days: the patient and the responsible therapist
    are reminded (by the notifications service)."""

    ce_type: ClassVar[str] = "se.careplan.retention.purge_reminder_due.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    unit_id: str
    days_left: int
    limit_at: datetime


class PlanStartedView(BaseModel):
    """The fields of `se.careplan.plan.started.v1` retention needs (a tolerant reader)."""

    plan_id: str
    unit_id: str
    started_at: datetime


class PlanEndedView(BaseModel):
    plan_id: str
    ended_at: datetime
