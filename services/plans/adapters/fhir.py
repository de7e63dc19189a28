"""A plan as a FHIR R4 CarePlan, for regional systems."""

from __future__ import annotations

from typing import Any

from services.plans.domain.plan import ModuleState, Plan, PlanStatus
from services.plans.domain.program import ProgramVersion

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
    care_team = {
        "resourceType": "CareTeam",
        "id": "care-team",
        "status": "active" if plan.active else "inactive",
        "participant": [
            {"role": [{"text": c.role_title or "Kontakt"}], "member": {"display": c.name}}
            | ({"onBehalfOf": {"identifier": {"system": HSA_SYSTEM, "value": plan.unit_id}}} if c.responsible else {})
            for c in plan.contacts
        ]
        + [
            {
                "role": [{"text": "Ansvarig behandlare"}],
                "member": {"identifier": {"system": HSA_SYSTEM, "value": plan.responsible_hsa_id}},
            }
        ],
    }
    activities = []
    for module in program.modules:
        state = plan.module(module.id).state
        visible = [s.title for sec in module.sections for s in sec.steps if plan.step_visibility[s.id]]
        activity: dict[str, Any] = {
            "detail": {
                "kind": "Task",
                "code": {
                    "coding": [
                        {
                            "system": f"{PROGRAM_SYSTEM}:{program.program_id}:{program.version}",
                            "code": module.id,
                            "display": module.title,
                        }
                    ]
                },
                "status": _ACTIVITY_STATUS[state],
                "description": module.title,
            },
        }
        if visible:
            activity["progress"] = [{"text": f"Synliga steg: {', '.join(visible)}"}]
        activities.append(activity)
    period: dict[str, str] = {"start": plan.started_at.isoformat()}
    if plan.ended_at:
        period["end"] = plan.ended_at.isoformat()
    return {
        "resourceType": "CarePlan",
        "id": plan.id,
        "contained": [care_team],
        "identifier": [{"system": "urn:careplan:plan", "value": plan.id}],
        "instantiatesUri": [f"{PROGRAM_SYSTEM}:{program.program_id}:{program.version}"],
        "status": "active" if plan.status is PlanStatus.ACTIVE else "completed",
        "intent": "plan",
        "title": plan.program_title,
        "subject": {"identifier": _patient_identifier(plan.patient_personnummer)},
        "period": period,
        "created": plan.started_at.isoformat(),
        "author": {"identifier": {"system": HSA_SYSTEM, "value": plan.started_by}},
        "careTeam": [{"reference": "#care-team"}],
        "activity": activities,
    }
