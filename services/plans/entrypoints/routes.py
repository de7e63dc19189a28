"""HTTP routes of the plans service: parse, require a role, dispatch to the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from services.plans.domain import commands
from services.plans.domain.flags import FlagKind
from services.plans.domain.lists import ListFilter, PlanPage, UnitList
from services.plans.domain.program import ProgramImported, ProgramSummary, ProgramVersion
from services.plans.domain.views import PatientPlanView, StaffPlanView
from services.plans.service_layer.access import PlanView
from services.plans.service_layer.service import PlansService
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.web.dependencies import AnyCaller, PatientCaller, get_service, require_staff

router = APIRouter()
Service = Annotated[PlansService, Depends(get_service)]
AnyStaff = Annotated[Staff, require_staff()]
StaffUser = Annotated[Staff, require_staff(Role.THERAPIST, Role.PATIENT_ADMIN)]
Publisher = Annotated[Staff, require_staff(Role.PUBLISHER)]
PatientAdmin = Annotated[Staff, require_staff(Role.PATIENT_ADMIN)]
EITHER_VIEW: dict[str, Any] = {"response_model": PlanView, "tags": ["plans"]}
STAFF_VIEW: dict[str, Any] = {"response_model": StaffPlanView, "tags": ["plans"]}


@router.post(
    "/programs",
    tags=["programs"],
    status_code=status.HTTP_201_CREATED,
    response_model=ProgramImported,
    summary="Publish a program version (200 and created=false for identical content already published)",
)
async def import_program(program: ProgramVersion, svc: Service, response: Response, by: Publisher) -> ProgramImported:
    imported = await svc.catalog.import_program(program, by)
    if not imported.created:
        response.status_code = status.HTTP_200_OK
    return imported


@router.get(
    "/programs", tags=["programs"], response_model=list[ProgramSummary], summary="List published program versions"
)
async def list_programs(svc: Service, _: AnyCaller) -> list[ProgramSummary]:
    return await svc.catalog.catalogue()


@router.get(
    "/programs/{program_id}/versions/{version}",
    tags=["programs"],
    response_model=ProgramVersion,
    summary="One published program version, with its content",
)
async def get_program(program_id: str, version: str, svc: Service, _: AnyStaff) -> ProgramVersion:
    return await svc.catalog.program(program_id, version)


@router.post(
    "/plans",
    status_code=status.HTTP_201_CREATED,
    summary="Start a plan for a patient at the caller's unit",
    **STAFF_VIEW,
)
async def start_plan(command: commands.StartPlan, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.lifecycle.start_plan(command, by)


@router.get("/plans/{plan_id}", summary="The staff view of a plan (ended plans too)", **STAFF_VIEW)
async def get_plan(plan_id: str, svc: Service, by: AnyStaff) -> StaffPlanView:
    return await svc.reads.staff_view(plan_id, by)


@router.get(
    "/plans/{plan_id}/patient-view",
    tags=["plans"],
    response_model=PatientPlanView,
    summary="What the patient sees (the patient, or staff previewing)",
)
async def get_patient_view(plan_id: str, svc: Service, by: AnyCaller) -> PatientPlanView:
    return await svc.reads.patient_view(plan_id, by)


@router.get(
    "/me/plans", tags=["patient"], response_model=list[PatientPlanView], summary="The calling patient's active plans"
)
async def my_plans(svc: Service, patient: PatientCaller) -> list[PatientPlanView]:
    return await svc.reads.patient_plans(patient)


@router.put("/plans/{plan_id}/modules/{module_id}/state", summary="Move a module", **STAFF_VIEW)
async def set_module_state(
    plan_id: str, module_id: str, command: commands.SetModuleState, svc: Service, by: StaffUser
) -> StaffPlanView:
    return await svc.editing.set_module_state(plan_id, module_id, command, by)


@router.put("/plans/{plan_id}/steps/{step_id}/visibility", summary="Show or hide a step", **STAFF_VIEW)
async def set_step_visibility(
    plan_id: str, step_id: str, command: commands.SetStepVisibility, svc: Service, by: StaffUser
) -> StaffPlanView:
    return await svc.editing.set_step_visibility(plan_id, step_id, command, by)


@router.put("/plans/{plan_id}/welcome-text", summary="Individualise (or restore) the welcome text", **STAFF_VIEW)
async def set_welcome_text(
    plan_id: str, command: commands.SetWelcomeText, svc: Service, by: StaffUser
) -> StaffPlanView:
    return await svc.editing.set_welcome_text(plan_id, command, by)


@router.post("/plans/{plan_id}/contacts", status_code=201, summary="Add a contact", **STAFF_VIEW)
async def add_contact(plan_id: str, command: commands.AddContact, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.editing.add_contact(plan_id, command, by)


@router.patch("/plans/{plan_id}/contacts/{contact_id}", summary="Change a contact", **STAFF_VIEW)
async def change_contact(
    plan_id: str, contact_id: str, command: commands.ChangeContact, svc: Service, by: StaffUser
) -> StaffPlanView:
    return await svc.editing.change_contact(plan_id, contact_id, command, by)


@router.delete("/plans/{plan_id}/contacts/{contact_id}", summary="Remove a contact", **STAFF_VIEW)
async def remove_contact(plan_id: str, contact_id: str, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.editing.remove_contact(plan_id, contact_id, by)


@router.post(
    "/plans/{plan_id}/planning", status_code=201, summary="Add a planning entry (staff or the patient)", **EITHER_VIEW
)
async def add_planning(plan_id: str, command: commands.AddPlanningEntry, svc: Service, by: AnyCaller) -> PlanView:
    return await svc.editing.add_planning(plan_id, command, by)


@router.delete(
    "/plans/{plan_id}/planning/{entry_id}",
    summary="Remove a planning entry (staff any, the patient their own)",
    **EITHER_VIEW,
)
async def remove_planning(plan_id: str, entry_id: str, svc: Service, by: AnyCaller) -> PlanView:
    return await svc.editing.remove_planning(plan_id, entry_id, by)


@router.post("/plans/{plan_id}/comments", status_code=201, summary="Comment on a page to the patient", **STAFF_VIEW)
async def add_comment(plan_id: str, command: commands.AddPageComment, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.editing.add_comment(plan_id, command, by)


@router.put("/plans/{plan_id}/responsible", summary="Change the responsible therapist (patient admin)", **STAFF_VIEW)
async def change_responsible(
    plan_id: str, command: commands.ChangeResponsible, svc: Service, by: PatientAdmin
) -> StaffPlanView:
    return await svc.lifecycle.change_responsible(plan_id, command, by)


@router.post("/plans/{plan_id}/end", summary="End a plan (409 if it has ended already)", **STAFF_VIEW)
async def end_plan(plan_id: str, command: commands.EndPlan, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.lifecycle.end_plan(plan_id, command, by)


@router.get(
    "/units/me/plans",
    tags=["lists"],
    response_model=PlanPage,
    summary="The caller's unit lists: mine, all or ended, with flags; filtered and paged",
)
async def unit_list(
    svc: Service,
    by: AnyStaff,
    list: Annotated[UnitList, Query(description="mine, all or ended")] = UnitList.ALL,
    program_id: str | None = None,
    responsible_hsa_id: str | None = None,
    flag: FlagKind | None = None,
    flagged: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 25,
) -> PlanPage:
    filters = ListFilter(program_id=program_id, responsible_hsa_id=responsible_hsa_id, flag=flag, flagged=flagged)
    return await svc.reads.unit_list(list, filters, page, page_size, by)


@router.get(
    "/plans/{plan_id}/fhir",
    tags=["plans"],
    summary="The plan as a FHIR R4 CarePlan",
    response_class=JSONResponse,
    response_model=dict[str, Any],
    responses={200: {"content": {"application/fhir+json": {}}}},
)
async def fhir_care_plan(plan_id: str, svc: Service, by: AnyStaff) -> JSONResponse:
    return JSONResponse(await svc.reads.fhir_care_plan(plan_id, by), media_type="application/fhir+json")
