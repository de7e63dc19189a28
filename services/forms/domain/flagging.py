"""What raises a flag for the unit's lists: results in flagging intervals (the form's or a unit rule's),
"What matters to me?" answers, and a patient inactive for a rule's number of days."""

from __future__ import annotations

from datetime import datetime

from services.forms.domain.battery import FlagRule
from services.forms.domain.model import Flag, Response
from shared.contracts import forms as events


def result_flags(response: Response, unit_id: str, rules: list[FlagRule]) -> list[tuple[Flag, events.ResultFlagged]]:
    """One flag per result in a flagging interval of the form, or in an interval a unit rule names."""
    assert response.submitted_at is not None
    common = {"plan_id": response.plan_id, "unit_id": unit_id}
    ruled = [r for r in rules if r.kind == "result" and r.form_id == response.form_id]
    flagged = []
    for result in response.results:
        by_rule = any(r.result_id == result.result_id and result.label in r.labels for r in ruled)
        if not result.label or not (result.flag or by_rule):
            continue
        flag = Flag(
            id=f"result:{response.id}:{result.result_id}",
            kind="result",
            response_id=response.id,
            label=result.label,
            raised_at=response.submitted_at,
            **common,
        )
        event = events.ResultFlagged(
            **common, response_id=response.id, form_id=response.form_id, result_id=result.result_id, label=result.label
        )
        flagged.append((flag, event))
    return flagged


def what_matters(response: Response, unit_id: str) -> tuple[Flag, events.WhatMattersAnswered]:
    """The answer goes to the journal (the event) and flags the unit until a therapist has read it."""
    assert response.submitted_at is not None
    common = {"plan_id": response.plan_id, "unit_id": unit_id}
    answer = str(next(iter(response.answers.values()), ""))
    flag = Flag(
        id=f"what_matters:{response.id}",
        kind="what_matters",
        response_id=response.id,
        raised_at=response.submitted_at,
        **common,
    )
    return flag, events.WhatMattersAnswered(
        **common, response_id=response.id, answer=answer, answered_at=response.submitted_at
    )


def inactivity(plan_id: str, unit_id: str, rule: FlagRule, since: datetime, now: datetime) -> Flag:
    """Once per stretch of silence (the id names when it began)."""
    return Flag(
        id=f"inactivity:{plan_id}:{rule.id}:{since.isoformat()}",
        kind="inactivity",
        plan_id=plan_id,
        unit_id=unit_id,
        label=f"Inaktiv i {rule.days} dagar",
        raised_at=now,
    )
