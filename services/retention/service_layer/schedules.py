"""Retention use cases of a plan's life: its 730-day limit and reminders on durable timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.retention.domain.model import PlanEndedView, PlanStartedView, RetentionSchedule, RetentionView
from services.retention.service_layer.stores import (
    AUTO_PURGE_TIMER,
    LIMIT_TIMER,
    REMINDER_TIMER,
    RetentionPolicy,
    Stores,
    auto_purge_key,
    limit_key,
    reminder_key,
)
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import ReceivedEvent
from shared.ownership import PLAN_NOT_FOUND, authorize
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork


class RetentionService:
    """Keeps every plan's retention schedule from the plans service's events and fires its deadlines."""

    def __init__(self, uow: UnitOfWork, stores: Stores, policy: RetentionPolicy) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy

    async def retention_of(self, plan_id: str, by: Staff) -> RetentionView:
        """The plan's deadlines, for staff of its holding unit (ended plans included); the read is audited."""
        ownership = authorize(await self.stores.ownership.get(plan_id), by)
        schedule = await self.stores.schedules.get(plan_id)
        if schedule is None:
            raise NotFound(PLAN_NOT_FOUND)
        await self.uow.audit_log.record(
            by, "read", "plan.retention", plan_id, patient=ownership.patient_personnummer, unit_id=ownership.unit_id
        )
        return RetentionView.of(schedule, ownership.unit_id)

    async def on_plan_started(self, event: PlanStartedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Schedule the limit and the reminders before it (a replay, or a purged plan, changes nothing)."""
        if await self.stores.purged_or_purging(event.plan_id, tx.session):
            return
        if await self.stores.schedules.get(event.plan_id, tx.session) is not None:
            return
        schedule = RetentionSchedule.for_started_plan(event.plan_id, event.started_at)
        await self.stores.schedules.save(schedule, tx.session)
        timers, payload = self.stores.timers, {"plan_id": event.plan_id}
        await timers.schedule(limit_key(event.plan_id), LIMIT_TIMER, schedule.limit_at, payload, session=tx.session)
        for days, due_at in schedule.reminder_times(list(self.policy.reminder_days)):
            await timers.schedule(
                reminder_key(days, event.plan_id),
                REMINDER_TIMER,
                due_at,
                {**payload, "days_left": days},
                session=tx.session,
            )

    async def on_plan_ended(self, event: PlanEndedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """An ended plan is no longer reminded; one ended at its limit is purged after the grace period."""
        if await self.stores.purged_or_purging(event.plan_id, tx.session):
            return
        schedule = await self.stores.schedules.get(event.plan_id, tx.session)
        if schedule is None or not schedule.end(event.ended_at, event.reason):
            return
        await self.stores.schedules.save(schedule, tx.session)
        for days in self.policy.reminder_days:
            await self.stores.timers.cancel(reminder_key(days, event.plan_id), session=tx.session)
        due_at = schedule.automatic_purge_at(self.policy.purge_grace)
        if due_at is not None:
            await self._schedule_automatic_purge(event.plan_id, due_at, tx)

    async def on_reminder_timer(self, timer: Timer, tx: Transaction) -> None:
        schedule, unit_id = await self._schedule_and_unit(timer.payload["plan_id"], tx.session)
        reminder = schedule.reminder(unit_id, timer.payload["days_left"]) if schedule and unit_id else None
        if reminder is not None:
            tx.publish(reminder)

    async def on_limit_timer(self, timer: Timer, tx: Transaction) -> None:
        """Day 730: an active plan must be ended (`RetentionLimitReached`); an ended one is purged now."""
        schedule, unit_id = await self._schedule_and_unit(timer.payload["plan_id"], tx.session)
        if schedule is None or unit_id is None:
            return
        reached = schedule.reach_limit(unit_id)
        if reached is not None:
            await self.stores.schedules.save(schedule, tx.session)
            tx.publish(reached)
        elif schedule.overdue_for_purge(tx.clock.now()):
            await self._schedule_automatic_purge(schedule.plan_id, tx.clock.now(), tx)

    async def _schedule_and_unit(self, plan_id: str, session: Any) -> tuple[RetentionSchedule | None, str | None]:
        """The schedule and the plan's current holding unit (None for a plan purged meanwhile)."""
        schedule = await self.stores.schedules.get(plan_id, session)
        ownership = await self.stores.ownership.get(plan_id, session)
        return schedule, ownership.unit_id if ownership else None

    async def _schedule_automatic_purge(self, plan_id: str, due_at: datetime, tx: Transaction) -> None:
        await self.stores.timers.schedule(
            auto_purge_key(plan_id), AUTO_PURGE_TIMER, due_at, {"plan_id": plan_id}, session=tx.session
        )
