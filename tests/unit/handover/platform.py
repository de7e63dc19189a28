"""The handover saga across services, in one process: the real plans transfer, the real handover
service and every participant's real ownership projector, each over in-memory fakes with its own
unit of work, wired by the real subscription lists and joined by an in-memory log per topic.

Each service reads each topic at its own pace (`deliver` moves one service one event on one topic),
so a test can interleave deliveries as Kafka may (in order per topic, in any order across topics and
services), and check the ownership copies after every step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.handover.domain.commands import AcceptHandover, ConsentInput, DeclineHandover, InitiateHandover
from services.handover.domain.views import HandoverView
from services.handover.entrypoints.consumers import confirmation_subscriptions, plan_subscriptions
from services.handover.service_layer.ports import HandoverPolicy, Stores
from services.handover.service_layer.service import HandoverService
from services.plans.domain import commands as plan_commands
from services.plans.domain.program import Module, ProgramVersion, Section, Step
from services.plans.domain.units import DeclarePrograms, ProgramVersionRef
from services.plans.entrypoints.consumers import handover_subscriptions
from services.plans.service_layer.service import PlansService
from shared.clock import FixedClock
from shared.contracts import forms, messaging, notifications, retention
from shared.contracts.handover import ConsentMethod
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.messaging.consumer import Subscription
from shared.messaging.events import EVENT_TYPES, Event, ReceivedEvent
from shared.ownership import OwnershipProjector, OwnershipState, PlanOwnership
from tests.fakes import FakeTimers, FakeUnitOfWork, InMemoryOwnershipRepository
from tests.unit.handover.fakes import InMemoryHandovers, InMemoryUnitPrograms
from tests.unit.plans.fakes import InMemoryPlanRepository, InMemoryProgramRepository
from tests.unit.plans.transfer_fakes import InMemoryActiveKeys
from tests.unit.plans.transfer_fakes import InMemoryUnitPrograms as PlansUnitPrograms

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
UNITS = ("SE2321000016-AAAA", "SE2321000016-BBBB", "SE2321000016-CCCC")
OTHER_VERSION_UNIT = "SE2321000016-VVVV"
PNR = "194107086995"
PROGRAM = ProgramVersion(
    program_id="mvp-brost",
    version="1.0",
    title="Min vårdplan bröstcancer",
    welcome_text="Välkommen",
    modules=[
        Module(
            id="m1",
            title="Start",
            current_at_start=True,
            sections=[Section(id="s1", title="S", steps=[Step(id="st1", title="Hej")])],
        )
    ],
)
PARTICIPANTS = {
    "messaging": messaging.TransferApplied,
    "forms": forms.TransferApplied,
    "notifications": notifications.TransferApplied,
    "retention": retention.TransferApplied,
}


def therapist(unit: str) -> Staff:
    return Staff(hsa_id=f"{unit}-T1", unit_id=unit, roles=frozenset({Role.THERAPIST}))


def patient_admin(unit: str) -> Staff:
    return Staff(hsa_id=f"{unit}-A1", unit_id=unit, roles=frozenset({Role.PATIENT_ADMIN}))


@dataclass
class Node:
    """One service's consumers: what it subscribes to, its unit of work, where it is on each topic."""

    name: str
    uow: FakeUnitOfWork
    subscriptions: list[Subscription]
    topics: set[str]
    cursors: dict[str, int] = field(default_factory=dict)
    relayed: int = 0

    def handles(self, ce_type: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.ce_type == ce_type]


