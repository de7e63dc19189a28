"""The plans service over in-memory fakes: a fixed clock, one published program, staff and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.plans.domain import commands
from services.plans.domain.program import Module, ProgramVersion, Section, Step, StepContent
from services.plans.domain.views import StaffPlanView
from services.plans.service_layer.service import PlansService
from shared.clock import FixedClock
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from tests.fakes import FakeUnitOfWork, InMemoryOwnershipRepository
from tests.unit.plans.fakes import InMemoryPlanRepository, InMemoryProgramRepository
from tests.unit.plans.transfer_fakes import InMemoryActiveKeys, InMemoryUnitPrograms

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNIT, OTHER_UNIT = "SE2321000016-UNIT", "SE2321000016-OTHR"
PNR, OTHER_PNR = "194107086995", "191212121212"
THERAPIST = Staff(hsa_id="SE2321000016-T001", unit_id=UNIT, roles=frozenset({Role.THERAPIST}), name="Tera Pist")
COLLEAGUE = Staff(hsa_id="SE2321000016-T002", unit_id=UNIT, roles=frozenset({Role.THERAPIST}), name="Kol Lega")
PATIENT_ADMIN = Staff(hsa_id="SE2321000016-A001", unit_id=UNIT, roles=frozenset({Role.PATIENT_ADMIN}))
PUBLISHER = Staff(hsa_id="SE2321000016-P001", unit_id=UNIT, roles=frozenset({Role.PUBLISHER}))
ELSEWHERE = Staff(hsa_id="SE2321000016-T009", unit_id=OTHER_UNIT, roles=frozenset({Role.THERAPIST}))
PATIENT = Patient(personnummer=PNR)
OTHER_PATIENT = Patient(personnummer=OTHER_PNR)

PROGRAM = ProgramVersion(
    program_id="prog",
    version="1.0",
    title="Programmet",
    welcome_text="Välkommen",
    modules=[
        Module(
            id="intro",
            title="Introduktion",
            current_at_start=True,
            sections=[
                Section(
                    id="s-intro",
                    title="Om dig",
                    steps=[
                        Step(id="welcome", title="Hej", content=StepContent(form_ref="what-matters")),
                        Step(id="later", title="Senare", visible_at_start=False),
                    ],
                )
            ],
        ),
        Module(
            id="treatment",
            title="Behandling",
            recommended_days=30,
            form_module=True,
            sections=[
                Section(
                    id="s-treat",
                    title="Mätning",
                    steps=[Step(id="distress", title="Distress", content=StepContent(form_ref="distress"))],
                )
            ],
        ),
    ],
)


@dataclass
class World:
    clock: FixedClock
    uow: FakeUnitOfWork
    programs: InMemoryProgramRepository
    plans: InMemoryPlanRepository
    ownership: InMemoryOwnershipRepository
    service: PlansService

    async def start(self, by: Staff = THERAPIST, personnummer: str = PNR, **extra: object) -> StaffPlanView:
        command = commands.StartPlan.model_validate(
            {
                "personnummer": personnummer,
                "patient_name": "Patient, Pia",
                "program_id": PROGRAM.program_id,
                "program_version": PROGRAM.version,
                **extra,
            }
        )
        return await self.service.lifecycle.start_plan(command, by)


@pytest.fixture
async def world() -> World:
    clock = FixedClock(NOW)
    programs, plans, ownership = InMemoryProgramRepository(), InMemoryPlanRepository(), InMemoryOwnershipRepository()
    uow = FakeUnitOfWork(clock, programs, plans, ownership)
    await programs.add(PROGRAM, published_by=PUBLISHER.hsa_id, now=NOW, session=None)
    units, keys = InMemoryUnitPrograms(), InMemoryActiveKeys(plans)
    uow.track(units)
    service = PlansService(uow, programs, plans, plans, ownership, units, keys)
    return World(clock, uow, programs, plans, ownership, service)
