"""The purge saga's coordinator: request a purge, count every service's receipt, ask the missing
ones again with backoff, and mark the plan purged (with a tombstone) when all six are in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from services.retention.domain.purge import SYSTEM, Purge, PurgeReceiptView, holder_of
from services.retention.domain.views import EndedPlansPage, PurgeCommand, PurgeView
from services.retention.service_layer.stores import (
    ALL_TIMER_KINDS,
    PURGE_RETRY_TIMER,
    RetentionPolicy,
    Stores,
    retry_key,
)
from shared.contracts.retention import PlanPurged
from shared.crypto.keyring import PlanKeyring, installed_keyring
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.messaging.events import Event, ReceivedEvent
from shared.observability.workflow import start_workflow, workflow_step
from shared.ownership import PlanOwnership, authorize
from shared.purge.participant import PURGE_WORKFLOW
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

NO_PURGE = "no purge has been requested for this plan"


class PurgeCoordinator:
    """Use cases of the purge saga (retention's side as its owner)."""

    def __init__(
        self, uow: UnitOfWork, stores: Stores, policy: RetentionPolicy, keyring: PlanKeyring | None = None
    ) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy
        # The plan keys sealing personal data on Kafka: a completed purge destroys the plan's.
        self.keyring = keyring or installed_keyring()

    # -- requests -------------------------------------------------------------------------------

    async def request_purge(self, plan_id: str, command: PurgeCommand, by: Staff) -> PurgeView:
        """A data admin's purge of an ended plan; asking again returns the same purge (one effect)."""

        async def work(tx: Transaction) -> PurgeView:
            existing = await self._existing(plan_id, by, tx.session)
            if existing is not None:
                tx.audit(by, "read", "plan.purge", plan_id, patient=None, unit_id=by.unit_id)
                return existing
            ownership = authorize(await self.stores.ownership.get(plan_id, tx.session), by)
            purge = await self._start(tx, ownership, by, force=command.force, reason=command.reason)
            return PurgeView.of_purge(purge, self.policy.retry)

        return await self.uow.run(work)

    async def start_by_system(
        self, tx: Transaction, ownership: PlanOwnership, *, force: bool, reason: str = ""
    ) -> Purge:
        """The system's purge of an ended plan at its limit (see `AutomaticPurge`: after its export,
        or forced with the reason when the export did not come in time)."""
        return await self._start(tx, ownership, None, force=force, reason=reason)

    async def _start(
        self, tx: Transaction, ownership: PlanOwnership, by: Staff | None, *, force: bool, reason: str
    ) -> Purge:
        schedule = await self.stores.schedules.get(ownership.plan_id, tx.session)
        purge, requested = Purge.request(
            ownership,
            purge_id=str(uuid.uuid4()),
            requested_by=by.hsa_id if by else SYSTEM,
            now=tx.clock.now(),
            export_id=schedule.export_id if schedule else None,
            force=force,
            reason=reason,
        )
        purge.workflow = start_workflow(PURGE_WORKFLOW, purge.purge_id)
        await self.stores.purges.save(purge, tx.session)
        _publish_in_step(purge, "requested", tx, requested)
        await self._schedule_retry(purge, tx)
        why = f"forced: {purge.reason}" if purge.forced else "exported"
        tx.audit(
            by,
            "purge",
            "plan",
            ownership.plan_id,
            patient=ownership.patient_personnummer,
            unit_id=ownership.unit_id,
            reason=f"purge requested ({why})",
        )
        return purge

    # -- reads ----------------------------------------------------------------------------------

    async def purge_of(self, plan_id: str, by: Staff) -> PurgeView:
        """Where the plan's purge stands, for staff of the unit holding (or that held) the plan."""
        found = await self._existing(plan_id, by, None)
        if found is None:
            authorize(await self.stores.ownership.get(plan_id), by)
            raise NotFound(NO_PURGE)
        await self.uow.audit_log.record(by, "read", "plan.purge", plan_id, patient=None, unit_id=by.unit_id)
        return found

    async def ended_plans(self, by: Staff, ended_before: date, page: int, page_size: int) -> EndedPlansPage:
        """The unit's ended plans (ids and dates only), oldest end first, for bulk purges."""
        before = datetime.combine(ended_before, time.min, UTC)
        rows = await self.stores.ended.ended_before(by.unit_id, before, (page - 1) * page_size, page_size + 1)
        await self.uow.audit_log.record(
            by,
            "read",
            "unit.ended_plans",
            by.unit_id,
            patient=None,
            unit_id=by.unit_id,
            reason=f"ended before {ended_before.isoformat()}, page {page}",
        )
        more = len(rows) > page_size
        return EndedPlansPage(
            items=rows[:page_size], page=page, page_size=page_size, next_page=page + 1 if more else None
        )

    async def _existing(self, plan_id: str, by: Staff, session: Any) -> PurgeView | None:
        """The plan's purge (done or under way) if there is one and `by` may see it."""
        tombstone = await self.stores.tombstones.get(plan_id, session)
        if tombstone is not None:
            authorize(holder_of(plan_id, tombstone.unit_id), by)
            return PurgeView.of_tombstone(tombstone)
        purge = await self.stores.purges.get(plan_id, session)
        if purge is not None:
            authorize(holder_of(plan_id, purge.unit_id), by)
            return PurgeView.of_purge(purge, self.policy.retry)
        return None

    # -- the saga -------------------------------------------------------------------------------

    async def on_receipt(self, receipt: PurgeReceiptView, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Count a service's receipt; the last one completes the purge."""
        purge = await self.stores.purges.get(receipt.plan_id, tx.session)
        if purge is None:
            return  # purged before (a duplicate) or never requested here: nothing to count
        counted = len(purge.receipts)
        purged = purge.record_receipt(receipt, tx.clock.now())
        if len(purge.receipts) == counted:
            return
        if purge.workflow:
            with workflow_step(purge.workflow, f"receipt {receipt.service}", link_current=True):
                pass
        if purged is None:
            await self.stores.purges.save(purge, tx.session)
        else:
            await self._complete(purge, purged, tx)

    async def on_retry_timer(self, timer: Timer, tx: Transaction) -> None:
        """Ask the services whose receipt is still missing again, and wait longer next time."""
        purge = await self.stores.purges.get(timer.payload["plan_id"], tx.session)
        if purge is None or purge.purge_id != timer.payload["purge_id"] or purge.attempts != timer.payload["attempt"]:
            return  # completed, or a stale timer
        requested = purge.re_request(tx.clock.now())
        if requested is None:
            return
        await self.stores.purges.save(purge, tx.session)
        await self._schedule_retry(purge, tx)
        _publish_in_step(purge, f"re-requested (attempt {purge.attempts})", tx, requested, link_current=True)

    async def _schedule_retry(self, purge: Purge, tx: Transaction) -> None:
        await self.stores.timers.schedule(
            retry_key(purge.plan_id, purge.attempts),
            PURGE_RETRY_TIMER,
            purge.next_request_at(self.policy.retry),
            {"plan_id": purge.plan_id, "purge_id": purge.purge_id, "attempt": purge.attempts},
            session=tx.session,
        )

    async def _complete(self, purge: Purge, purged: PlanPurged, tx: Transaction) -> None:
        """Every receipt is in: destroy the plan's key (what is left on Kafka can never be read again),
        announce it, keep the tombstone, drop the rest of retention's documents."""
        # Before `plan_purged` goes out, and idempotent: a retried transaction destroys it again.
        await self.keyring.destroy(purge.plan_id)
        _publish_in_step(purge, "completed", tx, purged, link_current=True)
        await self.stores.timers.cancel(retry_key(purge.plan_id, purge.attempts), session=tx.session)
        await self.stores.tombstones.add(purge.tombstone(), tx.session)
        await self.stores.purges.delete(purge.plan_id, tx.session)
        await self.stores.schedules.delete(purge.plan_id, tx.session)
        await self.stores.eraser.erase(purge.plan_id, ALL_TIMER_KINDS, tx.session)
        tx.audit(
            None,
            "purge",
            "plan",
            purge.plan_id,
            patient=None,
            unit_id=purge.unit_id,
            reason=f"purge {purge.purge_id} completed: every service confirmed",
        )


def _publish_in_step(purge: Purge, step: str, tx: Transaction, event: Event, *, link_current: bool = False) -> None:
    """Publish in a step's span of the purge's trace: the event's consumers (and the receipts they
    send) continue that trace, however much later a timer fires the step."""
    if purge.workflow is None:  # not expected: every purge starts its workflow
        tx.publish(event)
        return
    with workflow_step(purge.workflow, step, link_current=link_current):
        tx.publish(event)
