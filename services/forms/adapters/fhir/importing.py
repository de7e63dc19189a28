"""FHIR R4 Questionnaires from elsewhere as forms.

Import reads items (groups flattened), answer options with SDC ordinal values / item weights as
scores, min/max, units, drop-down and slider controls, and turns a calculated item into a result:
our rule if the extension is there, else a sum of the scored questions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from services.forms.adapters.fhir.common import (
    CALCULATED,
    CAREPLAN_KIND,
    CAREPLAN_RULE,
    FORM_URL,
    ITEM_CONTROL,
    ITEM_WEIGHT,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    SLIDER_STEP,
    UNIT,
    FhirImportError,
)
from services.forms.domain.definition import FormDefinition


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


def _form_id(resource: dict[str, Any], given: str | None) -> str:
    url = str(resource.get("url", ""))
    name = (
        given
        or (url.removeprefix(FORM_URL) if url.startswith(FORM_URL) else None)
        or resource.get("name")
        or resource.get("id")
        or resource.get("title")
        or ""
    )
    return _identifier(str(name), set())


def _version(resource: dict[str, Any]) -> int:
    declared = str(resource.get("version", "1"))
    return int(declared) if declared.isdigit() and int(declared) > 0 else 1


def _is_calculated(item: dict[str, Any]) -> bool:
    return _extension(item, CALCULATED) is not None or (
        bool(item.get("readOnly")) and item.get("type") in ("integer", "decimal")
    )


def _questions_and_results(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The questions, and the results: our own rules as exported, else a total of each calculated item."""
    taken: set[str] = set()
    questions: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    calculated = []
    for item in _items(items):
        if "linkId" not in item:
            raise FhirImportError("an item has no linkId", field="item")
        ours = _extension(item, CAREPLAN_RULE)
        if ours is not None:
            results.append(json.loads(ours["valueString"]))
        elif _is_calculated(item):
            calculated.append(item)
        else:
            questions.append(_question(item, _identifier(item["linkId"], taken)))
    results += [_inferred_total(item, questions, _identifier(item["linkId"], set())) for item in calculated]
    if not questions:
        raise FhirImportError("the Questionnaire has no questions this service can ask", field="item")
    return questions, results


def from_questionnaire(
    resource: dict[str, Any], form_id: str | None = None, version: int | None = None
) -> FormDefinition:
    """A FHIR R4 Questionnaire as a form definition (validated like any other); FhirImportError if not."""
    if resource.get("resourceType") != "Questionnaire":
        raise FhirImportError("resourceType must be Questionnaire", field="resourceType")
    form_id = _form_id(resource, form_id)
    questions, results = _questions_and_results(resource.get("item", []))
    return FormDefinition.model_validate(
        {
            "form_id": form_id,
            "version": version if version is not None else _version(resource),
            "kind": (_extension(resource, CAREPLAN_KIND) or {}).get("valueCode", "questionnaire"),
            "title": (resource.get("title") or form_id)[:200],
            "description": resource.get("description", ""),
            "questions": questions,
            "results": results,
        }
    )
