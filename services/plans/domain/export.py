"""The plans service's part of a plan's export for the journal: the plan as its care team and patient
saw it (program, modules with their visible content and states, welcome text, contacts, planning,
page comments), who it was for, and when and why it ended."""

from __future__ import annotations

from typing import Any

from services.plans.domain.plan import Plan
from services.plans.domain.program import Module, ProgramVersion
from shared.contracts.export import AuditSummary, PlanModulePart, PlanPart


def plan_part(plan: Plan, program: ProgramVersion, audit: AuditSummary) -> PlanPart:
    """The part, in the program's module order; only steps that are visible on the plan."""
    return PlanPart(
        program_id=plan.program_id,
        program_version=plan.program_version,
        program_title=plan.program_title or program.title,
        unit_id=plan.unit_id,
        patient_personnummer=plan.patient_personnummer,
        patient_name=plan.patient_name,
        protected_identity=plan.protected_identity,
        responsible_hsa_id=plan.responsible_hsa_id,
        started_by=plan.started_by,
        started_at=plan.started_at,
        ended_at=plan.ended_at,
        ended_by=plan.ended_by.model_dump(mode="json") if plan.ended_by else None,
        end_reason=plan.end_reason,
        welcome_text=plan.welcome_text or program.welcome_text,
        modules=[_module(plan, module) for module in program.modules],
        contacts=[c.model_dump(mode="json") for c in plan.contacts],
        planning=[e.model_dump(mode="json") for e in plan.planning],
        page_comments=[c.model_dump(mode="json") for c in plan.comments],
        audit=audit,
    )


def _module(plan: Plan, module: Module) -> PlanModulePart:
    state = plan.module(module.id)
    return PlanModulePart(
        module_id=module.id,
        title=module.title,
        state=state.state.value,
        state_changed_at=state.state_changed_at,
        visible_steps=_visible_steps(plan, module),
    )


def _visible_steps(plan: Plan, module: Module) -> list[dict[str, Any]]:
    return [
        {
            "id": step.id,
            "section_id": section.id,
            "section_title": section.title,
            "title": step.title,
            "text": step.content.markdown,
            "links": [str(link) for link in step.content.links],
            "media": list(step.content.media),
            "form_ref": step.content.form_ref,
        }
        for section in module.sections
        for step in section.steps
        if plan.step_visibility.get(step.id, False)
    ]
