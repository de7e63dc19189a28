"""Forms as FHIR R4 Questionnaires, and responses as QuestionnaireResponses.

Export carries each scoring rule twice: as an SDC calculated item (an FHIRPath expression other
systems can show) and, exactly, in our own extension, so a form survives a round trip unchanged.
"""

from __future__ import annotations

from typing import Any

from services.forms.adapters.fhir.common import (
    CALCULATED,
    CAREPLAN_KIND,
    CAREPLAN_RULE,
    FORM_URL,
    ITEM_CONTROL,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    PERSONNUMMER_SYSTEM,
    SLIDER_STEP,
    UNIT,
)
from services.forms.domain.definition import FormDefinition, Question, ResultRule
from services.forms.domain.model import Response


def _control(code: str) -> dict[str, Any]:
    return {
        "url": ITEM_CONTROL,
        "valueCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/questionnaire-item-control", "code": code}]
        },
    }


def _question_item(form: FormDefinition, q: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": q.id, "text": q.text, "required": q.required}
    extensions: list[dict[str, Any]] = []
    if q.type in ("single_choice", "multiple_choice", "dropdown"):
        item["type"] = "choice"
        item["repeats"] = q.type == "multiple_choice"
        item["answerOption"] = [
            {
                "valueCoding": {"system": f"{FORM_URL}{form.form_id}:{q.id}", "code": o.value, "display": o.label},
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": o.score}],
            }
            for o in q.options
        ]
        if q.type == "dropdown":
            extensions.append(_control("drop-down"))
    elif q.type == "text":
        item["type"], item["maxLength"] = "text", q.max_length
    else:
        item["type"] = "decimal"
        if q.type == "slider":
            extensions.append(_control("slider"))
            if q.step is not None:
                extensions.append({"url": SLIDER_STEP, "valueInteger": int(q.step)})
        for url, bound in ((MIN_VALUE, q.minimum), (MAX_VALUE, q.maximum)):
            if bound is not None:
                extensions.append({"url": url, "valueDecimal": bound})
        if q.unit:
            extensions.append({"url": UNIT, "valueCoding": {"display": q.unit}})
    if extensions:
        item["extension"] = extensions
    return item


def _fhirpath(rule: ResultRule) -> str:
    def value(question_id: str) -> str:
        return f"%resource.repeat(item).where(linkId = '{question_id}').answer.value"

    if rule.kind == "formula":
        return ""
    terms = [f"{value(q)}.ordinal().sum()" for q in rule.questions]
    if rule.kind == "weighted_sum":
        terms = [f"{rule.weights[q]:g} * {t}" for q, t in zip(rule.questions, terms, strict=True)]
    total = " + ".join(f"({t})" for t in terms)
    return f"({total}) / {len(terms)}" if rule.kind == "mean" else total


def _result_item(rule: ResultRule) -> dict[str, Any]:
    extensions: list[dict[str, Any]] = [{"url": CAREPLAN_RULE, "valueString": rule.model_dump_json()}]
    expression = _fhirpath(rule)
    if expression:
        extensions.insert(
            0, {"url": CALCULATED, "valueExpression": {"language": "text/fhirpath", "expression": expression}}
        )
    return {
        "linkId": f"result.{rule.id}",
        "text": rule.title,
        "type": "decimal",
        "readOnly": True,
        "extension": extensions,
    }


def to_questionnaire(form: FormDefinition) -> dict[str, Any]:
    """The form as a FHIR R4 Questionnaire."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": form.form_id.replace("_", "-"),
        "url": f"{FORM_URL}{form.form_id}",
        "version": str(form.version),
        "title": form.title,
        "status": "active",
        "extension": [{"url": CAREPLAN_KIND, "valueCode": form.kind}],
        "item": [_question_item(form, q) for q in form.questions] + [_result_item(r) for r in form.results],
    }
    if form.description:
        resource["description"] = form.description
    return resource


def _answer(question: Question, form: FormDefinition, value: Any) -> list[dict[str, Any]]:
    if question.type in ("single_choice", "multiple_choice", "dropdown"):
        chosen = value if isinstance(value, list) else [value]
        return [
            {"valueCoding": {"system": f"{FORM_URL}{form.form_id}:{question.id}", "code": o.value, "display": o.label}}
            for o in question.options
            if o.value in chosen
        ]
    if question.type == "text":
        return [{"valueString": value}]
    if float(value).is_integer():
        return [{"valueInteger": int(value)}] if question.type == "scale" else [{"valueDecimal": float(value)}]
    return [{"valueDecimal": float(value)}]


def to_questionnaire_response(form: FormDefinition, response: Response, personnummer: str) -> dict[str, Any]:
    """One response as a FHIR R4 QuestionnaireResponse (answers, then the computed results)."""
    items = [
        {"linkId": q.id, "text": q.text, "answer": _answer(q, form, response.answers[q.id])}
        for q in form.questions
        if response.answers.get(q.id) is not None
    ]
    items += [
        {"linkId": f"result.{r.result_id}", "text": r.title, "answer": [{"valueDecimal": r.value}]}
        for r in response.results
        if r.value is not None
    ]
    moment = response.submitted_at or response.created_at
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response.id,
        "questionnaire": f"{FORM_URL}{form.form_id}|{response.form_version}",
        "status": "completed" if response.status == "submitted" else "in-progress",
        "subject": {"identifier": {"system": PERSONNUMMER_SYSTEM, "value": personnummer}},
        "authored": moment.isoformat(),
        "item": items,
    }
