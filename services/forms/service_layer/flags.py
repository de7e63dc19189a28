"""Flags and the unit's flag rules: results in given intervals, and patients inactive for N days.

Inactivity is a durable timer per plan and rule, due N days after the patient's latest activity;
each new activity cancels it and schedules the next, so a plan has one live timer per rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.forms.domain import flagging
from services.forms.domain.battery import FlagRule, FlagRuleSpec
from services.forms.domain.model import Flag, PlanForms, Response
from services.forms.service_layer.access import PlanAccess, PlanTimers
from services.forms.service_layer.ports import Stores
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.storage.timers import Timer
from shared.storage.unit_of_work import Transaction, UnitOfWork

INACTIVITY_TIMER = "forms.inactivity"
NO_SUCH_FLAG = "no such flag"


def inactivity_key(plan_id: str, rule_id: str, since: datetime) -> str:
    return f"{INACTIVITY_TIMER}:{plan_id}:{rule_id}:{since.isoformat()}"


class FlagService:
    def __init__(self, uow: UnitOfWork, stores: Stores, access: PlanAccess, timers: PlanTimers) -> None:
        self.uow = uow
        self.flag_store = stores.flags
        self.rule_store = stores.rules
        self.unit_plans = stores.unit_plans
        self.access = access
        self.timers = timers

    async def raise_flag(self, flag: Flag, tx: Transaction) -> bool:
        """Raise a flag for the unit's lists (once per id); False if it was raised before."""
        if not await self.flag_store.add(flag, tx.session):
            return False
        tx.publish(flag.raised())
        return True

    async def of_plan(self, plan_id: str, by: Staff) -> list[Flag]:
        """The plan's flags, handled or not (audited)."""
        ownership = await self.access.readable(plan_id, by)
        flags = await self.flag_store.of_plan(plan_id)
        await self.access.audit_read(by, ownership, "flags", plan_id)
        return flags

    async def handle(self, flag_id: str, by: Staff) -> Flag:
        """A therapist acknowledges a flag (e.g. has read "What matters to me?"): it leaves the lists."""

        async def work(tx: Transaction) -> Flag:
            flag = await self.flag_store.get(flag_id, tx.session)
            if flag is None:
                raise NotFound(NO_SUCH_FLAG, field="flag_id")
            ownership = await self.access.writable(flag.plan_id, by, tx.session, not_found=NO_SUCH_FLAG)
            handled = flag.handle(by.hsa_id, ownership.unit_id, tx.clock.now())
            if handled:
                await self.flag_store.save(flag, tx.session)
                tx.publish(*handled)
                patient, unit = ownership.patient_personnummer, ownership.unit_id
                tx.audit(by, "update", "flag", flag.id, patient=patient, unit_id=unit, reason="handled")
            return flag

        return await self.uow.run(work)

    # -- rules ---------------------------------------------------------------------------------
    async def add_rule(self, spec: FlagRuleSpec, by: Staff) -> FlagRule:
        """A unit's new rule; an inactivity rule starts counting for every active plan at once."""

        async def work(tx: Transaction) -> FlagRule:
            now = tx.clock.now()
            rule = FlagRule(
                **spec.model_dump(), id=str(uuid.uuid4()), unit_id=by.unit_id, created_by=by.hsa_id, created_at=now
            )
            await self.rule_store.add(rule, tx.session)
            if rule.kind == "inactivity":
                for plan_id in await self.unit_plans.active_plan_ids(by.unit_id, tx.session):
                    await self._schedule_inactivity(await self.access.forms(plan_id, tx.session), rule, tx)
            return rule

        return await self.uow.run(work)

    async def rules(self, by: Staff) -> list[FlagRule]:
        return await self.rule_store.of_unit(by.unit_id)

    async def delete_rule(self, rule_id: str, by: Staff) -> None:
        """Stop a rule; flags it raised stay until handled, its pending inactivity timers do nothing."""

        async def work(tx: Transaction) -> None:
            if not await self.rule_store.delete(rule_id, by.unit_id, tx.session):
                raise NotFound("no such flag rule in your unit", field="rule_id")

        await self.uow.run(work)

    async def flag_results(self, response: Response, unit_id: str, tx: Transaction) -> None:
        """Flags for results in a flagging interval of the form, or in an interval a unit rule names."""
        for flag, event in flagging.result_flags(response, unit_id, await self.rule_store.of_unit(unit_id, tx.session)):
            await self.raise_flag(flag, tx)
            tx.publish(event)

    # -- inactivity ----------------------------------------------------------------------------
    async def note_activity(self, plan: PlanForms, unit_id: str, at: datetime, tx: Transaction) -> None:
        """The patient did something: restart the inactivity count. The caller saves the plan."""
        previous = plan.last_activity_at
        if not plan.note_activity(at):
            return
        for rule in await self.rule_store.of_unit(unit_id, tx.session):
            if rule.kind != "inactivity":
                continue
            if previous is not None:
                await self.timers.cancel(inactivity_key(plan.plan_id, rule.id, previous), tx)
            await self._schedule_inactivity(plan, rule, tx)

    async def _schedule_inactivity(self, plan: PlanForms, rule: FlagRule, tx: Transaction) -> None:
        since = plan.last_activity_at or tx.clock.now()
        assert rule.days is not None
        await self.timers.schedule(
            plan.plan_id,
            inactivity_key(plan.plan_id, rule.id, since),
            INACTIVITY_TIMER,
            max(since + timedelta(days=rule.days), tx.clock.now()),
            {"plan_id": plan.plan_id, "rule_id": rule.id, "since": since.isoformat()},
            tx,
        )

    async def on_inactivity_timer(self, timer: Timer, tx: Transaction) -> None:
        """N days without activity: flag it, once, if the rule still applies to the plan's unit."""
        plan_id = timer.payload["plan_id"]
        ownership = await self.access.live(plan_id, tx.session)
        rule = await self.rule_store.get(timer.payload["rule_id"], tx.session)
        if ownership is None or rule is None or rule.unit_id != ownership.unit_id:
            return  # ended, rule deleted, or the plan is now another unit's
        since = datetime.fromisoformat(timer.payload["since"])
        plan = await self.access.forms(plan_id, tx.session)
        if plan.last_activity_at is not None and plan.last_activity_at > since:
            return  # active since: a later timer counts from then
        await self.raise_flag(flagging.inactivity(plan_id, ownership.unit_id, rule, since, tx.clock.now()), tx)
