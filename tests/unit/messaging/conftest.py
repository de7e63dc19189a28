"""A messaging service over in-memory fakes: one active plan at one unit, a clock that moves when told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.messaging.domain.commands import SendMessage, StartConversation
from services.messaging.domain.model import Message
from services.messaging.service_layer.service import MessagingService
from shared.clock import FixedClock
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.ownership import OwnershipState, PlanOwnership
from tests.fakes import FakeTimers, FakeUnitOfWork, InMemoryOwnershipRepository
from tests.unit.messaging.fakes import InMemoryConversations, InMemoryMessages

UNIT = "SE2321000016-MSG01"
OTHER_UNIT = "SE2321000016-MSG02"
PLAN = "plan-1"
PNR = "191212121212"
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
"""A patient message sent then is due by Thursday 26 November 23:59:59 Stockholm (due soon from 00:00)."""

PATIENT = Patient(personnummer=PNR)
OTHER_PATIENT = Patient(personnummer="198112189876")


def staff(*roles: Role, unit: str = UNIT, hsa_id: str = "SE2321000016-T001") -> Staff:
    return Staff(hsa_id=hsa_id, unit_id=unit, roles=frozenset(roles or (Role.THERAPIST,)), name="Anna Terapeut")


THERAPIST = staff()
COLLEAGUE = staff(hsa_id="SE2321000016-T002")


@dataclass
class World:
    clock: FixedClock
    ownership: InMemoryOwnershipRepository
    conversations: InMemoryConversations
    messages: InMemoryMessages
    timers: FakeTimers
    uow: FakeUnitOfWork
    service: MessagingService

    def add_plan(
        self,
        plan_id: str = PLAN,
        *,
        unit: str = UNIT,
        patient: str = PNR,
        state: OwnershipState = OwnershipState.ACTIVE,
    ) -> PlanOwnership:
        ownership = PlanOwnership(plan_id=plan_id, unit_id=unit, patient_personnummer=patient, state=state)
        self.ownership.items[plan_id] = ownership
        return ownership

    def set_state(self, state: OwnershipState, plan_id: str = PLAN) -> None:
        self.ownership.items[plan_id].state = state

    async def start(self, by: Principal = PATIENT, text: str = "Hej! En fråga.", **fields: object) -> Message:
        command = StartConversation(subject="Fråga om behandlingen", text=text, **fields)
        return await self.service.conversations.start(PLAN, command, by)

    async def write(self, conversation_id: str, by: Principal, text: str = "Svar", **fields: object) -> Message:
        command = SendMessage(text=text, **fields)
        return await self.service.conversations.send(conversation_id, command, by)

    async def fire(self, at: datetime) -> int:
        """Fire the timers due at `at`, as the timer runner does."""
        return await self.timers.fire_due(at, self.uow, self.service.sla.timer_handlers())


@pytest.fixture
def world() -> World:
    clock = FixedClock(MONDAY_MORNING)
    ownership = InMemoryOwnershipRepository()
    conversations, messages, timers = InMemoryConversations(), InMemoryMessages(), FakeTimers()
    uow = FakeUnitOfWork(clock, ownership, conversations, messages, timers)
    service = MessagingService.create(uow, ownership, conversations, messages, timers)
    created = World(clock, ownership, conversations, messages, timers, uow, service)
    created.add_plan()
    return created
