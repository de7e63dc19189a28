"""HTTP routes for measurement batteries, activity plans and the unit's flag rules: parse, dispatch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response as RawResponse

from services.forms.domain.activity import ActivityPlan, ActivityPlanSpec, Registration, RegistrationInput
from services.forms.domain.battery import Battery, BatterySpec, FlagRule, FlagRuleSpec, StartBattery
from services.forms.entrypoints.routes import SVG
from services.forms.service_layer.service import FormsService
from shared.kernel.principals import Principal, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import PatientCaller, get_principal, get_service, require_staff

router = APIRouter()
Service = Annotated[FormsService, Depends(get_service)]
Caller = Annotated[Principal, Depends(get_principal)]
Therapist = Annotated[Staff, require_staff(Role.THERAPIST, Role.PATIENT_ADMIN)]
AnyStaff = Annotated[Staff, require_staff()]
ACTIVITY_PLAN = "/plans/{plan_id}/activity-plans/{activity_plan_id}"


# -- measurement batteries -------------------------------------------------------------------------
@router.put(
    "/programs/{program_id}/start-battery",
    tags=["batteries"],
    status_code=204,
    summary="A program's start battery, opened for each plan as it starts (designer)",
)
async def set_start_battery(
    program_id: str, battery: StartBattery, svc: Service, _: Annotated[Staff, require_staff(Role.DESIGNER)]
) -> None:
    await svc.batteries.set_start_battery(program_id, battery)


@router.post(
    "/plans/{plan_id}/batteries",
    tags=["batteries"],
    status_code=201,
    response_model=Battery,
    summary="Start an extra measurement now, at a module's start, or on a schedule",
)
async def start_battery(plan_id: str, spec: BatterySpec, svc: Service, by: Therapist) -> Battery:
    return await svc.batteries.start(plan_id, spec, by)


@router.get(
    "/plans/{plan_id}/batteries", tags=["batteries"], response_model=list[Battery], summary="The plan's batteries"
)
async def batteries(plan_id: str, svc: Service, by: AnyStaff) -> list[Battery]:
    return await svc.batteries.of_plan(plan_id, by)


@router.post(
    "/plans/{plan_id}/batteries/{battery_id}/stop",
    tags=["batteries"],
    response_model=Battery,
    summary="Stop a battery: no more occasions or reminders, its open forms close",
)
async def stop_battery(plan_id: str, battery_id: str, svc: Service, by: Therapist) -> Battery:
    return await svc.batteries.stop(plan_id, battery_id, by)


@router.get(
    "/plans/{plan_id}/open-forms",
    tags=["batteries"],
    response_model=dict[str, list[str]],
    summary="The forms the patient may fill in now (form modules, batteries, always-open forms)",
)
async def open_forms(plan_id: str, svc: Service, by: Caller) -> dict[str, list[str]]:
    return await svc.responses.open_forms(plan_id, by)


# -- activity plans ------------------------------------------------------------------------------
@router.post(
    "/plans/{plan_id}/activity-plans",
    tags=["activity plans"],
    status_code=201,
    response_model=ActivityPlan,
    summary="Set up an activity plan: a weekly schedule of occasions with custom measurements",
)
async def create_activity_plan(plan_id: str, spec: ActivityPlanSpec, svc: Service, by: Therapist) -> ActivityPlan:
    return await svc.activities.save(plan_id, spec, by)


@router.put(
    ACTIVITY_PLAN,
    tags=["activity plans"],
    response_model=ActivityPlan,
    summary="Change an activity plan (a new revision)",
)
async def change_activity_plan(
    plan_id: str, activity_plan_id: str, spec: ActivityPlanSpec, svc: Service, by: Therapist
) -> ActivityPlan:
    return await svc.activities.save(plan_id, spec, by, activity_plan_id)


@router.get(
    "/plans/{plan_id}/activity-plans",
    tags=["activity plans"],
    response_model=list[ActivityPlan],
    summary="The plan's activity plans",
)
async def activity_plans(plan_id: str, svc: Service, by: Caller) -> list[ActivityPlan]:
    return await svc.activities.of_plan(plan_id, by)


@router.post(
    f"{ACTIVITY_PLAN}/registrations",
    tags=["activity plans"],
    status_code=201,
    response_model=Registration,
    summary="The patient registers an occasion",
)
async def register(
    plan_id: str, activity_plan_id: str, entry: RegistrationInput, svc: Service, by: PatientCaller
) -> Registration:
    return await svc.activities.register(plan_id, activity_plan_id, entry, by)


@router.get(
    f"{ACTIVITY_PLAN}/registrations",
    tags=["activity plans"],
    response_model=list[Registration],
    summary="The registrations (the patient sees the measurements charted for the patient)",
)
async def registrations(plan_id: str, activity_plan_id: str, svc: Service, by: Caller) -> list[Registration]:
    return await svc.activities.registrations(plan_id, activity_plan_id, by)


@router.get(
    f"{ACTIVITY_PLAN}/measurements/{{measurement_id}}/chart.svg",
    tags=["activity plans"],
    response_class=RawResponse,
    responses=SVG,
    summary="A measurement over time with its target range",
)
async def measurement_chart_svg(
    plan_id: str, activity_plan_id: str, measurement_id: str, svc: Service, by: Caller
) -> RawResponse:
    svg = await svc.activities.chart(plan_id, activity_plan_id, measurement_id, by)
    return RawResponse(svg, media_type="image/svg+xml")


# -- flag rules ----------------------------------------------------------------------------------
@router.post(
    "/units/me/flag-rules",
    tags=["flags"],
    status_code=201,
    response_model=FlagRule,
    summary="A rule for your unit: flag a result in given intervals, or a patient inactive N days",
)
async def add_flag_rule(spec: FlagRuleSpec, svc: Service, by: Therapist) -> FlagRule:
    return await svc.flags.add_rule(spec, by)


@router.get("/units/me/flag-rules", tags=["flags"], response_model=list[FlagRule], summary="Your unit's flag rules")
async def flag_rules(svc: Service, by: AnyStaff) -> list[FlagRule]:
    return await svc.flags.rules(by)


@router.delete("/units/me/flag-rules/{rule_id}", tags=["flags"], status_code=204, summary="Stop a flag rule")
async def delete_flag_rule(rule_id: str, svc: Service, by: Therapist) -> None:
    await svc.flags.delete_rule(rule_id, by)
