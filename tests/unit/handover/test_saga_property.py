"""A property of the handover saga over random sequences of initiate / accept / decline / withdraw /
expire across three units, with the services' deliveries interleaved at random (in order per topic,
in any order across topics and services):

- at every step every service's copy names exactly one holder, and at most one unit may change the
  plan anywhere (never both; while a transfer is in flight, neither);
- once everything is delivered, every copy agrees, exactly one unit may act, and it is the receiving
  unit of the last completed handover (or the unit that started the plan);
- the history holds every handover that was requested, in order, each in the state its last
  successful action left it in (or the saga's outcome for accepted ones).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.handover.domain.handover import HandoverState
from services.handover.service_layer.ports import HandoverPolicy
from shared.kernel.errors import DomainError
from shared.kernel.principals import Patient
from shared.ownership import OwnershipState
from tests.unit.handover.platform import PNR, UNITS, Platform, patient_admin, therapist

Action = tuple[str, int]
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["initiate", "accept", "decline", "withdraw", "expire", "deliver", "deliver", "deliver"]),
        st.integers(min_value=0, max_value=50),
    ),
    max_size=40,
)
SETTLED = {HandoverState.COMPLETED, HandoverState.COMPENSATED}


@dataclass
class Expected:
    """What the test itself knows of each handover from the answers it got."""

    order: list[str] = field(default_factory=list)
    states: dict[str, HandoverState] = field(default_factory=dict)


async def act(platform: Platform, expected: Expected, action: Action) -> None:
    name, n = action
    latest = expected.order[-1] if expected.order else None
    try:
        if name == "initiate":
            view = await platform.initiate(UNITS[n % 3])
            expected.order.append(view.handover_id)
        elif name == "accept" and latest:
            to = (await platform.handovers.get(latest)).to_unit_id  # type: ignore[union-attr]
            view = await platform.accept(latest, patient_admin(to))
        elif name == "decline" and latest:
            to = (await platform.handovers.get(latest)).to_unit_id  # type: ignore[union-attr]
            view = await platform.decline(latest, patient_admin(to))
        elif name == "withdraw" and latest:
            view = await platform.handover.requests.withdraw(
                latest, therapist((await platform.handovers.get(latest)).from_unit_id)
            )  # type: ignore[union-attr]
        elif name == "expire":
            await platform.fire_timers(timedelta(days=8))
            return
        elif pending := platform.pending():
            await platform.deliver(*pending[n % len(pending)])
            return
        else:
            return
    except DomainError:
        return  # refused (a state conflict, a unit not holding the plan, ...): nothing changed
    expected.states[view.handover_id] = view.state


async def check_every_step(platform: Platform) -> None:
    copies = await platform.copies_now()
    assert len(copies) == 6 and all(o.unit_id in UNITS for o in copies.values())
    assert len(await platform.writers()) <= 1


async def check_settled(platform: Platform, expected: Expected) -> None:
    copies = await platform.copies_now()
    assert len({(o.unit_id, o.state, o.version) for o in copies.values()}) == 1, copies
    assert await platform.writers() == {await platform.holder()}
    history = await platform.handover.reads.history(platform.plan_id, Patient(personnummer=PNR))
    assert [h.handover_id for h in history] == expected.order
    for entry in history:
        assert entry.state is not HandoverState.ACCEPTED  # no saga is left half-way
        told = expected.states[entry.handover_id]
        if told is HandoverState.ACCEPTED:
            assert entry.state in SETTLED
        elif told is HandoverState.PENDING:
            assert entry.state in {HandoverState.PENDING, HandoverState.EXPIRED}
        else:
            assert entry.state is told
    completed = [h for h in history if h.state is HandoverState.COMPLETED]
    assert await platform.holder() == (completed[-1].to_unit_id if completed else UNITS[0])
    assert next(iter(copies.values())).state is OwnershipState.ACTIVE


async def scenario(actions: list[Action], order: random.Random) -> None:
    platform = Platform(HandoverPolicy(pending_for=timedelta(days=7), transfer_timeout=timedelta(minutes=5)))
    await platform.start()
    expected = Expected()
    for action in actions:
        await act(platform, expected, action)
        await check_every_step(platform)
    while pending := platform.pending():  # every service up, every event delivered: no saga may be left waiting
        await platform.deliver(*order.choice(pending))
        await check_every_step(platform)
    await check_settled(platform, expected)


@settings(max_examples=100, deadline=None)
@given(ACTIONS, st.randoms(use_true_random=False))
def test_exactly_one_unit_may_act_and_the_history_is_complete(actions: list[Action], order: random.Random) -> None:
    asyncio.run(scenario(actions, order))
