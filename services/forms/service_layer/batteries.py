"""Measurement batteries: occasions that open forms, reminders, and scheduled repetition on timers."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.forms.domain.battery import Battery, BatterySpec, StartBattery
from services.forms.domain.model import PlanForms
from services.forms.service_layer.access import PlanAccess, PlanTimers
from services.forms.service_layer.ports import Stores
from shared.kernel.errors import Invalid, NotFound
from shared.kernel.principals import Staff
from shared.ownership import PlanOwnership
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

OCCASION_TIMER = "forms.battery_occasion"
REMINDER_TIMER = "forms.battery_reminder"


class BatteryService:
    def __init__(self, uow: UnitOfWork, stores: Stores, access: PlanAccess, timers: PlanTimers) -> None:
        self.uow = uow
        self.forms = stores.forms
        self.plans = stores.plans
        self.batteries = stores.batteries
        self.access = access
        self.timers = timers

    async def _check_forms(self, form_ids: list[str]) -> None:
        for form_id in form_ids:
            if await self.forms.latest(form_id) is None:
                raise Invalid(f"form_ids: no published form {form_id!r}", field="form_ids")

    async def set_start_battery(self, program_id: str, battery: StartBattery) -> None:
        """A program's start battery (designer): opened for each plan of the program as it starts."""
        await self._check_forms(battery.form_ids)

        async def work(tx: Transaction) -> None:
            await self.batteries.set_start_battery(program_id, battery, tx.session)

        await self.uow.run(work)

    async def start(self, plan_id: str, spec: BatterySpec, by: Staff) -> Battery:
        """Start a battery now, at a module's start, or on a schedule (staff of the plan's unit)."""
        await self._check_forms(spec.form_ids)

        async def work(tx: Transaction) -> Battery:
            ownership = await self.access.writable(plan_id, by, tx.session)
            now = tx.clock.now()
            battery = Battery(
                **spec.model_dump(), id=str(uuid.uuid4()), plan_id=plan_id, unit_id=ownership.unit_id, created_at=now
            )
            battery.require_start_ahead(now)
            if spec.trigger == "now":
                plan = await self.access.forms(plan_id, tx.session)
                await self._open_occasion(battery, plan, ownership.unit_id, tx)
                await self.plans.save(plan, tx.session)
            elif spec.trigger == "schedule":
                await self._schedule_next_occasion(battery, tx)
            await self.batteries.save(battery, tx.session)
            patient, unit = ownership.patient_personnummer, ownership.unit_id
            tx.audit(by, "create", "battery", battery.id, patient=patient, unit_id=unit)
            return battery

        return await self.uow.run(work)

    async def stop(self, plan_id: str, battery_id: str, by: Staff) -> Battery:
        """Stop a battery: no more occasions or reminders; its open forms close."""

        async def work(tx: Transaction) -> Battery:
            ownership = await self.access.writable(plan_id, by, tx.session)
            battery = await self.batteries.get(battery_id, tx.session)
            if battery is None or battery.plan_id != plan_id:
                raise NotFound("no such battery for this plan", field="battery_id")
            plan = await self.access.forms(plan_id, tx.session)
            stopped = battery.stop(plan, ownership.unit_id, tx.clock.now())
            if stopped:
                await self.plans.save(plan, tx.session)
                await self.batteries.save(battery, tx.session)
                tx.publish(*stopped)
                patient, unit = ownership.patient_personnummer, ownership.unit_id
                tx.audit(by, "update", "battery", battery.id, patient=patient, unit_id=unit, reason="stopped")
            return battery

        return await self.uow.run(work)

    async def of_plan(self, plan_id: str, by: Staff) -> list[Battery]:
        """The plan's batteries (audited)."""
        ownership = await self.access.readable(plan_id, by)
        found = await self.batteries.of_plan(plan_id)
        await self.access.audit_read(by, ownership, "battery", plan_id)
        return found

    # -- occasions -----------------------------------------------------------------------------
    async def on_plan_started(self, plan: PlanForms, ownership: PlanOwnership, tx: Transaction) -> None:
        """Open the program's start battery, if it has one. The caller saves the plan."""
        start = await self.batteries.start_battery(ownership.program_id, tx.session) if ownership.program_id else None
        if start is None:
            return
        battery = Battery(
            id=f"start:{plan.plan_id}",
            plan_id=plan.plan_id,
            unit_id=ownership.unit_id,
            name=start.name,
            form_ids=start.form_ids,
            trigger="plan_start",
            reminder_after_days=start.reminder_after_days,
            created_at=tx.clock.now(),
        )
        await self._open_occasion(battery, plan, ownership.unit_id, tx)
        await self.batteries.save(battery, tx.session)

    async def on_module_started(self, plan: PlanForms, module_id: str, unit_id: str, tx: Transaction) -> None:
        """Open every live battery that starts with this module. The caller saves the plan."""
        for battery in await self.batteries.of_plan(plan.plan_id, tx.session):
            if battery.trigger == "module_start" and battery.module_id == module_id and battery.live:
                await self._open_occasion(battery, plan, unit_id, tx)
                await self.batteries.save(battery, tx.session)

    async def _open_occasion(
        self, battery: Battery, plan: PlanForms, unit_id: str, tx: Transaction, number: int | None = None
    ) -> None:
        now = tx.clock.now()
        tx.publish(*battery.open_occasion(plan, unit_id, now, number))
        key = battery.occasion_key(battery.occasions)
        await self.timers.schedule(
            plan.plan_id,
            f"{REMINDER_TIMER}:{key}",
            REMINDER_TIMER,
            now + timedelta(days=battery.reminder_after_days),
            {"battery_id": battery.id, "occasion": battery.occasions},
            tx,
        )

    async def _schedule_next_occasion(self, battery: Battery, tx: Transaction) -> None:
        """A timer for the next scheduled occasion still ahead (occasions missed while down are skipped)."""
        number = battery.next_scheduled_occasion(tx.clock.now())
        await self.timers.schedule(
            battery.plan_id,
            f"{OCCASION_TIMER}:{battery.occasion_key(number)}",
            OCCASION_TIMER,
            battery.scheduled_occasion_at(number),
            {"battery_id": battery.id, "occasion": number},
            tx,
        )

    async def _live(self, timer: Timer, tx: Transaction) -> tuple[Battery, PlanOwnership] | None:
        """The timer's battery and its plan's ownership, unless the battery is stopped or the plan ended."""
        battery = await self.batteries.get(timer.payload["battery_id"], tx.session)
        ownership = await self.access.live(battery.plan_id, tx.session) if battery else None
        if battery is None or ownership is None or not battery.live:
            return None
        return battery, ownership

    async def on_occasion_timer(self, timer: Timer, tx: Transaction) -> None:
        found = await self._live(timer, tx)
        if found is None or found[0].occasions >= timer.payload["occasion"]:
            return  # stopped, ended, or opened before (a redelivered timer)
        battery, ownership = found
        plan = await self.access.forms(battery.plan_id, tx.session)
        await self._open_occasion(battery, plan, ownership.unit_id, tx, number=timer.payload["occasion"])
        await self._schedule_next_occasion(battery, tx)
        await self.batteries.save(battery, tx.session)
        await self.plans.save(plan, tx.session)

    async def on_reminder_timer(self, timer: Timer, tx: Transaction) -> None:
        found = await self._live(timer, tx)
        if found is None:
            return
        battery, ownership = found
        plan = await self.access.forms(battery.plan_id, tx.session)
        tx.publish(*battery.reminder(plan, ownership.unit_id, timer.payload["occasion"], timer.key))
