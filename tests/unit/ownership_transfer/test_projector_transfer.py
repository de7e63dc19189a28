"""Every service's ownership copy follows a handover through the shared projector: by ownership
version (replays and stale events change nothing), answering each step with the service's own
confirmation, and refusing what it cannot take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.contracts import messaging
from shared.contracts import plans as contract
from shared.contracts.transfer import TransferOutcome
from shared.kernel.errors import NotFound
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.ownership import OwnershipProjector, OwnershipState, PlanOwnership, authorize
from tests.fakes import FakeUnitOfWork, InMemoryOwnershipRepository

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
A, B = "SE2321000016-AAAA", "SE2321000016-BBBB"


def transferring(version: int = 2) -> contract.OwnershipTransferring:
    return contract.OwnershipTransferring(
        plan_id="p1", unit_id=B, handover_id="h1", from_unit_id=A, responsible_hsa_id="B-T7", ownership_version=version
    )


def transferred(version: int = 3) -> contract.OwnershipTransferred:
    return contract.OwnershipTransferred(
        plan_id="p1", unit_id=B, handover_id="h1", from_unit_id=A, ownership_version=version, state="active"
    )


def reverted(version: int = 3) -> contract.OwnershipTransferReverted:
    return contract.OwnershipTransferReverted(
        plan_id="p1",
        unit_id=A,
        handover_id="h1",
        to_unit_id=B,
        responsible_hsa_id="A-T1",
        ownership_version=version,
        state="active",
    )


class Copy:
    def __init__(self, *known: PlanOwnership) -> None:
        self.repo = InMemoryOwnershipRepository(*known)
        self.uow = FakeUnitOfWork(FixedClock(NOW), self.repo)
        self.projector = OwnershipProjector(self.repo, messaging.TransferApplied)

    async def take(self, event: Any) -> None:
        handler = {
            contract.OwnershipTransferring: self.projector.on_transferring,
            contract.OwnershipTransferred: self.projector.on_settled,
            contract.OwnershipTransferReverted: self.projector.on_settled,
        }[type(event)]
        await self.uow.run(lambda tx: handler(event, None, tx))

    async def now(self) -> PlanOwnership:
        found = await self.repo.get("p1")
        assert found is not None
        return found

    def answers(self) -> list[tuple[str, int, TransferOutcome, str]]:
        return [
            (a.service, a.ownership_version, a.outcome, a.reason) for a in self.uow.events_of(messaging.TransferApplied)
        ]


def held(**changes: Any) -> PlanOwnership:
    return PlanOwnership(
        plan_id="p1", unit_id=A, patient_personnummer="194107086995", responsible_hsa_id="A-T1"
    ).model_copy(update=changes)


def staff(unit: str) -> Staff:
    return Staff(hsa_id=f"{unit}-T1", unit_id=unit, roles=frozenset({Role.THERAPIST}))


async def test_the_receiving_unit_holds_it_read_only_and_the_old_unit_is_refused_at_once() -> None:
    copy = Copy(held())
    await copy.take(transferring())

    moved = await copy.now()
    assert (moved.unit_id, moved.state, moved.version, moved.responsible_hsa_id) == (
        B,
        OwnershipState.TRANSFERRING,
        2,
        "B-T7",
    )
    with pytest.raises(NotFound):
        authorize(moved, staff(A))
    assert copy.answers() == [("messaging", 2, TransferOutcome.APPLIED, "")]
    assert copy.uow.events_of(messaging.TransferApplied)[0].topic is messaging.MESSAGING_TOPIC


async def test_a_replayed_step_answers_again_and_a_stale_one_changes_nothing() -> None:
    copy = Copy(held())
    await copy.take(transferring())
    await copy.take(transferring())
    await copy.take(transferred())
    await copy.take(transferring())  # an old step arriving late
    await copy.take(reverted())  # same version as the completion: stale

    final = await copy.now()
    assert (final.unit_id, final.state, final.version) == (B, OwnershipState.ACTIVE, 3)
    assert [a[2] for a in copy.answers()] == [TransferOutcome.APPLIED, TransferOutcome.APPLIED]


async def test_a_reversal_gives_the_plan_back_with_its_responsible_therapist() -> None:
    copy = Copy(held())
    await copy.take(transferring())
    await copy.take(reverted())

    back = await copy.now()
    assert (back.unit_id, back.state, back.version, back.responsible_hsa_id) == (A, OwnershipState.ACTIVE, 3, "A-T1")
    assert copy.answers()[-1] == ("messaging", 3, TransferOutcome.REVERTED, "")


async def test_an_unknown_or_ended_plan_is_refused_so_that_the_saga_compensates() -> None:
    unknown, ended = Copy(), Copy(held(state=OwnershipState.ENDED))
    await unknown.take(transferring())
    await ended.take(transferring())

    assert unknown.answers() == [("messaging", 2, TransferOutcome.REFUSED, "the plan is not known in this service")]
    assert ended.answers() == [("messaging", 2, TransferOutcome.REFUSED, "the plan has ended in this service")]
    assert (await ended.now()).unit_id == A


async def test_without_a_confirmation_event_nothing_is_answered() -> None:
    repo = InMemoryOwnershipRepository(held())
    uow = FakeUnitOfWork(FixedClock(NOW), repo)
    await uow.run(lambda tx: OwnershipProjector(repo).on_transferring(transferring(), None, tx))
    assert uow.published == [] and (await repo.get("p1")).unit_id == B  # type: ignore[union-attr]
