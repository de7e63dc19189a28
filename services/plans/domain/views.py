"""Read projections of a plan: the staff view (everything, with counts) and the patient's view."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from services.plans.domain.content import Contact, PageComment, PlanningEntry
from services.plans.domain.plan import RETENTION_DAYS, ModuleState, Plan
from services.plans.domain.program import Module, ProgramVersion, StepContent


class Progress(BaseModel):
    """The progress meter: days since start against the 730-day limit."""

    days_since_start: int
    limit_days: int = RETENTION_DAYS
    days_left: int
    purge_due: date


class StepView(BaseModel):
    id: str
    title: str
    visible: bool
    content: StepContent


class SectionView(BaseModel):
    id: str
    title: str
    visible_steps: int
    total_steps: int
    steps: list[StepView]


class ModuleView(BaseModel):
    id: str
    title: str
    state: ModuleState
    form_module: bool
    recommended_days: int | None
    days_left: int | None
    visible_steps: int
    total_steps: int
    sections: list[SectionView]


def progress(plan: Plan, now: datetime) -> Progress:
    days = plan.days_since_start(now)
    return Progress(
        days_since_start=days,
        days_left=max(0, RETENTION_DAYS - days),
        purge_due=(plan.started_at + timedelta(days=RETENTION_DAYS)).date(),
    )


def _module_view(plan: Plan, module: Module, now: datetime, *, only_visible: bool) -> ModuleView:
    state = plan.module(module.id)
    sections = []
    for section in module.sections:
        steps = [
            StepView(id=s.id, title=s.title, visible=plan.step_visibility[s.id], content=s.content)
            for s in section.steps
        ]
        visible = sum(1 for s in steps if s.visible)
        if only_visible:
            if visible == 0:
                continue
            steps = [s for s in steps if s.visible]
        sections.append(
            SectionView(
                id=section.id, title=section.title, visible_steps=visible, total_steps=len(section.steps), steps=steps
            )
        )
    days_left = None
    if module.recommended_days is not None and state.state is ModuleState.CURRENT:
        days_left = max(0, module.recommended_days - (now - state.state_changed_at).days)
    total = sum(len(s.steps) for s in module.sections)
    visible_total = sum(1 for s in module.sections for st in s.steps if plan.step_visibility[st.id])
    return ModuleView(
        id=module.id,
        title=module.title,
        state=state.state,
        form_module=module.form_module,
        recommended_days=module.recommended_days,
        days_left=days_left,
        visible_steps=visible_total,
        total_steps=total,
        sections=sections,
    )


class StaffPlanView(BaseModel):
    """Everything about a plan, for the unit's staff."""

    id: str
    revision: int
    unit_id: str
    status: str
    patient_personnummer: str
    patient_name: str
    protected_identity: bool
    program_id: str
    program_version: str
    program_title: str
    responsible_hsa_id: str
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    last_active_at: datetime | None
    welcome_text: str
    welcome_text_individual: bool
    progress: Progress
    modules: list[ModuleView]
    contacts: list[Contact]
    planning: list[PlanningEntry]
    comments: list[PageComment]


class PatientStepView(BaseModel):
    id: str
    title: str
    content: StepContent


class PatientSectionView(BaseModel):
    id: str
    title: str
    steps: list[PatientStepView]


class PatientModuleView(BaseModel):
    id: str
    title: str
    form_module: bool
    sections: list[PatientSectionView]


def _patient_module(view: ModuleView) -> PatientModuleView:
    return PatientModuleView(
        id=view.id,
        title=view.title,
        form_module=view.form_module,
        sections=[
            PatientSectionView(
                id=s.id,
                title=s.title,
                steps=[PatientStepView(id=st.id, title=st.title, content=st.content) for st in s.steps],
            )
            for s in view.sections
        ],
    )


class PatientPlanView(BaseModel):
    """What the patient sees: current modules only, visible steps only, no empty sections, no staff fields."""

    id: str
    program_title: str
    status: str
    started_at: datetime
    welcome_text: str
    progress: Progress
    modules: list[PatientModuleView]
    contacts: list[Contact]
    planning: list[PlanningEntry]
    comments: list[PageComment]


def staff_view(plan: Plan, program: ProgramVersion, now: datetime) -> StaffPlanView:
    return StaffPlanView(
        **plan.model_dump(
            include={
                "id",
                "revision",
                "unit_id",
                "patient_personnummer",
                "patient_name",
                "protected_identity",
                "program_id",
                "program_version",
                "program_title",
                "responsible_hsa_id",
                "started_by",
                "started_at",
                "ended_at",
                "last_active_at",
                "contacts",
                "planning",
                "comments",
            }
        ),
        status=plan.status.value,
        welcome_text=plan.welcome_text or program.welcome_text,
        welcome_text_individual=plan.welcome_text is not None,
        progress=progress(plan, now),
        modules=[_module_view(plan, m, now, only_visible=False) for m in program.modules],
    )


def patient_view(plan: Plan, program: ProgramVersion, now: datetime) -> PatientPlanView:
    current = [m for m in program.modules if plan.module(m.id).state is ModuleState.CURRENT]
    pages = {m.id for m in current} | {
        s.id for m in current for s in m.sections if any(plan.step_visibility[st.id] for st in s.steps)
    }
    return PatientPlanView(
        id=plan.id,
        program_title=plan.program_title,
        status=plan.status.value,
        started_at=plan.started_at,
        welcome_text=plan.welcome_text or program.welcome_text,
        progress=progress(plan, now),
        modules=[_patient_module(_module_view(plan, m, now, only_visible=True)) for m in current],
        contacts=[c.model_copy(update={"created_by": ""}) for c in plan.contacts],
        planning=[e.model_copy(update={"created_by": ""}) for e in plan.planning],
        comments=[c.model_copy(update={"created_by": ""}) for c in plan.comments if c.page_id in pages],
    )
