"""HTTP routes for measurement batteries, activity plans and the unit's flag rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response as RawResponse

from services.forms.adapters.chart import measurement_chart
from services.forms.domain.activity import (
    ActivityPlan,
    ActivityPlanSpec,
    Registration,
    RegistrationInput,
)
from services.forms.domain.battery import (
    Battery,
    BatterySpec,
    FlagRule,
    FlagRuleSpec,
    StartBattery,
)
from services.forms.service_layer.handlers import FormsService
from shared.kernel.errors import NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.web.dependencies import get_principal, get_service, require_patient, require_staff

router = APIRouter()
Service = Annotated[FormsService, Depends(get_service)]
Caller = Annotated[Principal, Depends(get_principal)]
Therapist = Annotated[Staff, require_staff(Role.THERAPIST, Role.PATIENT_ADMIN)]


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
    return await svc.batteries.start(await svc.plan_for(plan_id, by), spec, by)


@router.get("/plans/{plan_id}/batteries", tags=["batteries"], response_model=list[Battery])
async def batteries(plan_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> list[Battery]:
    await svc.plan_for(plan_id, by)
    return await svc.batteries.of_plan(plan_id)


@router.post("/plans/{plan_id}/batteries/{battery_id}/stop", tags=["batteries"], response_model=Battery)
async def stop_battery(plan_id: str, battery_id: str, svc: Service, by: Therapist) -> Battery:
    return await svc.batteries.stop(await svc.plan_for(plan_id, by), battery_id, by)


@router.get(
    "/plans/{plan_id}/open-forms",
    tags=["batteries"],
    summary="The forms the patient may fill in now (form modules, batteries, always-open forms)",
)
async def open_forms(plan_id: str, svc: Service, by: Caller) -> dict[str, list[str]]:
    plan = await svc.plan_for(plan_id, by)
    return {key: forms for key, forms in plan.current_forms.items() if forms}


# -- activity plans ------------------------------------------------------------------------------
@router.post("/plans/{plan_id}/activity-plans", tags=["activity plans"], status_code=201, response_model=ActivityPlan)
async def create_activity_plan(plan_id: str, spec: ActivityPlanSpec, svc: Service, by: Therapist) -> ActivityPlan:
    return await svc.activities.save(await svc.plan_for(plan_id, by), spec, by)


@router.put(
    "/plans/{plan_id}/activity-plans/{activity_plan_id}",
    tags=["activity plans"],
    response_model=ActivityPlan,
    summary="Change an activity plan (a new revision)",
)
async def change_activity_plan(
    plan_id: str, activity_plan_id: str, spec: ActivityPlanSpec, svc: Service, by: Therapist
) -> ActivityPlan:
    return await svc.activities.save(await svc.plan_for(plan_id, by), spec, by, activity_plan_id)


@router.get("/plans/{plan_id}/activity-plans", tags=["activity plans"], response_model=list[ActivityPlan])
async def activity_plans(plan_id: str, svc: Service, by: Caller) -> list[ActivityPlan]:
    return await svc.activities.of_plan(await svc.plan_for(plan_id, by))


@router.post(
    "/plans/{plan_id}/activity-plans/{activity_plan_id}/registrations",
    tags=["activity plans"],
    status_code=201,
    response_model=Registration,
    summary="The patient registers an occasion",
)
async def register(
    plan_id: str,
    activity_plan_id: str,
    entry: RegistrationInput,
    svc: Service,
    by: Annotated[Patient, Depends(require_patient)],
) -> Registration:
    return await svc.activities.register(await svc.plan_for(plan_id, by), activity_plan_id, entry, by)


@router.get(
    "/plans/{plan_id}/activity-plans/{activity_plan_id}/registrations",
    tags=["activity plans"],
    response_model=list[Registration],
)
async def registrations(plan_id: str, activity_plan_id: str, svc: Service, by: Caller) -> list[Registration]:
    plan = await svc.plan_for(plan_id, by)
    return await svc.activities.registrations(plan, activity_plan_id, for_patient=isinstance(by, Patient))


@router.get(
    "/plans/{plan_id}/activity-plans/{activity_plan_id}/measurements/{measurement_id}/chart.svg",
    tags=["activity plans"],
    response_class=RawResponse,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="A measurement over time with its target range",
)
async def measurement_chart_svg(
    plan_id: str, activity_plan_id: str, measurement_id: str, svc: Service, by: Caller
) -> RawResponse:
    plan = await svc.plan_for(plan_id, by)
    activity = await svc.activities.get(plan, activity_plan_id)
    measurement = activity.measurement(measurement_id)
    charted = measurement and (measurement.chart_patient if isinstance(by, Patient) else measurement.chart_staff)
    if not measurement or not charted:
        raise NotFound(f"no chart of {measurement_id!r} for you", field="measurement_id")
    points = [
        (r.occasion, r.values[measurement_id])
        for r in await svc.activities.registrations(plan, activity_plan_id, for_patient=False)
        if measurement_id in r.values
    ]
    return RawResponse(measurement_chart(measurement, points), media_type="image/svg+xml")


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


@router.get("/units/me/flag-rules", tags=["flags"], response_model=list[FlagRule])
async def flag_rules(svc: Service, by: Annotated[Staff, require_staff()]) -> list[FlagRule]:
    return await svc.flags.rules(by)


@router.delete("/units/me/flag-rules/{rule_id}", tags=["flags"], status_code=204)
async def delete_flag_rule(rule_id: str, svc: Service, by: Therapist) -> None:
    await svc.flags.delete_rule(rule_id, by)
