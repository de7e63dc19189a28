"""The contract of the retention service: topic `careplan.retention.v1`, keyed by plan id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.messaging.events import Event, Topic

RETENTION_TOPIC = Topic(
    name="careplan.retention.v1", partitions=6, description="Retention deadlines, exports and purges, keyed by plan id."
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
