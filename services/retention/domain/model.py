"""The retention schedule: every plan must be ended and purged within 730 days of its start."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

RETENTION_LIMIT = timedelta(days=730)


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


class PlanStartedView(BaseModel):
    """The fields of `se.careplan.plan.started.v1` retention needs (a tolerant reader)."""

    plan_id: str
    unit_id: str
    started_at: datetime


class PlanEndedView(BaseModel):
    plan_id: str
    ended_at: datetime
