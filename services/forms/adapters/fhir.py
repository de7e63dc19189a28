"""Forms as FHIR R4 Questionnaire, answers as QuestionnaireResponse, and Questionnaire import.

Export carries each scoring rule twice: as an SDC calculated item (an FHIRPath expression other
systems can show) and, exactly, in our own extension, so a form survives a round trip unchanged.
Import reads items (groups flattened), answer options with SDC ordinal values / item weights as
scores, min/max, units, drop-down and slider controls, and turns a calculated item into a result:
our rule if the extension is there, else a sum of the scored questions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from services.forms.domain.definition import FormDefinition, Question, ResultRule
from services.forms.domain.model import Response

FORM_URL = "urn:careplan:form:"
EXT = "http://hl7.org/fhir/StructureDefinition/"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
ORDINAL_VALUE, ITEM_WEIGHT = EXT + "ordinalValue", EXT + "itemWeight"
MIN_VALUE, MAX_VALUE, UNIT = EXT + "minValue", EXT + "maxValue", EXT + "questionnaire-unit"
ITEM_CONTROL, SLIDER_STEP = EXT + "questionnaire-itemControl", EXT + "questionnaire-sliderStepValue"
CALCULATED = SDC + "sdc-questionnaire-calculatedExpression"
CAREPLAN_RULE = "https://careplan.se/fhir/StructureDefinition/scoring-rule"
CAREPLAN_KIND = "https://careplan.se/fhir/StructureDefinition/form-kind"
PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
NUMBER_TYPES = ("number", "slider", "scale")


class FhirImportError(ValueError):
    """The Questionnaire can not be a form; `field` names the item (linkId) or element."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# -- export ------------------------------------------------------------------------------------


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


# -- import ------------------------------------------------------------------------------------


