"""HTTP routes of the plans service: parse, authorise by role, dispatch to the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from services.plans.domain import commands
from services.plans.domain.flags import FlagKind
from services.plans.domain.lists import ListFilter, PlanPage, UnitList
from services.plans.domain.program import ProgramVersion
from services.plans.domain.views import PatientPlanView, StaffPlanView
from services.plans.service_layer.handlers import PlansService
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_principal, get_service, require_patient, require_staff

router = APIRouter()
STAFF_WORKING = require_staff(Role.THERAPIST, Role.PATIENT_ADMIN)
PUBLISHER = require_staff(Role.PUBLISHER)


Service = Annotated[PlansService, Depends(get_service)]
StaffUser = Annotated[Staff, STAFF_WORKING]


@router.post(
    "/programs",
    tags=["programs"],
    status_code=status.HTTP_201_CREATED,
    summary="Publish a program version (idempotent for identical content)",
)
async def import_program(
    program: ProgramVersion, svc: Service, response: Response, by: Annotated[Staff, PUBLISHER]
) -> dict[str, Any]:
    created = await svc.import_program(program, by)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"program_id": program.program_id, "version": program.version, "created": created}


@router.get("/programs", tags=["programs"], summary="List published program versions")
async def list_programs(svc: Service, _: Annotated[Principal, Depends(get_principal)]) -> list[dict[str, Any]]:
    return await svc.programs.list()


@router.get("/programs/{program_id}/versions/{version}", tags=["programs"], response_model=ProgramVersion)
async def get_program(
    program_id: str, version: str, svc: Service, _: Annotated[Staff, require_staff()]
) -> ProgramVersion:
    return await svc.program(program_id, version)


@router.post(
    "/plans",
    tags=["plans"],
    status_code=status.HTTP_201_CREATED,
    response_model=StaffPlanView,
    summary="Start a plan for a patient at the caller's unit",
)
async def start_plan(command: commands.StartPlan, svc: Service, by: StaffUser) -> StaffPlanView:
    return await svc.start_plan(command, by)


@router.get("/plans/{plan_id}", tags=["plans"], response_model=StaffPlanView, summary="The staff view of a plan")
async def get_plan(plan_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> StaffPlanView:
    return await svc.staff_view(plan_id, by)


@router.get(
    "/plans/{plan_id}/patient-view",
    tags=["plans"],
    response_model=PatientPlanView,
    summary="What the patient sees (the patient, or staff previewing)",
)
async def get_patient_view(
    plan_id: str, svc: Service, by: Annotated[Principal, Depends(get_principal)]
) -> PatientPlanView:
    return await svc.patient_view(plan_id, by)


@router.get(
    "/me/plans", tags=["patient"], response_model=list[PatientPlanView], summary="The calling patient's active plans"
)
async def my_plans(svc: Service, patient: Annotated[Patient, Depends(require_patient)]) -> list[PatientPlanView]:
    return await svc.patient_plans(patient)


@router.put("/plans/{plan_id}/modules/{module_id}/state", tags=["plans"], response_model=StaffPlanView)
async def set_module_state(
    plan_id: str, module_id: str, command: commands.SetModuleState, svc: Service, by: StaffUser
) -> Any:
    return await svc.set_module_state(plan_id, module_id, command, by)


@router.put("/plans/{plan_id}/steps/{step_id}/visibility", tags=["plans"], response_model=StaffPlanView)
async def set_step_visibility(
    plan_id: str, step_id: str, command: commands.SetStepVisibility, svc: Service, by: StaffUser
) -> Any:
    return await svc.set_step_visibility(plan_id, step_id, command, by)


@router.put("/plans/{plan_id}/welcome-text", tags=["plans"], response_model=StaffPlanView)
async def set_welcome_text(plan_id: str, command: commands.SetWelcomeText, svc: Service, by: StaffUser) -> Any:
    return await svc.set_welcome_text(plan_id, command, by)


@router.post("/plans/{plan_id}/contacts", tags=["plans"], status_code=201, response_model=StaffPlanView)
async def add_contact(plan_id: str, command: commands.AddContact, svc: Service, by: StaffUser) -> Any:
    return await svc.add_contact(plan_id, command, by)


@router.patch("/plans/{plan_id}/contacts/{contact_id}", tags=["plans"], response_model=StaffPlanView)
async def change_contact(
    plan_id: str, contact_id: str, command: commands.ChangeContact, svc: Service, by: StaffUser
) -> Any:
    return await svc.change_contact(plan_id, contact_id, command, by)


@router.delete("/plans/{plan_id}/contacts/{contact_id}", tags=["plans"], response_model=StaffPlanView)
async def remove_contact(plan_id: str, contact_id: str, svc: Service, by: StaffUser) -> Any:
    return await svc.remove_contact(plan_id, contact_id, by)


@router.post(
    "/plans/{plan_id}/planning",
    tags=["plans"],
    status_code=201,
    response_model=StaffPlanView | PatientPlanView,
    summary="Add a planning entry (staff or the patient)",
)
async def add_planning(
    plan_id: str, command: commands.AddPlanningEntry, svc: Service, by: Annotated[Principal, Depends(get_principal)]
) -> Any:
    return await svc.add_planning(plan_id, command, by)


@router.delete("/plans/{plan_id}/planning/{entry_id}", tags=["plans"], response_model=StaffPlanView | PatientPlanView)
async def remove_planning(
    plan_id: str, entry_id: str, svc: Service, by: Annotated[Principal, Depends(get_principal)]
) -> Any:
    return await svc.remove_planning(plan_id, entry_id, by)


@router.post("/plans/{plan_id}/comments", tags=["plans"], status_code=201, response_model=StaffPlanView)
async def add_comment(plan_id: str, command: commands.AddPageComment, svc: Service, by: StaffUser) -> Any:
    return await svc.add_comment(plan_id, command, by)


@router.put(
    "/plans/{plan_id}/responsible",
    tags=["plans"],
    response_model=StaffPlanView,
    summary="Change the responsible therapist (patient admin)",
)
async def change_responsible(
    plan_id: str,
    command: commands.ChangeResponsible,
    svc: Service,
    by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN)],
) -> Any:
    return await svc.change_responsible(plan_id, command, by)


@router.post("/plans/{plan_id}/end", tags=["plans"], response_model=StaffPlanView, summary="End a plan")
async def end_plan(plan_id: str, command: commands.EndPlan, svc: Service, by: StaffUser) -> Any:
    return await svc.end_plan(plan_id, command, by)


@router.get(
    "/units/me/plans",
    tags=["lists"],
    response_model=PlanPage,
    summary="The caller's unit lists: mine, all or ended, with flags; filtered and paged",
)
async def unit_list(
    svc: Service,
    by: Annotated[Staff, require_staff()],
    list: Annotated[UnitList, Query(description="mine, all or ended")] = UnitList.ALL,
    program_id: str | None = None,
    responsible_hsa_id: str | None = None,
    flag: FlagKind | None = None,
    flagged: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 25,
) -> PlanPage:
    filters = ListFilter(program_id=program_id, responsible_hsa_id=responsible_hsa_id, flag=flag, flagged=flagged)
    return await svc.unit_list(list, filters, page, page_size, by)


@router.get(
    "/plans/{plan_id}/fhir",
    tags=["plans"],
    summary="The plan as a FHIR R4 CarePlan",
    response_class=JSONResponse,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
async def fhir_care_plan(plan_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> JSONResponse:
    return JSONResponse(await svc.fhir_care_plan(plan_id, by), media_type="application/fhir+json")
