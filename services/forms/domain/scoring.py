"""Validating a response against its form, and computing its results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.forms.domain import formula
from services.forms.domain.definition import FormDefinition, ResultRule


class AnswerError(BaseModel):
    question: str
    rule: str


def validate_answers(form: FormDefinition, answers: dict[str, Any], *, complete: bool) -> list[AnswerError]:
    """Every broken rule, each naming its question; a draft (`complete=False`) may leave questions out."""
    errors = [AnswerError(question=q, rule="is not a question of this form") for q in answers if not form.question(q)]
    for question in form.questions:
        if question.id not in answers or answers[question.id] is None:
            if complete and question.required:
                errors.append(AnswerError(question=question.id, rule="is required"))
            continue
        try:
            question.validate_answer(answers[question.id])
        except ValueError as exc:
            errors.append(AnswerError(question=question.id, rule=str(exc)))
    return errors


class Result(BaseModel):
    result_id: str
    title: str
    value: float | None
    scorable: bool
    reason: str = ""
    label: str | None = None
    colour: str | None = None
    explanation: str = ""
    flag: bool = False
    rule_version: int
    visible_to_patient: bool


def score(form: FormDefinition, answers: dict[str, Any]) -> list[Result]:
    return [_score_rule(form, rule, answers) for rule in form.results]


def _score_rule(form: FormDefinition, rule: ResultRule, answers: dict[str, Any]) -> Result:
    base = {
        "result_id": rule.id,
        "title": rule.title,
        "rule_version": rule.version,
        "visible_to_patient": rule.visible_to_patient,
    }
    values = {
        q: form.question(q).numeric(answers[q])  # type: ignore[union-attr]
        for q in rule.read_questions()
        if answers.get(q) is not None
    }
    try:
        value = _compute(rule, values)
    except (formula.FormulaError, _NotScorable) as exc:
        return Result(**base, value=None, scorable=False, reason=str(exc))
    interval = rule.classify(value)
    if interval is None:
        return Result(**base, value=value, scorable=True, reason="outside every interval")
    return Result(
        **base,
        value=value,
        scorable=True,
        label=interval.label,
        colour=interval.colour,
        explanation=interval.explanation,
        flag=interval.flag,
    )


class _NotScorable(Exception):
    pass


def _compute(rule: ResultRule, values: dict[str, float]) -> float:
    if rule.kind == "formula":
        assert rule.formula is not None
        return round(formula.evaluate(rule.formula, values), 4)
    missing = [q for q in rule.questions if q not in values]
    if missing and (rule.missing == "not_scorable" or len(missing) > rule.max_missing):
        raise _NotScorable(f"{len(missing)} answer(s) missing")
    answered = [q for q in rule.questions if q in values]
    if rule.kind == "mean":
        return sum(values[q] for q in answered) / len(answered)
    weight = rule.weights if rule.kind == "weighted_sum" else dict.fromkeys(rule.questions, 1.0)
    total = sum(values[q] * weight[q] for q in answered)
    if missing:  # prorate: scale up by the share answered, as the instruments' manuals prescribe
        total = total * sum(weight.values()) / sum(weight[q] for q in answered)
    return round(total, 4)