def _identifier(text: str, taken: set[str]) -> str:
    """A question id from a linkId or name: lower case letters, digits and underscores, unique."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "q"
    base = base if base[0].isalpha() else f"q_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _extension(element: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in element.get("extension", []) if e.get("url") == url), None)


def _number(extension: dict[str, Any] | None) -> float | None:
    if extension is None:
        return None
    return next((float(v) for k, v in extension.items() if k.startswith("value") and isinstance(v, (int, float))), None)


def _controls(item: dict[str, Any]) -> set[str]:
    control = _extension(item, ITEM_CONTROL)
    codings = (control or {}).get("valueCodeableConcept", {}).get("coding", [])
    return {c.get("code", "") for c in codings}


def _option(option: dict[str, Any], link_id: str) -> dict[str, Any]:
    coding = option.get("valueCoding")
    if coding is not None:
        value, label = coding.get("code"), coding.get("display") or coding.get("code")
    else:
        raw = next((v for k, v in option.items() if k.startswith("value")), None)
        value = label = None if raw is None else str(raw)
    if not value:
        raise FhirImportError(f"item {link_id}: an answerOption has no code or value", field=link_id)
    score = next(
        (
            s
            for s in (_number(_extension(x, u)) for x in (option, coding or {}) for u in (ORDINAL_VALUE, ITEM_WEIGHT))
            if s is not None
        ),
        0.0,
    )
    return {"value": str(value)[:50], "label": str(label)[:300], "score": score}


def _question(item: dict[str, Any], question_id: str) -> dict[str, Any]:
    link_id, kind = item["linkId"], item.get("type")
    question: dict[str, Any] = {
        "id": question_id,
        "text": (item.get("text") or link_id)[:1000],
        "required": bool(item.get("required", False)),
    }
    if kind in ("choice", "open-choice"):
        if not item.get("answerOption"):
            raise FhirImportError(
                f"item {link_id}: a choice item needs answerOption (answerValueSet is not supported)", field=link_id
            )
        question["options"] = [_option(o, link_id) for o in item["answerOption"]]
        question["type"] = (
            "multiple_choice"
            if item.get("repeats")
            else "dropdown"
            if "drop-down" in _controls(item)
            else "single_choice"
        )
    elif kind == "boolean":
        question["type"] = "single_choice"
        question["options"] = [{"value": "true", "label": "Ja"}, {"value": "false", "label": "Nej"}]
    elif kind in ("string", "text"):
        question["type"] = "text"
        question["max_length"] = min(int(item.get("maxLength", 2000)), 20_000)
    elif kind in ("integer", "decimal", "quantity"):
        question["minimum"] = _number(_extension(item, MIN_VALUE))
        question["maximum"] = _number(_extension(item, MAX_VALUE))
        unit = _extension(item, UNIT)
        if unit:
            question["unit"] = unit.get("valueCoding", {}).get("display") or unit.get("valueCoding", {}).get("code")
        slider = "slider" in _controls(item) and None not in (question["minimum"], question["maximum"])
        question["type"] = "slider" if slider else "number"
        step = _number(_extension(item, SLIDER_STEP))
        if slider and step:
            question["step"] = step
    else:
        raise FhirImportError(f"item {link_id}: type {kind!r} is not supported", field=link_id)
    return question


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat = []
    for item in items:
        if item.get("type") == "group":
            flat += _items(item.get("item", []))
        elif item.get("type") != "display":
            flat.append(item)
    return flat


def _inferred_total(item: dict[str, Any], questions: list[dict[str, Any]], result_id: str) -> dict[str, Any]:
    scored = [q for q in questions if any(o["score"] for o in q.get("options", []))]
    if not scored:
        raise FhirImportError(
            f"item {item['linkId']}: a calculated total needs questions with ordinal values", field=item["linkId"]
        )
    low = sum(min(o["score"] for o in q["options"]) for q in scored)
    high = sum(max(o["score"] for o in q["options"]) for q in scored)
    return {
        "id": result_id,
        "title": (item.get("text") or "Totalpoäng")[:200],
        "kind": "sum",
        "questions": [q["id"] for q in scored],
        "intervals": [{"min": low, "max": high if high > low else low + 1, "label": "Totalpoäng", "colour": "#607d8b"}],
    }


def from_questionnaire(
    resource: dict[str, Any], form_id: str | None = None, version: int | None = None
) -> FormDefinition:
    """A FHIR R4 Questionnaire as a form definition (validated like any other); FhirImportError if not."""
    if resource.get("resourceType") != "Questionnaire":
        raise FhirImportError("resourceType must be Questionnaire", field="resourceType")
    url = str(resource.get("url", ""))
    name = (
        form_id
        or (url.removeprefix(FORM_URL) if url.startswith(FORM_URL) else None)
        or resource.get("name")
        or resource.get("id")
        or resource.get("title")
        or ""
    )
    form_id = _identifier(str(name), set())
    if version is None:
        declared = str(resource.get("version", "1"))
        version = int(declared) if declared.isdigit() and int(declared) > 0 else 1
    taken: set[str] = set()
    questions, results, calculated = [], [], []
    for item in _items(resource.get("item", [])):
        if "linkId" not in item:
            raise FhirImportError("an item has no linkId", field="item")
        ours = _extension(item, CAREPLAN_RULE)
        if ours is not None:
            results.append(json.loads(ours["valueString"]))
        elif _extension(item, CALCULATED) is not None or (
            item.get("readOnly") and item.get("type") in ("integer", "decimal")
        ):
            calculated.append(item)
        else:
            questions.append(_question(item, _identifier(item["linkId"], taken)))
    results += [_inferred_total(item, questions, _identifier(item["linkId"], set())) for item in calculated]
    if not questions:
        raise FhirImportError("the Questionnaire has no questions this service can ask", field="item")
    kind = (_extension(resource, CAREPLAN_KIND) or {}).get("valueCode", "questionnaire")
    return FormDefinition.model_validate(
        {
            "form_id": form_id,
            "version": version,
            "kind": kind,
            "title": (resource.get("title") or form_id)[:200],
            "description": resource.get("description", ""),
            "questions": questions,
            "results": results,
        }
    )
