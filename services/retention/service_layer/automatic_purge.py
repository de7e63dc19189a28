"""The purge at the limit, by the system: when the grace period after a plan ended at day 730 is over,
the plan is purged once it is exported for the journal, without force. Not exported yet, its export
is asked for (again) and the purge follows as soon as `plan_exported` is in. Should the export not
complete within `export_wait` (a service down for days), the plan is purged all the same, forced,
with the reason in the audit trail: the limit is the law, the export its courtesy."""

from __future__ import annotations

from services.retention.domain.export import PlanExportedView
from services.retention.service_layer.exports import ExportCoordinator
from services.retention.service_layer.purges import PurgeCoordinator
from services.retention.service_layer.stores import EXPORT_WAIT_TIMER, RetentionPolicy, Stores, export_wait_key
from shared.messaging.events import ReceivedEvent
from shared.ownership import OwnershipState, PlanOwnership
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction

LIMIT_REACHED = "limit reached"


class AutomaticPurge:
    """The system's side of a plan's end at the limit: export, then purge."""

    def __init__(
        self, stores: Stores, policy: RetentionPolicy, purges: PurgeCoordinator, exports: ExportCoordinator
    ) -> None:
        self.stores = stores
        self.policy = policy
        self.purges = purges
        self.exports = exports

    async def on_automatic_purge_timer(self, timer: Timer, tx: Transaction) -> None:
        """The grace period is over: purge the exported plan, or export it first and wait for that."""
        plan_id = timer.payload["plan_id"]
        ownership = await self._purgeable(plan_id, tx)
        schedule = await self.stores.schedules.get(plan_id, tx.session)
        if ownership is None or schedule is None:
            return  # gone already, or (never expected) not ended: nothing the system may purge
        if schedule.export_id is None:
            schedule.export_id = await self.exports.export_for_purge(ownership, tx)
        if schedule.export_id is not None:
            await self.stores.schedules.save(schedule, tx.session)
            await self.purges.start_by_system(tx, ownership, force=False)
            return
        schedule.purge_when_exported = True
        await self.stores.schedules.save(schedule, tx.session)
        due_at = tx.clock.now() + self.policy.export_wait
        await self.stores.timers.schedule(
            export_wait_key(plan_id), EXPORT_WAIT_TIMER, due_at, {"plan_id": plan_id}, session=tx.session
        )
        tx.audit(
            None,
            "purge",
            "plan",
            plan_id,
            patient=None,
            unit_id=ownership.unit_id,
            reason=f"automatic purge at the limit waits for the export for the journal (until {due_at.isoformat()})",
        )

    async def on_plan_exported(self, event: PlanExportedView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """The export a purge at the limit waited for is in: purge now, without force."""
        schedule = await self.stores.schedules.get(event.plan_id, tx.session)
        if schedule is None or not schedule.purge_when_exported:
            return  # an export by request, or at the end of a plan: no purge waits for it
        ownership = await self._purgeable(event.plan_id, tx)
        if ownership is None:
            return
        await self.stores.timers.cancel(export_wait_key(event.plan_id), session=tx.session)
        await self.purges.start_by_system(tx, ownership, force=False)

    async def on_export_wait_timer(self, timer: Timer, tx: Transaction) -> None:
        """The export did not come in time: the plan is purged without it (forced, with the reason)."""
        plan_id = timer.payload["plan_id"]
        ownership = await self._purgeable(plan_id, tx)
        if ownership is None:
            return  # purged (or purging) after its export: the normal way
        schedule = await self.stores.schedules.get(plan_id, tx.session)
        if schedule is not None and schedule.export_id is not None:
            await self.purges.start_by_system(tx, ownership, force=False)
            return
        days = self.policy.export_wait.total_seconds() / 86400
        reason = f"{LIMIT_REACHED}: the export for the journal did not complete within {days:g} days"
        await self.purges.start_by_system(tx, ownership, force=True, reason=reason)

    async def _purgeable(self, plan_id: str, tx: Transaction) -> PlanOwnership | None:
        """The plan's ownership, if the system may purge it now (ended, and no purge under way or done)."""
        if await self.stores.purged_or_purging(plan_id, tx.session):
            return None
        ownership = await self.stores.ownership.get(plan_id, tx.session)
        if ownership is None or ownership.state is not OwnershipState.ENDED:
            return None
        return ownership
