"""The plans topic's consumer: ownership kept from the plans service's events, and an ended plan is
read-only (issue 11: no new messages or drafts, its pending reply-SLA timers cancelled, staff still read).

Events go through the consumer's own subscriptions (as the consumer dispatches them: in declaration
order, in one unit of work), read from their JSON form as they arrive from Kafka.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from services.messaging.domain.commands import EditDraft, StartConversation
from services.messaging.entrypoints.consumers import consumers
from shared.contracts import messaging as events
from shared.contracts import plans
from shared.kernel.errors import Conflict, NotFound
from shared.messaging.consumer import EventConsumer
from shared.messaging.events import Event, ReceivedEvent
from shared.ownership import OwnershipState
from tests.unit.messaging.conftest import (
    COLLEAGUE,
    MONDAY_MORNING,
    PATIENT,
    PLAN,
    PNR,
    THERAPIST,
    UNIT,
    World,
)

FLAG_EVENTS = (events.ReplyDueSoon, events.ReplyOverdue, events.ReplyEscalated)


def plans_consumer(world: World) -> EventConsumer:
    db = defaultdict(object)
    runtime: Any = SimpleNamespace(uow=SimpleNamespace(db=db), broker=None, db=db, audit=None)
    plan_events, _purge = consumers(runtime, world.service)
    return plan_events


async def deliver(world: World, event: Event) -> None:
    """Hand one event to the consumer's handlers as the consumer does (inbox aside)."""
    consumer = plans_consumer(world)
    data = event.model_dump(mode="json")
    received = ReceivedEvent(str(uuid.uuid4()), event.ce_type, "/careplan/plans", None, event.partition_key(), data)
    subscriptions = consumer._subscriptions[event.ce_type]  # what `process` dispatches to

    async def work(tx: Any) -> None:
        for subscription in subscriptions:
            await subscription.handler(subscription.payload_model.model_validate(data), received, tx)

    await world.uow.run(work)


def started(plan_id: str = PLAN) -> plans.PlanStarted:
    return plans.PlanStarted(
        plan_id=plan_id,
        unit_id=UNIT,
        patient_personnummer=PNR,
        protected_identity=False,
        program_id="min-vardplan-brostcancer",
        program_version="1.0",
        responsible_hsa_id=THERAPIST.hsa_id,
        started_at=MONDAY_MORNING,
    )


def ended(plan_id: str = PLAN) -> plans.PlanEnded:
    return plans.PlanEnded(
        plan_id=plan_id, unit_id=UNIT, ended_at=MONDAY_MORNING + timedelta(days=1), reason="completed"
    )


def test_the_consumer_reads_the_plans_topic_by_the_contracts_types(world: World) -> None:
    consumer = plans_consumer(world)

    assert consumer.topics == [plans.PLANS_TOPIC.name]
    assert set(consumer.ce_types) == {
        plans.PlanStarted.ce_type,
        plans.PlanEnded.ce_type,
        plans.ResponsibleChanged.ce_type,
        plans.OwnershipTransferring.ce_type,
        plans.OwnershipTransferred.ce_type,
        plans.OwnershipTransferReverted.ce_type,
    }


async def test_a_started_plan_is_open_to_its_patient_and_its_units_staff(world: World) -> None:
    world.ownership.items.clear()
    with pytest.raises(NotFound, match="no such plan"):
        await world.start(PATIENT)

    await deliver(world, started())
    first = await world.start(PATIENT)
    await world.write(first.conversation_id, THERAPIST)

    _, messages = await world.service.conversations.read(first.conversation_id, PATIENT)
    assert [m.sender_kind for m in messages] == ["patient", "staff"]
    await deliver(world, started())  # a replay changes nothing
    assert world.ownership.items[PLAN].state is OwnershipState.ACTIVE


async def test_a_plan_ending_cancels_the_reply_timers_of_its_unanswered_messages(world: World) -> None:
    world.add_plan("plan-2")
    one = await world.start(PATIENT)
    two = await world.start(PATIENT)
    await world.write(two.conversation_id, PATIENT, text="En till")
    other_plan = await world.service.conversations.start("plan-2", StartConversation(subject="s", text="t"), PATIENT)

    await deliver(world, ended())

    assert {t.payload["message_id"] for t in world.timers.pending()} == {other_plan.id}
    assert await world.fire(world.clock.now() + timedelta(days=12)) == 2
    assert {e.message_id for e in world.uow.published if isinstance(e, FLAG_EVENTS)} == {other_plan.id}
    assert world.messages.items[one.id].sla.state == "open"  # type: ignore[union-attr]
    await deliver(world, ended())  # a replay changes nothing
    assert world.ownership.items[PLAN].state is OwnershipState.ENDED


@pytest.mark.parametrize("state", [OwnershipState.ENDED, OwnershipState.TRANSFERRING])
async def test_an_ended_or_moving_plan_takes_no_new_messages_or_drafts(world: World, state: OwnershipState) -> None:
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Utkast", draft=True)
    stored, published = dict(world.messages.items), list(world.uow.published)
    world.set_state(state)
    drafts = world.service.drafts

    for attempt in (
        lambda: world.start(PATIENT),
        lambda: world.start(THERAPIST, draft=True),
        lambda: world.write(first.conversation_id, PATIENT),
        lambda: world.write(first.conversation_id, THERAPIST, draft=True),
        lambda: drafts.edit(first.conversation_id, draft.id, EditDraft(text="x"), THERAPIST),
        lambda: drafts.send(first.conversation_id, draft.id, THERAPIST),
        lambda: drafts.delete(first.conversation_id, draft.id, THERAPIST),
        lambda: world.service.conversations.delete(first.conversation_id, THERAPIST),
    ):
        with pytest.raises(Conflict, match="read-only"):
            await attempt()

    assert world.messages.items == stored and world.uow.published == published
    assert len(world.conversations.items) == 1


async def test_staff_still_read_an_ended_plans_conversations_and_reading_changes_nothing(world: World) -> None:
    first = await world.start(PATIENT)
    await deliver(world, ended())
    published = list(world.uow.published)

    listed = await world.service.conversations.of_plan(PLAN, COLLEAGUE)
    conversation, messages = await world.service.conversations.read(first.conversation_id, COLLEAGUE)
    counts = await world.service.conversations.unread(PLAN, COLLEAGUE)

    assert [c.id for c in listed] == [first.conversation_id] and [m.id for m in messages] == [first.id]
    assert conversation.unread_for_staff == 1 and counts == {"total": 1, first.conversation_id: 1}
    assert world.uow.published == published  # no conversation_read for a read-only plan
    assert world.uow.audit_log.actions()[-3:] == [
        ("read", "conversations", PLAN),
        ("read", "conversation", first.conversation_id),
        ("read", "unread_counts", PLAN),
    ]
