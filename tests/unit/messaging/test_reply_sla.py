"""The reply SLA: flags raised by durable timers, met by a staff reply, each exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.messaging.service_layer.sla import DUE_SOON_TIMER, OVERDUE_TIMER
from shared.contracts import messaging as events
from shared.ownership import OwnershipState
from shared.storage.timers import Timer
from tests.unit.messaging.conftest import (
    COLLEAGUE,
    MONDAY_MORNING,
    OTHER_UNIT,
    PATIENT,
    PLAN,
    THERAPIST,
    UNIT,
    World,
)

FLAG_EVENTS = (events.ReplyDueSoon, events.ReplyOverdue, events.ReplyEscalated)


def flags(world: World) -> list[tuple[str, str]]:
    """(event name, message id) of every flag event published, in order."""
    return [(type(e).__name__, e.message_id) for e in world.uow.published if isinstance(e, FLAG_EVENTS)]


def timer(kind: str, message_id: str) -> Timer:
    return Timer(
        key=f"{kind}:{message_id}", kind=kind, due_at=MONDAY_MORNING, payload={"message_id": message_id}, status=""
    )


async def fire_now(world: World, kind: str, message_id: str) -> None:
    """Run one timer's handler in its own unit of work, whatever its due time (a late or repeated firing)."""
    handler = world.service.sla.timer_handlers()[kind]

    async def work(tx: Any) -> None:
        await handler(timer(kind, message_id), tx)

    await world.uow.run(work)


async def test_a_staff_reply_meets_every_earlier_unanswered_patient_message(world: World) -> None:
    first = await world.start(PATIENT)
    world.clock.advance(timedelta(hours=2))
    second = await world.write(first.conversation_id, PATIENT, text="Och en sak till.")
    world.clock.advance(timedelta(hours=3))

    await world.write(first.conversation_id, COLLEAGUE, text="Vi ringer dig.")

    [met] = world.uow.events_of(events.SlaMet)
    assert sorted(met.message_ids) == sorted([first.id, second.id]) and met.unit_id == UNIT
    assert met.breached is False and met.seconds_to_reply == 5 * 3600 and met.replied_at == world.clock.now()
    for message_id in (first.id, second.id):
        sla = world.messages.items[message_id].sla
        assert sla is not None and sla.state == "met" and sla.answered_at == world.clock.now()
    assert world.timers.pending() == []
    assert await world.fire(world.clock.now() + timedelta(days=30)) == 0
    assert flags(world) == []


async def test_a_second_reply_meets_nothing_more(world: World) -> None:
    first = await world.start(PATIENT)
    await world.write(first.conversation_id, THERAPIST, text="Svar 1")
    await world.write(first.conversation_id, COLLEAGUE, text="Svar 2")

    assert len(world.uow.events_of(events.SlaMet)) == 1


async def test_a_staff_message_meets_only_its_own_conversations_messages(world: World) -> None:
    here = await world.start(PATIENT)
    there = await world.start(PATIENT)

    await world.write(here.conversation_id, THERAPIST)

    [met] = world.uow.events_of(events.SlaMet)
    assert met.message_ids == [here.id]
    assert {t.payload["message_id"] for t in world.timers.pending()} == {there.id}


async def test_due_soon_on_the_deadlines_day_then_overdue_and_escalation_after_it(world: World) -> None:
    message = await world.start(PATIENT)
    assert message.sla is not None

    assert await world.fire(message.sla.due_soon_at - timedelta(seconds=1)) == 0
    assert await world.fire(message.sla.due_soon_at) == 1
    assert flags(world) == [("ReplyDueSoon", message.id)]
    assert world.messages.items[message.id].sla.state == "due_soon"  # type: ignore[union-attr]
    [due_soon] = world.uow.events_of(events.ReplyDueSoon)
    assert (due_soon.unit_id, due_soon.deadline, due_soon.conversation_id) == (
        UNIT,
        message.sla.deadline,
        message.conversation_id,
    )

    assert await world.fire(message.sla.deadline) == 0  # the deadline second is still in time
    assert await world.fire(message.sla.overdue_at) == 1
    assert flags(world) == [
        ("ReplyDueSoon", message.id),
        ("ReplyOverdue", message.id),
        ("ReplyEscalated", message.id),
    ]
    [escalated] = world.uow.events_of(events.ReplyEscalated)
    assert escalated.audience == "patient_admins" and escalated.unit_id == UNIT
    assert world.messages.items[message.id].sla.state == "overdue"  # type: ignore[union-attr]


