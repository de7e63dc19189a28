"""The forms service's part of a plan's export for the journal: every submitted answer with its
results (and the rule versions that scored them), flags, measurement batteries, activity plans and
the patient's registrations. Drafts were never submitted: they are not part of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.forms.domain.activity import ActivityPlan, Registration
from services.forms.domain.battery import Battery
from services.forms.domain.definition import FormDefinition, Question
from services.forms.domain.model import Flag, Response
from shared.contracts.export import AuditSummary, FormResponsePart, FormsPart

FormKey = tuple[str, int]
"""(form id, version)"""


def forms_part(
    responses: list[Response],
    forms: Mapping[FormKey, FormDefinition],
    flags: list[Flag],
    batteries: list[Battery],
    activities: list[ActivityPlan],
    registrations: list[Registration],
    audit: AuditSummary,
) -> FormsPart:
    """Everything in time order; a response's questions as the form version that scored it asks them."""
    submitted = sorted((r for r in responses if r.status == "submitted"), key=lambda r: r.submitted_at or r.created_at)
    return FormsPart(
        responses=[response_part(r, forms.get((r.form_id, r.form_version))) for r in submitted],
        flags=[f.model_dump(mode="json") for f in sorted(flags, key=lambda f: f.raised_at)],
        batteries=[b.model_dump(mode="json") for b in sorted(batteries, key=lambda b: b.created_at)],
        activity_plans=[a.model_dump(mode="json") for a in sorted(activities, key=lambda a: a.updated_at)],
        registrations=[r.model_dump(mode="json") for r in sorted(registrations, key=lambda r: r.occasion)],
        audit=audit,
    )


def response_part(response: Response, form: FormDefinition | None) -> FormResponsePart:
    """One submitted response (`form` None: the version is not published here any more; the answers
    then stand without their question texts)."""
    assert response.submitted_at is not None  # only submitted responses are exported
    results = [r.model_dump(mode="json") for r in response.results]
    return FormResponsePart(
        response_id=response.id,
        form_id=response.form_id,
        form_title=form.title if form else "",
        form_version=response.form_version,
        submitted_at=response.submitted_at,
        rescored_at=response.rescored_at,
        answers=_answers(response.answers, form),
        result=results[0] if results else None,
        results=results,
    )


def audited_ids(
    plan_id: str,
    responses: list[Response],
    flags: list[Flag],
    batteries: list[Battery],
    activities: list[ActivityPlan],
    registrations: list[Registration],
) -> set[str]:
    """What the service's audit records of this plan name: the plan and everything in it."""
    things: list[list[Any]] = [responses, flags, batteries, activities, registrations]
    return {plan_id, *(item.id for kind in things for item in kind)}


def _answers(answers: dict[str, Any], form: FormDefinition | None) -> list[dict[str, Any]]:
    """In the form's question order (answers to questions it does not know last, as stored)."""
    questions = [q for q in form.questions if q.id in answers] if form else []
    known = {q.id for q in questions}
    entries = [_entry(q.id, q.text, answers[q.id], _answer_text(q, answers[q.id])) for q in questions]
    entries += [_entry(qid, "", value, _plain(value)) for qid, value in answers.items() if qid not in known]
    return entries


def _entry(question_id: str, text: str, answer: Any, answer_text: str) -> dict[str, Any]:
    return {"question_id": question_id, "text": text, "answer": answer, "answer_text": answer_text}


def _answer_text(question: Question, value: Any) -> str:
    """The answer as the patient chose it: option labels, or the value with its unit."""
    labels = {o.value: o.label for o in question.options}
    if question.type in ("single_choice", "dropdown") and isinstance(value, str):
        return labels.get(value, value)
    if question.type == "multiple_choice" and isinstance(value, list):
        return ", ".join(labels.get(v, str(v)) for v in value)
    text = _plain(value)
    return f"{text} {question.unit}" if question.unit and text else text


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)