class Platform:
    def __init__(self, policy: HandoverPolicy | None = None) -> None:
        self.clock = FixedClock(NOW)
        self.log: dict[str, list[Event]] = {}
        self.nodes: list[Node] = []
        self._plans_side()
        self._handover_side(policy or HandoverPolicy())
        self.copies: dict[str, InMemoryOwnershipRepository] = {"plans": self.plan_ownership}
        self.copies["handover"] = self.handover_ownership
        for service, confirm in PARTICIPANTS.items():
            repo = InMemoryOwnershipRepository()
            self.copies[service] = repo
            self._node(service, FakeUnitOfWork(self.clock, repo), OwnershipProjector(repo, confirm).subscriptions())

    def _plans_side(self) -> None:
        self.programs, self.plans = InMemoryProgramRepository(), InMemoryPlanRepository()
        self.plan_ownership, units = InMemoryOwnershipRepository(), PlansUnitPrograms()
        uow = FakeUnitOfWork(self.clock, self.programs, self.plans, self.plan_ownership, units)
        self.plans_service = PlansService(
            uow, self.programs, self.plans, self.plans, self.plan_ownership, units, InMemoryActiveKeys(self.plans)
        )
        self.plans_node = self._node("plans", uow, handover_subscriptions(self.plans_service.transfers))

    def _handover_side(self, policy: HandoverPolicy) -> None:
        self.handover_ownership, self.timers = InMemoryOwnershipRepository(), FakeTimers()
        self.handovers, units = InMemoryHandovers(), InMemoryUnitPrograms()
        uow = FakeUnitOfWork(self.clock, self.handovers, units, self.handover_ownership, self.timers)
        stores = Stores(handovers=self.handovers, units=units, ownership=self.handover_ownership, timers=self.timers)
        self.handover = HandoverService(uow, stores, policy)
        subscriptions = [*plan_subscriptions(self.handover), *confirmation_subscriptions(self.handover)]
        self.handover_node = self._node("handover", uow, subscriptions)

    def _node(self, name: str, uow: FakeUnitOfWork, subscriptions: list[Subscription]) -> Node:
        topics = {EVENT_TYPES[s.ce_type].topic.name for s in subscriptions}
        node = Node(name, uow, subscriptions, topics, dict.fromkeys(topics, 0))
        self.nodes.append(node)
        return node

    # -- moving events -------------------------------------------------------------------------

    def relay(self) -> None:
        """What every service committed goes onto its topic (the outbox relay)."""
        for node in self.nodes:
            for event in node.uow.published[node.relayed :]:
                self.log.setdefault(event.topic.name, []).append(event)
            node.relayed = len(node.uow.published)

    def pending(self) -> list[tuple[Node, str]]:
        self.relay()
        return [(n, t) for n in self.nodes for t in sorted(n.topics) if n.cursors[t] < len(self.log.get(t, []))]

    async def deliver(self, node: Node, topic: str) -> None:
        """One service reads the next event of one topic (all its handlers in one transaction)."""
        event = self.log[topic][node.cursors[topic]]
        handlers = node.handles(event.ce_type)
        if handlers:
            data = event.model_dump(mode="json")
            received = ReceivedEvent(str(uuid.uuid4()), event.ce_type, "/test", NOW, event.partition_key(), data)

            async def work(tx: Any) -> None:
                for s in handlers:
                    await s.handler(s.payload_model.model_validate(data), received, tx)

            await node.uow.run(work)
        node.cursors[topic] += 1
        self.relay()

    async def settle(self) -> None:
        """Deliver everything, service by service, until nothing is left."""
        while pending := self.pending():
            await self.deliver(*pending[0])

    async def fire_timers(self, after: timedelta) -> None:
        self.clock.advance(after)
        await self.timers.fire_due(self.clock.now(), self.handover_node.uow, self.handover.timer_handlers())
        self.relay()

    # -- what users do -------------------------------------------------------------------------

    async def start(self, version_units: tuple[str, ...] = UNITS) -> str:
        """A plan at the first unit; every unit in `version_units` runs its version."""
        by = therapist(UNITS[0])
        await self.programs.add(PROGRAM, published_by=by.hsa_id, now=NOW, session=None)
        refs = [ProgramVersionRef(program_id=PROGRAM.program_id, version=PROGRAM.version)]
        for unit in version_units:
            await self.plans_service.units.declare(DeclarePrograms(programs=refs), patient_admin(unit))
        if OTHER_VERSION_UNIT not in version_units:
            other = [ProgramVersionRef(program_id=PROGRAM.program_id, version="2.0")]
            await self.programs.add(
                PROGRAM.model_copy(update={"version": "2.0"}), published_by="x", now=NOW, session=None
            )
            await self.plans_service.units.declare(DeclarePrograms(programs=other), patient_admin(OTHER_VERSION_UNIT))
        command = plan_commands.StartPlan(
            personnummer=PNR, patient_name="Pia", program_id=PROGRAM.program_id, program_version=PROGRAM.version
        )
        view = await self.plans_service.lifecycle.start_plan(command, by)
        self.plan_id = view.id
        await self.settle()
        return view.id

    async def initiate(self, to_unit: str, by: Staff | None = None) -> HandoverView:
        holder = await self.holder()
        command = InitiateHandover(to_unit_id=to_unit, consent=ConsentInput(method=ConsentMethod.VERBAL))
        return await self.handover.requests.initiate(self.plan_id, command, by or therapist(holder))

    async def accept(self, handover_id: str, by: Staff) -> HandoverView:
        return await self.handover.requests.accept(
            handover_id, AcceptHandover(responsible_hsa_id=f"{by.unit_id}-T7"), by
        )

    async def decline(self, handover_id: str, by: Staff) -> HandoverView:
        return await self.handover.requests.decline(handover_id, DeclineHandover(reason="ingen plats"), by)

    # -- what the copies say -------------------------------------------------------------------

    async def holder(self) -> str:
        ownership = await self.plan_ownership.get(self.plan_id)
        assert ownership is not None
        return ownership.unit_id

    async def copies_now(self) -> dict[str, PlanOwnership]:
        found = {name: await repo.get(self.plan_id) for name, repo in self.copies.items()}
        return {name: o for name, o in found.items() if o is not None}

    async def writers(self) -> set[str]:
        """Units that may change the plan in at least one service right now."""
        return {o.unit_id for o in (await self.copies_now()).values() if o.state is OwnershipState.ACTIVE}
