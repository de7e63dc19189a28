"""The storage and policy every retention use case is built with (MongoDB in the service, fakes in tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.retention.domain.purge import RetryPolicy
from services.retention.service_layer.ports import (
    EndedPlans,
    ExportPartRepository,
    ExportRepository,
    PlanDataEraser,
    PurgeAwareOwnership,
    PurgeRepository,
    ScheduleRepository,
    TombstoneRepository,
)
from shared.ownership import OwnershipRepository
from shared.storage.timers import TimerScheduler

LIMIT_TIMER = "retention.limit"
REMINDER_TIMER = "retention.reminder"
AUTO_PURGE_TIMER = "retention.auto_purge"
PURGE_RETRY_TIMER = "retention.purge_retry"
EXPORT_RETRY_TIMER = "retention.export_retry"
EXPORT_WAIT_TIMER = "retention.export_wait"
"""At the limit, how long the automatic purge waits for the export before it purges without one."""
PLAN_TIMER_KINDS = (LIMIT_TIMER, REMINDER_TIMER, AUTO_PURGE_TIMER, EXPORT_RETRY_TIMER, EXPORT_WAIT_TIMER)
"""Timers of a plan's schedule and exports (deleted when retention purges its own data of the plan)."""
ALL_TIMER_KINDS = (*PLAN_TIMER_KINDS, PURGE_RETRY_TIMER)


def limit_key(plan_id: str) -> str:
    return f"{LIMIT_TIMER}:{plan_id}"


def reminder_key(days: int, plan_id: str) -> str:
    return f"{REMINDER_TIMER}:{days}:{plan_id}"


def auto_purge_key(plan_id: str) -> str:
    return f"{AUTO_PURGE_TIMER}:{plan_id}"


def export_retry_key(export_id: str, attempt: int) -> str:
    """One timer per attempt, as for purges."""
    return f"{EXPORT_RETRY_TIMER}:{export_id}:{attempt}"


def export_wait_key(plan_id: str) -> str:
    return f"{EXPORT_WAIT_TIMER}:{plan_id}"


def retry_key(plan_id: str, attempt: int) -> str:
    """One timer per attempt: a fired timer's key cannot be scheduled again."""
    return f"{PURGE_RETRY_TIMER}:{plan_id}:{attempt}"


@dataclass(frozen=True)
class RetentionPolicy:
    """The configurable parts of retention (from `RetentionSettings`)."""

    reminder_days: tuple[int, ...] = (60, 14)
    purge_grace: timedelta = timedelta(days=30)
    """After a plan ended at its limit, how long until it is purged automatically."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    export_retry: RetryPolicy = field(default_factory=RetryPolicy)
    """How long to wait before asking the services whose export part is missing again."""
    export_wait: timedelta = timedelta(days=7)
    """At the limit, how long the automatic purge waits for the plan's export before it is forced."""


@dataclass
class Stores:
    """Retention's repositories and timers."""

    schedules: ScheduleRepository
    purges: PurgeRepository
    tombstones: TombstoneRepository
    ownership: OwnershipRepository
    ended: EndedPlans
    eraser: PlanDataEraser
    timers: TimerScheduler
    exports: ExportRepository
    export_parts: ExportPartRepository

    async def purged_or_purging(self, plan_id: str, session: Any = None) -> bool:
        """A plan whose purge has been requested or is done: late events about it are dropped."""
        if await self.tombstones.get(plan_id, session) is not None:
            return True
        return await self.purges.get(plan_id, session) is not None

    def projected_ownership(self) -> OwnershipRepository:
        """The ownership copy as the shared projector should write it (never reviving a purged plan)."""
        return PurgeAwareOwnership(self.ownership, self.purged_or_purging)
