"""Measurement batteries: occasions that open forms, reminders, and scheduled repetition on timers."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.forms.adapters.repository import FormsRepository
from services.forms.domain.battery import STOCKHOLM, Battery, BatterySpec, StartBattery
from services.forms.domain.model import PlanForms
from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Staff
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

OCCASION_TIMER = "forms.battery_occasion"
REMINDER_TIMER = "forms.battery_reminder"


class BatteryService:
    def __init__(self, uow: UnitOfWork, repo: FormsRepository, timers: TimerStore) -> None:
        self.uow = uow
        self.repo = repo
        self.timers = timers

    async def _check_forms(self, form_ids: list[str]) -> None:
        for form_id in form_ids:
            if await self.repo.latest_form(form_id) is None:
                raise Invalid(f"form_ids: no published form {form_id!r}", field="form_ids")

    async def set_start_battery(self, program_id: str, battery: StartBattery) -> None:
        """A program's start battery (designer): opened for each plan of the program as it starts."""
        await self._check_forms(battery.form_ids)

        async def work(tx: Transaction) -> None:
            await self.repo.set_start_battery(program_id, battery, tx.session)

        await self.uow.run(work)

    async def start(self, plan: PlanForms, spec: BatterySpec, by: Staff) -> Battery:
        """Start a battery now, at a module's start, or on a schedule (staff of the plan's unit)."""
        await self._check_forms(spec.form_ids)

        async def work(tx: Transaction) -> Battery:
            current = await self.repo.plan(plan.plan_id, tx.session)
            if current is None or not current.active:
                raise Conflict("the plan has ended", field="plan_id")
            battery = Battery(
                **spec.model_dump(),
                id=str(uuid.uuid4()),
                plan_id=plan.plan_id,
                unit_id=plan.unit_id,
                created_at=tx.clock.now(),
            )
            if spec.trigger == "now":
                await self._open_occasion(battery, current, tx)
                await self.repo.save_plan(current, tx.session)
            elif spec.trigger == "schedule":
                if battery.scheduled_occasion_at(1).date() < tx.clock.now().astimezone(STOCKHOLM).date():
                    raise Invalid("start_date: is in the past", field="start_date")
                await self._schedule_next_occasion(battery, tx)
            await self.repo.save_battery(battery, tx.session)
            tx.audit(by, "create", "battery", battery.id, patient=plan.patient_personnummer, unit_id=plan.unit_id)
            return battery

        return await self.uow.run(work)

    async def stop(self, plan: PlanForms, battery_id: str, by: Staff) -> Battery:
        """Stop a battery: no more occasions or reminders; its open forms close."""

        async def work(tx: Transaction) -> Battery:
            battery = await self.repo.battery(battery_id, tx.session)
            current = await self.repo.plan(plan.plan_id, tx.session)
            if battery is None or battery.plan_id != plan.plan_id or current is None:
                raise NotFound("no such battery for this plan", field="battery_id")
            if battery.stopped_at is None:
                battery.stopped_at = tx.clock.now()
                for number in range(1, battery.occasions + 1):
                    current.current_forms.pop(battery.occasion_key(number), None)
                await self.repo.save_plan(current, tx.session)
                await self.repo.save_battery(battery, tx.session)
                tx.publish(
                    events.BatteryStopped(
                        plan_id=plan.plan_id, unit_id=plan.unit_id, battery_id=battery.id, stopped_at=battery.stopped_at
                    )
                )
                tx.audit(
                    by,
                    "update",
                    "battery",
                    battery.id,
                    patient=plan.patient_personnummer,
                    unit_id=plan.unit_id,
                    reason="stopped",
                )
            return battery

        return await self.uow.run(work)

    async def of_plan(self, plan_id: str) -> list[Battery]:
        return await self.repo.batteries_of(plan_id)

    # -- occasions -----------------------------------------------------------------------------
    async def on_plan_started(self, plan: PlanForms, tx: Transaction) -> None:
        """Open the program's start battery, if it has one. The caller saves the plan."""
        start = await self.repo.start_battery(plan.program_id, tx.session) if plan.program_id else None
        if start is None:
            return
        battery = Battery(
            id=f"start:{plan.plan_id}",
            plan_id=plan.plan_id,
            unit_id=plan.unit_id,
            name=start.name,
            form_ids=start.form_ids,
            trigger="plan_start",
            reminder_after_days=start.reminder_after_days,
            created_at=tx.clock.now(),
        )
        await self._open_occasion(battery, plan, tx)
        await self.repo.save_battery(battery, tx.session)

    async def on_module_started(self, plan: PlanForms, module_id: str, tx: Transaction) -> None:
        """Open every live battery that starts with this module. The caller saves the plan."""
        for battery in await self.repo.batteries_of(plan.plan_id, tx.session):
            if battery.trigger == "module_start" and battery.module_id == module_id and battery.stopped_at is None:
                await self._open_occasion(battery, plan, tx)
                await self.repo.save_battery(battery, tx.session)

    def on_submitted(self, plan: PlanForms, form_id: str, tx: Transaction) -> None:
        """A submitted form counts for every open occasion that asks for it. The caller saves the plan."""
        for key in [k for k, forms in plan.current_forms.items() if k.startswith("battery:") and form_id in forms]:
            remaining = [f for f in plan.current_forms[key] if f != form_id]
            if remaining:
                plan.current_forms[key] = remaining
                continue
            del plan.current_forms[key]
            battery_id, number = key.removeprefix("battery:").rsplit(":", 1)
            tx.publish(
                events.MeasurementCompleted(
                    plan_id=plan.plan_id,
                    unit_id=plan.unit_id,
                    battery_id=battery_id,
                    occasion=int(number),
                    completed_at=tx.clock.now(),
                )
            )

    async def _open_occasion(
        self, battery: Battery, plan: PlanForms, tx: Transaction, number: int | None = None
    ) -> None:
        battery.occasions = number or battery.occasions + 1
        key, now = battery.occasion_key(battery.occasions), tx.clock.now()
        plan.current_forms[key] = list(battery.form_ids)
        common = {"plan_id": plan.plan_id, "unit_id": plan.unit_id}
        tx.publish(
            events.MeasurementDue(
                **common,
                battery_id=battery.id,
                occasion=battery.occasions,
                trigger=battery.trigger,
                form_ids=battery.form_ids,
                due_at=now,
            )
        )
        tx.publish(
            events.PatientNotificationDue(**common, notification_id=key, reason="form_due", form_ids=battery.form_ids)
        )
        await self.timers.schedule(
            f"{REMINDER_TIMER}:{key}",
            REMINDER_TIMER,
            now + timedelta(days=battery.reminder_after_days),
            {"battery_id": battery.id, "occasion": battery.occasions},
            session=tx.session,
        )

    async def _schedule_next_occasion(self, battery: Battery, tx: Transaction) -> None:
        """A timer for the next scheduled occasion still ahead (occasions missed while down are skipped)."""
        number = battery.occasions + 1
        while number > 1 and battery.scheduled_occasion_at(number) <= tx.clock.now():
            number += 1
        await self.timers.schedule(
            f"{OCCASION_TIMER}:{battery.occasion_key(number)}",
            OCCASION_TIMER,
            battery.scheduled_occasion_at(number),
            {"battery_id": battery.id, "occasion": number},
            session=tx.session,
        )

    async def on_occasion_timer(self, timer: Timer, tx: Transaction) -> None:
        battery = await self.repo.battery(timer.payload["battery_id"], tx.session)
        plan = await self.repo.plan(battery.plan_id, tx.session) if battery else None
        if battery is None or plan is None or not plan.active or battery.stopped_at is not None:
            return
        if battery.occasions >= timer.payload["occasion"]:
            return  # opened before (a redelivered timer)
        await self._open_occasion(battery, plan, tx, number=timer.payload["occasion"])
        await self._schedule_next_occasion(battery, tx)
        await self.repo.save_battery(battery, tx.session)
        await self.repo.save_plan(plan, tx.session)

    async def on_reminder_timer(self, timer: Timer, tx: Transaction) -> None:
        battery = await self.repo.battery(timer.payload["battery_id"], tx.session)
        plan = await self.repo.plan(battery.plan_id, tx.session) if battery else None
        if battery is None or plan is None or not plan.active or battery.stopped_at is not None:
            return
        remaining = plan.current_forms.get(battery.occasion_key(timer.payload["occasion"]))
        if remaining:
            tx.publish(
                events.PatientNotificationDue(
                    plan_id=plan.plan_id,
                    unit_id=plan.unit_id,
                    notification_id=timer.key,
                    reason="reminder",
                    form_ids=remaining,
                )
            )
