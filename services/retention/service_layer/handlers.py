"""Retention use cases: track plans' 730-day limits with durable timers."""

from __future__ import annotations

from datetime import timedelta

from services.retention.adapters.repository import ScheduleRepository
from services.retention.domain.model import PlanEndedView, PlanStartedView, RetentionSchedule
from shared.contracts.retention import PurgeReminderDue, RetentionLimitReached
from shared.messaging.events import ReceivedEvent
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction

LIMIT_TIMER = "retention.limit"
REMINDER_TIMER = "retention.reminder"


class RetentionService:
    def __init__(self, schedules: ScheduleRepository, timers: TimerStore, reminder_days: list[int]) -> None:
        self.schedules = schedules
        self.timers = timers
        self.reminder_days = reminder_days

    async def on_plan_started(self, payload: PlanStartedView, _: ReceivedEvent, tx: Transaction) -> None:
        schedule = RetentionSchedule.for_started_plan(payload.plan_id, payload.unit_id, payload.started_at)
        await self.schedules.save(schedule, tx.session)
        await self.timers.schedule(
            f"{LIMIT_TIMER}:{payload.plan_id}",
            LIMIT_TIMER,
            schedule.limit_at,
            {"plan_id": payload.plan_id},
            session=tx.session,
        )
        for days in self.reminder_days:
            await self.timers.schedule(
                f"{REMINDER_TIMER}:{days}:{payload.plan_id}",
                REMINDER_TIMER,
                schedule.limit_at - timedelta(days=days),
                {"plan_id": payload.plan_id, "days_left": days},
                session=tx.session,
            )

    async def on_plan_ended(self, payload: PlanEndedView, _: ReceivedEvent, tx: Transaction) -> None:
        schedule = await self.schedules.get(payload.plan_id, tx.session)
        if schedule is None or schedule.status != "active":
            return
        schedule.status, schedule.ended_at = "ended", payload.ended_at
        await self.schedules.save(schedule, tx.session)

    async def on_reminder_timer(self, timer: Timer, tx: Transaction) -> None:
        schedule = await self.schedules.get(timer.payload["plan_id"], tx.session)
        if schedule is None or schedule.status != "active":
            return  # ended plans are not reminded
        tx.publish(
            PurgeReminderDue(
                plan_id=schedule.plan_id,
                unit_id=schedule.unit_id,
                days_left=timer.payload["days_left"],
                limit_at=schedule.limit_at,
            )
        )

    async def on_limit_timer(self, timer: Timer, tx: Transaction) -> None:
        schedule = await self.schedules.get(timer.payload["plan_id"], tx.session)
        if schedule is None:
            return
        if schedule.status == "active":
            schedule.status = "limit_reached"
            await self.schedules.save(schedule, tx.session)
        tx.publish(
            RetentionLimitReached(plan_id=schedule.plan_id, unit_id=schedule.unit_id, limit_at=schedule.limit_at)
        )