async def test_a_reply_after_the_deadline_meets_the_sla_as_breached(world: World) -> None:
    message = await world.start(PATIENT)
    assert message.sla is not None
    world.clock.set(message.sla.overdue_at + timedelta(hours=1))
    await world.fire(world.clock.now())

    await world.write(message.conversation_id, THERAPIST)

    [met] = world.uow.events_of(events.SlaMet)
    assert met.breached is True and met.message_ids == [message.id]


async def test_a_timer_fired_twice_flags_once(world: World) -> None:
    message = await world.start(PATIENT)
    for kind in (DUE_SOON_TIMER, OVERDUE_TIMER, DUE_SOON_TIMER, OVERDUE_TIMER):
        await fire_now(world, kind, message.id)

    assert flags(world) == [
        ("ReplyDueSoon", message.id),
        ("ReplyOverdue", message.id),
        ("ReplyEscalated", message.id),
    ]


async def test_an_overdue_timer_firing_first_raises_due_soon_before_it_and_due_soon_stays_quiet(
    world: World,
) -> None:
    """After a clock jump the two timers may fire in either order: the flags still come once, in order."""
    message = await world.start(PATIENT)
    await fire_now(world, OVERDUE_TIMER, message.id)
    await fire_now(world, DUE_SOON_TIMER, message.id)

    assert flags(world) == [
        ("ReplyDueSoon", message.id),
        ("ReplyOverdue", message.id),
        ("ReplyEscalated", message.id),
    ]
    assert world.messages.items[message.id].sla.state == "overdue"  # type: ignore[union-attr]


async def test_all_timers_due_after_a_long_stop_fire_once_each(world: World) -> None:
    messages = [await world.start(PATIENT) for _ in range(3)]

    assert await world.fire(world.clock.now() + timedelta(days=12)) == 6
    assert await world.fire(world.clock.now() + timedelta(days=13)) == 0

    for message in messages:
        assert [name for name, mid in flags(world) if mid == message.id] == [
            "ReplyDueSoon",
            "ReplyOverdue",
            "ReplyEscalated",
        ]


async def test_a_timer_for_an_answered_or_missing_message_raises_nothing(world: World) -> None:
    answered = await world.start(PATIENT)
    await world.write(answered.conversation_id, THERAPIST)

    for message_id in (answered.id, "purged-message"):
        await fire_now(world, OVERDUE_TIMER, message_id)

    assert flags(world) == []


async def test_flags_go_to_the_unit_holding_the_plan_now(world: World) -> None:
    """A plan handed over keeps its unanswered messages' SLA, and their flags reach the new unit."""
    message = await world.start(PATIENT)
    world.ownership.items[PLAN].unit_id = OTHER_UNIT

    await world.fire(world.clock.now() + timedelta(days=12))

    assert {e.unit_id for e in world.uow.published if isinstance(e, FLAG_EVENTS)} == {OTHER_UNIT}
    assert len(flags(world)) == 3 and message.id == flags(world)[0][1]


async def test_no_flag_fires_for_a_plan_that_ended_even_if_a_timer_outlived_it(world: World) -> None:
    """A message sent while the plan ended could keep its timers; the timers then raise nothing."""
    message = await world.start(PATIENT)
    world.set_state(OwnershipState.ENDED)

    assert await world.fire(world.clock.now() + timedelta(days=12)) == 2
    assert flags(world) == []
    assert world.messages.items[message.id].sla.state == "open"  # type: ignore[union-attr]


async def test_flags_still_fire_while_a_plan_is_being_handed_over(world: World) -> None:
    message = await world.start(PATIENT)
    world.set_state(OwnershipState.TRANSFERRING)

    await world.fire(world.clock.now() + timedelta(days=12))

    assert flags(world)[0] == ("ReplyDueSoon", message.id) and len(flags(world)) == 3
