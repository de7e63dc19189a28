"""An export as a FHIR R4 Bundle (type `collection`) for the journal: the Patient, the plan as a
CarePlan (program and version, modules as activities with their visible steps, welcome text,
contacts, planning, page comments, period and end reason), then every record of the plan (see
`fhir_records`). Entries refer to each other by `urn:uuid` full URLs that are stable per export."""

from __future__ import annotations

from typing import Any

from services.retention.domain import fhir_forms
from services.retention.domain import fhir_records as records
from services.retention.domain.export_document import ExportDocument
from services.retention.domain.export_fields import describe_comment, describe_planning, first, text_of, time_of
from shared.contracts.export import PlanModulePart, PlanPart

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"
PROGRAM_SYSTEM = "urn:careplan:program"
EXPORT_SYSTEM = "urn:careplan:export"
_MODULE_STATUS = {"current": "in-progress", "upcoming": "not-started", "completed": "completed"}


def export_bundle(doc: ExportDocument) -> dict[str, Any]:
    """The whole export as one Bundle (a plain dict: JSON as FHIR defines it)."""
    refs = records.Refs(doc.export_id)
    entries: records.Entries = [("patient", patient(doc.plan)), ("careplan", care_plan(doc, refs))]
    entries += records.communications(doc.messaging.conversations, refs, doc.unit_id)
    entries += fhir_forms.form_responses(doc.forms.responses, refs)
    entries += fhir_forms.flags(doc.forms.flags, refs)
    entries += fhir_forms.activity_plans(doc.forms.activity_plans, doc.forms.registrations, refs)
    entries += records.notifications(doc.notifications.notifications, refs)
    entries += records.handovers(doc.handover.handovers, refs, doc.completed_at)
    entries += records.audit_events(doc.audit_by_service(), refs, doc.completed_at)
    return {
        "resourceType": "Bundle",
        "id": doc.export_id,
        "identifier": {"system": EXPORT_SYSTEM, "value": doc.export_id},
        "type": "collection",
        "timestamp": doc.completed_at.isoformat(),
        "entry": [{"fullUrl": refs.url(local), "resource": resource} for local, resource in entries],
    }


def patient_identifier(personnummer: str) -> dict[str, str]:
    """A personnummer, or a samordningsnummer (day of birth + 60), with its Swedish identifier system."""
    coordination = len(personnummer) >= 8 and personnummer[6:8].isdigit() and int(personnummer[6:8]) > 60
    return {"system": SAMORDNINGSNUMMER_SYSTEM if coordination else PERSONNUMMER_SYSTEM, "value": personnummer}


def patient(plan: PlanPart) -> dict[str, Any]:
    """The patient: identifier and name ("Family, Given" is split, any other form kept as text)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [patient_identifier(plan.patient_personnummer)],
    }
    name = plan.patient_name.strip()
    if name:
        human: dict[str, Any] = {"text": name}
        family, comma, given = name.partition(",")
        if comma and family.strip() and given.strip():
            human |= {"family": family.strip(), "given": given.split()}
        resource["name"] = [human]
    return resource


def care_plan(doc: ExportDocument, refs: records.Refs) -> dict[str, Any]:
    """The plan: its program, period, modules (activities), welcome text, contacts and notes."""
    plan = doc.plan
    instantiates = f"{PROGRAM_SYSTEM}:{plan.program_id}:{plan.program_version}"
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "contained": [_care_team(plan)],
        "identifier": [{"system": "urn:careplan:plan", "value": doc.plan_id}],
        "instantiatesUri": [instantiates],
        "status": "completed" if plan.ended_at else "active",
        "intent": "plan",
        "title": plan.program_title or plan.program_id,
        "subject": refs.to("patient"),
        "period": _period(plan),
        "created": plan.started_at.isoformat(),
        "careTeam": [{"reference": "#care-team"}],
        "activity": [_activity(module, instantiates) for module in plan.modules],
    }
    if plan.started_by:
        resource["author"] = {"identifier": {"system": records.HSA_SYSTEM, "value": plan.started_by}}
    if plan.welcome_text.strip():
        resource["description"] = plan.welcome_text
    notes = _notes(plan)
    if notes:
        resource["note"] = notes
    return resource


def _period(plan: PlanPart) -> dict[str, str]:
    period = {"start": plan.started_at.isoformat()}
    if plan.ended_at:
        period["end"] = plan.ended_at.isoformat()
    return period


def _care_team(plan: PlanPart) -> dict[str, Any]:
    """The contacts the patient saw in the plan (names and roles; the unit as their organisation)."""
    participants = [
        {
            "role": [{"text": text_of(first(c, "role_title", "role")) or "Kontakt"}],
            "member": {"display": text_of(first(c, "name", "title")) or "Kontakt"},
        }
        for c in plan.contacts
    ]
    team: dict[str, Any] = {"resourceType": "CareTeam", "id": "care-team", "status": "inactive"}
    if participants:
        team["participant"] = participants
    return team


def _activity(module: PlanModulePart, code_system: str) -> dict[str, Any]:
    """One module as a task: its state, and each visible step (title and text) as a progress note."""
    activity: dict[str, Any] = {
        "detail": {
            "kind": "Task",
            "code": {"coding": [{"system": code_system, "code": module.module_id, "display": module.title}]},
            "status": _MODULE_STATUS.get(module.state, "unknown"),
            "description": module.title,
        }
    }
    steps = [_step_text(step) for step in module.visible_steps]
    if steps:
        activity["progress"] = [{"text": text} for text in steps]
    return activity


def _step_text(step: dict[str, Any]) -> str:
    title = text_of(first(step, "title", "step_id", "id")) or "Steg"
    body = text_of(first(step, "text", "visible_text", "body"))
    return f"{title}: {body}" if body else title


def _notes(plan: PlanPart) -> list[dict[str, Any]]:
    """The end reason, the planning and the page comments as the plan's notes."""
    notes: list[dict[str, Any]] = []
    if plan.end_reason:
        notes.append(
            _annotation(f"Planen avslutades ({plan.end_reason})", plan.ended_at.isoformat() if plan.ended_at else None)
        )
    for item in plan.planning:
        notes.append(_annotation(f"Planering: {describe_planning(item)}", time_of(item)))
    for comment in plan.page_comments:
        notes.append(_annotation(f"Kommentar: {describe_comment(comment)}", time_of(comment)))
    return notes


def _annotation(text: str, time: str | None) -> dict[str, Any]:
    note: dict[str, Any] = {"text": text}
    if time:
        note["time"] = time
    return note
