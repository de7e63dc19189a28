"""A plan as a FHIR R4 CarePlan, for regional systems."""

from __future__ import annotations

from typing import Any

from services.plans.domain.content import Contact
from services.plans.domain.plan import ModuleState, Plan, PlanStatus
from services.plans.domain.program import Module, ProgramVersion

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"
HSA_SYSTEM = "urn:oid:1.2.752.129.2.1.4.1"
PROGRAM_SYSTEM = "urn:careplan:program"
_ACTIVITY_STATUS = {
    ModuleState.CURRENT: "in-progress",
    ModuleState.UPCOMING: "not-started",
    ModuleState.COMPLETED: "completed",
}


def _patient_identifier(personnummer: str) -> dict[str, str]:
    coordination = int(personnummer[6:8]) > 60  # samordningsnummer: day of birth + 60
    return {"system": SAMORDNINGSNUMMER_SYSTEM if coordination else PERSONNUMMER_SYSTEM, "value": personnummer}


def care_plan(plan: Plan, program: ProgramVersion) -> dict[str, Any]:
    """CarePlan with one activity per module (its state, visible steps as notes) and the contacts as care team."""
    instantiates = f"{PROGRAM_SYSTEM}:{program.program_id}:{program.version}"
    return {
        "resourceType": "CarePlan",
        "id": plan.id,
        "contained": [_care_team(plan)],
        "identifier": [{"system": "urn:careplan:plan", "value": plan.id}],
        "instantiatesUri": [instantiates],
        "status": "active" if plan.status is PlanStatus.ACTIVE else "completed",
        "intent": "plan",
        "title": plan.program_title,
        "subject": {"identifier": _patient_identifier(plan.patient_personnummer)},
        "period": _period(plan),
        "created": plan.started_at.isoformat(),
        "author": {"identifier": {"system": HSA_SYSTEM, "value": plan.started_by}},
        "careTeam": [{"reference": "#care-team"}],
        "activity": [_activity(plan, module, instantiates) for module in program.modules],
    }


def _care_team(plan: Plan) -> dict[str, Any]:
    """The contacts (a responsible one on behalf of the unit) and the responsible therapist."""
    responsible = {
        "role": [{"text": "Ansvarig behandlare"}],
        "member": {"identifier": {"system": HSA_SYSTEM, "value": plan.responsible_hsa_id}},
    }
    return {
        "resourceType": "CareTeam",
        "id": "care-team",
        "status": "active" if plan.active else "inactive",
        "participant": [_participant(plan, c) for c in plan.contacts] + [responsible],
    }


def _participant(plan: Plan, contact: Contact) -> dict[str, Any]:
    participant: dict[str, Any] = {
        "role": [{"text": contact.role_title or "Kontakt"}],
        "member": {"display": contact.name},
    }
    if contact.responsible:
        participant["onBehalfOf"] = {"identifier": {"system": HSA_SYSTEM, "value": plan.unit_id}}
    return participant


def _activity(plan: Plan, module: Module, code_system: str) -> dict[str, Any]:
    """One module as a task: its state, and its visible steps as a progress note."""
    activity: dict[str, Any] = {
        "detail": {
            "kind": "Task",
            "code": {"coding": [{"system": code_system, "code": module.id, "display": module.title}]},
            "status": _ACTIVITY_STATUS[plan.module(module.id).state],
            "description": module.title,
        },
    }
    visible = [s.title for sec in module.sections for s in sec.steps if plan.step_visibility[s.id]]
    if visible:
        activity["progress"] = [{"text": f"Synliga steg: {', '.join(visible)}"}]
    return activity


def _period(plan: Plan) -> dict[str, str]:
    period = {"start": plan.started_at.isoformat()}
    if plan.ended_at:
        period["end"] = plan.ended_at.isoformat()
    return period
