"""Flags and the unit's flag rules: results in given intervals, and patients inactive for N days.

Inactivity is a durable timer per plan and rule, due N days after the patient's latest activity;
each new activity cancels it and schedules the next, so a plan has one live timer per rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.forms.adapters.repository import FormsRepository
from services.forms.domain.battery import FlagRule, FlagRuleSpec
from services.forms.domain.model import Flag, PlanForms, Response
from shared.contracts import forms as events
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

INACTIVITY_TIMER = "forms.inactivity"


def inactivity_key(plan_id: str, rule_id: str, since: datetime) -> str:
    return f"{INACTIVITY_TIMER}:{plan_id}:{rule_id}:{since.isoformat()}"


class FlagService:
    def __init__(self, uow: UnitOfWork, repo: FormsRepository, timers: TimerStore) -> None:
        self.uow = uow
        self.repo = repo
        self.timers = timers

    async def raise_flag(self, flag: Flag, tx: Transaction) -> bool:
        """Raise a flag for the unit's lists (once per id); False if it was raised before."""
        if not await self.repo.add_flag(flag, tx.session):
            return False
        tx.publish(
            events.FlagRaised(
                plan_id=flag.plan_id, unit_id=flag.unit_id, flag_id=flag.id, kind=flag.kind, raised_at=flag.raised_at
            )
        )
        return True

    async def handle(self, flag_id: str, by: Staff) -> Flag:
        """A therapist acknowledges a flag (e.g. has read "What matters to me?"): it leaves the lists."""

        async def work(tx: Transaction) -> Flag:
            flag = await self.repo.flag(flag_id, tx.session)
            if flag is None or flag.unit_id != by.unit_id:
                raise NotFound("no such flag", field="flag_id")
            if flag.handled_at is None:
                flag.handled_at, flag.handled_by = tx.clock.now(), by.hsa_id
                await self.repo.save_flag(flag, tx.session)
                tx.publish(
                    events.FlagHandled(
                        plan_id=flag.plan_id, unit_id=flag.unit_id, flag_id=flag.id, handled_by=by.hsa_id
                    )
                )
            return flag

        return await self.uow.run(work)

    # -- rules ---------------------------------------------------------------------------------
    async def add_rule(self, spec: FlagRuleSpec, by: Staff) -> FlagRule:
        """A unit's new rule; an inactivity rule starts counting for every active plan at once."""

        async def work(tx: Transaction) -> FlagRule:
            rule = FlagRule(
                **spec.model_dump(),
                id=str(uuid.uuid4()),
                unit_id=by.unit_id,
                created_by=by.hsa_id,
                created_at=tx.clock.now(),
            )
            await self.repo.add_flag_rule(rule, tx.session)
            if rule.kind == "inactivity":
                for plan in await self.repo.active_plans_of_unit(by.unit_id, tx.session):
                    await self._schedule_inactivity(plan, rule, tx)
            return rule

        return await self.uow.run(work)

    async def rules(self, by: Staff) -> list[FlagRule]:
        return await self.repo.flag_rules_of(by.unit_id)

    async def delete_rule(self, rule_id: str, by: Staff) -> None:
        """Stop a rule; flags it raised stay until handled, its pending inactivity timers do nothing."""

        async def work(tx: Transaction) -> None:
            if not await self.repo.delete_flag_rule(rule_id, by.unit_id, tx.session):
                raise NotFound("no such flag rule in your unit", field="rule_id")

        await self.uow.run(work)

    async def flag_results(self, response: Response, plan: PlanForms, tx: Transaction) -> None:
        """One flag per result in a flagging interval of the form, or in an interval a unit rule names."""
        assert response.submitted_at is not None
        common = {"plan_id": plan.plan_id, "unit_id": plan.unit_id}
        rules = [
            r
            for r in await self.repo.flag_rules_of(plan.unit_id, tx.session)
            if r.kind == "result" and r.form_id == response.form_id
        ]
        for result in response.results:
            ruled = any(r.result_id == result.result_id and result.label in r.labels for r in rules)
            if not result.label or not (result.flag or ruled):
                continue
            await self.raise_flag(
                Flag(
                    id=f"result:{response.id}:{result.result_id}",
                    kind="result",
                    response_id=response.id,
                    label=result.label,
                    raised_at=response.submitted_at,
                    **common,
                ),
                tx,
            )
            tx.publish(
                events.ResultFlagged(
                    **common,
                    response_id=response.id,
                    form_id=response.form_id,
                    result_id=result.result_id,
                    label=result.label,
                )
            )

    # -- inactivity ----------------------------------------------------------------------------
    async def note_activity(self, plan: PlanForms, at: datetime, tx: Transaction) -> None:
        """The patient did something: restart the inactivity count. The caller saves the plan."""
        previous = plan.last_activity_at
        if previous is not None and previous >= at:
            return
        plan.last_activity_at = at
        for rule in await self.repo.flag_rules_of(plan.unit_id, tx.session):
            if rule.kind != "inactivity":
                continue
            if previous is not None:
                await self.timers.cancel(inactivity_key(plan.plan_id, rule.id, previous), session=tx.session)
            await self._schedule_inactivity(plan, rule, tx)

    async def _schedule_inactivity(self, plan: PlanForms, rule: FlagRule, tx: Transaction) -> None:
        since = plan.last_activity_at or tx.clock.now()
        assert rule.days is not None
        await self.timers.schedule(
            inactivity_key(plan.plan_id, rule.id, since),
            INACTIVITY_TIMER,
            max(since + timedelta(days=rule.days), tx.clock.now()),
            {"plan_id": plan.plan_id, "rule_id": rule.id, "since": since.isoformat()},
            session=tx.session,
        )

    async def on_inactivity_timer(self, timer: Timer, tx: Transaction) -> None:
        plan = await self.repo.plan(timer.payload["plan_id"], tx.session)
        rule = await self.repo.flag_rule(timer.payload["rule_id"], tx.session)
        since = datetime.fromisoformat(timer.payload["since"])
        if plan is None or not plan.active or rule is None:
            return
        if plan.last_activity_at is not None and plan.last_activity_at > since:
            return  # active since: a later timer counts from then
        await self.raise_flag(
            Flag(
                id=f"inactivity:{plan.plan_id}:{rule.id}:{since.isoformat()}",
                kind="inactivity",
                plan_id=plan.plan_id,
                unit_id=plan.unit_id,
                label=f"Inaktiv i {rule.days} dagar",
                raised_at=tx.clock.now(),
            ),
            tx,
        )
