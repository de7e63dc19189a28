"""Who may read or change a plan's forms data (the one platform rule, `shared.ownership`), and the
durable timers that belong to a plan (all cancelled when the plan ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.forms.domain.model import PlanForms
from services.forms.service_layer.ports import PlanFormsStore, TimerRegistry
from shared.kernel.principals import Principal
from shared.ownership import PLAN_NOT_FOUND, OwnershipRepository, OwnershipState, PlanOwnership, authorize
from shared.storage.timers import Timer, TimerHandler, TimerScheduler
from shared.storage.unit_of_work import AuditTrail, Transaction


class PlanAccess:
    """Every access to a plan's data goes through here: `readable` for reads, `writable` for changes."""

    def __init__(self, ownership: OwnershipRepository, plans: PlanFormsStore, audit: AuditTrail) -> None:
        self.ownership = ownership
        self.plans = plans
        self.audit = audit

    async def readable(
        self, plan_id: str, by: Principal, session: Any = None, not_found: str = PLAN_NOT_FOUND
    ) -> PlanOwnership:
        """The plan's ownership if `by` may see it (staff of the holding unit, or its patient); else NotFound."""
        return authorize(await self.ownership.get(plan_id, session), by, not_found=not_found)

    async def writable(
        self, plan_id: str, by: Principal, session: Any = None, not_found: str = PLAN_NOT_FOUND
    ) -> PlanOwnership:
        """As `readable`, and Conflict if the plan has ended or is being handed over (read-only)."""
        ownership = await self.readable(plan_id, by, session, not_found)
        ownership.require_writable()
        return ownership

    async def audit_read(self, by: Principal, ownership: PlanOwnership, resource: str, resource_id: str) -> None:
        """Record that `by` read the plan's patient's data (after the read succeeded)."""
        patient, unit = ownership.patient_personnummer, ownership.unit_id
        await self.audit.record(by, "read", resource, resource_id, patient=patient, unit_id=unit)

    async def live(self, plan_id: str, session: Any = None) -> PlanOwnership | None:
        """For the service's own work (events, timers): the ownership, or None if unknown or ended."""
        ownership = await self.ownership.get(plan_id, session)
        return None if ownership is None or ownership.state is OwnershipState.ENDED else ownership

    async def forms(self, plan_id: str, session: Any = None) -> PlanForms:
        """Forms' state of the plan (empty for a plan nothing has been opened for yet)."""
        return await self.plans.get(plan_id, session) or PlanForms(plan_id=plan_id)


class PlanTimers:
    """Durable timers that belong to a plan: scheduled and remembered per plan, so that the plan's end
    cancels every one of them (form-module notices, battery occasions and reminders, activity-plan
    and inactivity timers) and nothing fires for an ended plan."""

    def __init__(self, scheduler: TimerScheduler, registry: TimerRegistry) -> None:
        self.scheduler = scheduler
        self.registry = registry

    async def schedule(
        self, plan_id: str, key: str, kind: str, due_at: datetime, payload: dict[str, Any], tx: Transaction
    ) -> None:
        # The plan id in the payload is how a purge finds the plan's timers, fired and cancelled ones too.
        payload = {**payload, "plan_id": plan_id}
        if await self.scheduler.schedule(key, kind, due_at, payload, session=tx.session):
            await self.registry.add(plan_id, key, tx.session)

    async def cancel(self, key: str, tx: Transaction) -> None:
        await self.scheduler.cancel(key, session=tx.session)
        await self.registry.remove(key, tx.session)

    async def cancel_all(self, plan_id: str, tx: Transaction) -> int:
        """Cancel every pending timer of the plan; how many there were."""
        keys = await self.registry.of_plan(plan_id, tx.session)
        for key in keys:
            await self.cancel(key, tx)
        return len(keys)

    def firing(self, handler: TimerHandler) -> TimerHandler:
        """`handler`, then forget the timer (it fired: nothing left to cancel)."""

        async def fire(timer: Timer, tx: Transaction) -> None:
            await handler(timer, tx)
            await self.registry.remove(timer.key, tx.session)

        return fire
