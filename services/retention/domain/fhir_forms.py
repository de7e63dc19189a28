"""The forms service's records as FHIR R4 resources for the export's Bundle: each submitted response
as a QuestionnaireResponse with its results as Observations (score, label, rule version), flags as
Flag, activity plans as CarePlans within the plan and each registration as an Observation."""

from __future__ import annotations

from typing import Any

from services.retention.domain.export_fields import as_json, first, iso_time, text_of, title_of
from services.retention.domain.fhir_records import Entries, Refs, Resource, iso
from shared.contracts.export import FormResponsePart


def _answer_values(answer: Any, answer_text: str = "") -> list[dict[str, Any]]:
    """An answer as FHIR answer values by its type (several for a list; none when unanswered). A chosen
    option (text stored, another text shown) is a coding with the label the patient saw."""
    if answer is None or answer == "":
        return []
    if isinstance(answer, list):
        return [v for item in answer for v in _answer_values(item)]
    if isinstance(answer, bool):
        return [{"valueBoolean": answer}]
    if isinstance(answer, int):
        return [{"valueInteger": answer}]
    if isinstance(answer, float):
        return [{"valueDecimal": answer}]
    if isinstance(answer, str):
        if answer_text and answer_text != answer:
            return [{"valueCoding": {"code": answer, "display": answer_text}}]
        return [{"valueString": answer}]
    return [{"valueString": as_json(answer)}]


def _item(n: int, answer: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": text_of(first(answer, "question_id", "id", "link_id")) or str(n)}
    question = text_of(first(answer, "text", "question", "question_text"))
    if question:
        item["text"] = question
    values = _answer_values(first(answer, "answer", "value"), text_of(answer.get("answer_text")))
    if values:
        item["answer"] = values
    return item


def form_responses(responses: list[FormResponsePart], refs: Refs) -> Entries:
    """Each response as a QuestionnaireResponse, and each of its results (score, label, flag, rule
    version) as an Observation derived from it."""
    entries: Entries = []
    for response in responses:
        local = f"response/{response.response_id}"
        questionnaire = f"urn:careplan:form:{response.form_id}"
        if response.form_version is not None:
            questionnaire += f"|{response.form_version}"
        resource: Resource = {
            "resourceType": "QuestionnaireResponse",
            "identifier": {"system": "urn:careplan:form-response", "value": response.response_id},
            "basedOn": [refs.to("careplan")],
            "questionnaire": questionnaire,
            "status": "completed",
            "subject": refs.to("patient"),
            "authored": iso(response.submitted_at),
        }
        items = [_item(n, a) for n, a in enumerate(response.answers, start=1)]
        if items:
            resource["item"] = items
        entries.append((local, resource))
        results = response.results or ([response.result] if response.result else [])
        for n, result in enumerate(results, start=1):
            entries.append((f"result/{response.response_id}/{n}", _result(response, result, refs, local)))
    return entries


def _result(response: FormResponsePart, result: dict[str, Any], refs: Refs, derived_from: str) -> Resource:
    title = text_of(first(result, "title")) or response.form_title or response.form_id
    code = text_of(first(result, "result_id", "id")) or "score"
    observation: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": f"urn:careplan:form:{response.form_id}", "code": code, "display": title}]},
        "subject": refs.to("patient"),
        "effectiveDateTime": iso(response.submitted_at),
        "derivedFrom": [refs.to(derived_from)],
    }
    value = first(result, "value", "score", "total")
    if isinstance(value, int | float) and not isinstance(value, bool):
        observation["valueQuantity"] = {"value": value}
    else:
        observation["valueString"] = text_of(first(result, "reason")) or "inget resultat"
    label = text_of(first(result, "label", "interpretation"))
    if label:
        observation["interpretation"] = [{"text": label + (" (flaggat)" if result.get("flag") else "")}]
    rule_version = text_of(first(result, "rule_version"))
    observation["method"] = {"text": f"Regelversion {rule_version}" if rule_version else "Regelversion okänd"}
    explanation = text_of(first(result, "explanation"))
    if explanation:
        observation["note"] = [{"text": explanation}]
    return observation


def flags(items: list[dict[str, Any]], refs: Refs) -> Entries:
    """Each flag raised on the plan (inactive now: the plan has ended), from its raising to its handling."""
    entries: Entries = []
    for n, flag in enumerate(items, start=1):
        resource: Resource = {
            "resourceType": "Flag",
            "status": "inactive",
            "code": {"text": text_of(first(flag, "label", "kind")) or "Flagga"},
            "subject": refs.to("patient"),
        }
        start, end = iso_time(first(flag, "raised_at", "at")), iso_time(first(flag, "handled_at"))
        if start:
            resource["period"] = {"start": start, **({"end": end} if end else {})}
        entries.append((f"flag/{n}", resource))
    return entries


def activity_plans(plans: list[dict[str, Any]], registrations: list[dict[str, Any]], refs: Refs) -> Entries:
    """Activity plans as CarePlans that are part of the plan; each registration as an Observation with
    one component per measured value."""
    entries: Entries = []
    measurements: dict[str, dict[str, Any]] = {}
    for plan in plans:
        local = f"activity-plan/{text_of(first(plan, 'id')) or len(entries) + 1}"
        measurements |= {text_of(m.get("id")): m for m in plan.get("measurements") or [] if isinstance(m, dict)}
        resource: Resource = {
            "resourceType": "CarePlan",
            "status": "completed",
            "intent": "plan",
            "title": title_of(plan, "Aktivitetsplan"),
            "description": text_of(first(plan, "instructions")) or title_of(plan, "Aktivitetsplan"),
            "subject": refs.to("patient"),
            "partOf": [refs.to("careplan")],
        }
        start = iso_time(first(plan, "start_date"))
        if start:
            resource["period"] = {"start": start}
        entries.append((local, resource))
    titles = {text_of(p.get("id")): title_of(p, "Aktivitetsplan") for p in plans}
    for n, registration in enumerate(registrations, start=1):
        entries.append((f"registration/{n}", _registration(registration, titles, measurements, refs)))
    return entries


def _registration(
    registration: dict[str, Any], titles: dict[str, str], measurements: dict[str, dict[str, Any]], refs: Refs
) -> Resource:
    planned = text_of(registration.get("activity_plan_id"))
    observation: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": titles.get(planned) or title_of(registration, "Registrering")},
        "subject": refs.to("patient"),
        "basedOn": [refs.to(f"activity-plan/{planned}" if planned in titles else "careplan")],
    }
    effective = iso_time(first(registration, "occasion", "registered_at", "at"))
    if effective:
        observation["effectiveDateTime"] = effective
    values = registration.get("values")
    values = values if isinstance(values, dict) else {}
    components = [_component(key, value, measurements.get(key, {})) for key, value in values.items()]
    if components:
        observation["component"] = components
    elif registration.get("skipped"):
        observation["dataAbsentReason"] = {"text": "Överhoppad av patienten"}
    else:
        observation["valueString"] = "Genomförd"
    comment = text_of(first(registration, "comment"))
    if comment:
        observation["note"] = [{"text": comment}]
    return observation


def _component(key: str, value: Any, measurement: dict[str, Any]) -> dict[str, Any]:
    code = {"text": text_of(first(measurement, "title")) or key}
    if isinstance(value, int | float) and not isinstance(value, bool):
        quantity: dict[str, Any] = {"value": value}
        unit = text_of(first(measurement, "unit"))
        return {"code": code, "valueQuantity": quantity | ({"unit": unit} if unit else {})}
    return {"code": code, "valueString": text_of(value)}
