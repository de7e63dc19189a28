"""The unit lists' flags and last activity, raised and cleared by other services' events."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from services.plans.domain import commands, flags
from services.plans.domain.flags import FlagKind
from shared.messaging.events import ReceivedEvent
from tests.unit.plans.conftest import NOW, THERAPIST, World

SENT = NOW + timedelta(hours=1)


async def deliver(
    world: World, reader: type[flags.Reader], data: dict[str, object], at: datetime | None = SENT
) -> None:
    """One event through its projector handler, as the consumer runs it (in a unit of work)."""
    projector = world.service.flags
    handler = {
        flags.MessageSent: projector.message_sent,
        flags.ConversationRead: projector.conversation_read,
        flags.ReplyDueSoon: projector.reply_due_soon,
        flags.ReplyOverdue: projector.reply_overdue,
        flags.SlaMet: projector.sla_met,
        flags.ConversationDeleted: projector.conversation_deleted,
        flags.FormsFlagRaised: projector.forms_flag_raised,
        flags.FormsFlagHandled: projector.forms_flag_handled,
        flags.FormSubmitted: projector.form_submitted,
    }[reader]
    payload: BaseModel = reader.model_validate(data)
    received = ReceivedEvent(id="e", ce_type=reader.ce_type, source="/careplan/x", time=at, key=None, data=data)
    await world.uow.run(lambda tx: handler(payload, received, tx))


async def plan_flags(world: World, plan_id: str) -> dict[str, FlagKind]:
    return {f.key: f.kind for f in world.plans.items[plan_id].flags}


def message(plan_id: str, sender: str, conversation: str = "c1") -> dict[str, object]:
    return {"plan_id": plan_id, "conversation_id": conversation, "sender_kind": sender, "sent_at": SENT.isoformat()}


def deadline(plan_id: str) -> dict[str, object]:
    return {"plan_id": plan_id, "conversation_id": "c1", "message_id": "m1", "deadline": SENT.isoformat()}


async def test_a_patients_message_raises_unread_and_counts_as_activity_a_staff_reply_clears_it(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.MessageSent, message(plan.id, "patient"))
    assert await plan_flags(world, plan.id) == {"messaging:unread:c1": FlagKind.UNREAD_MESSAGE}
    assert world.plans.items[plan.id].last_active_at == SENT
    await deliver(world, flags.MessageSent, message(plan.id, "staff"))
    assert await plan_flags(world, plan.id) == {}


async def test_staff_reading_the_conversation_clears_unread_the_patient_reading_does_not(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.MessageSent, message(plan.id, "patient"))
    read = {"plan_id": plan.id, "conversation_id": "c1"}
    await deliver(world, flags.ConversationRead, read | {"reader_kind": "patient"})
    assert list(await plan_flags(world, plan.id)) == ["messaging:unread:c1"]
    await deliver(world, flags.ConversationRead, read | {"reader_kind": "staff"})
    assert await plan_flags(world, plan.id) == {}


async def test_reply_due_soon_becomes_overdue_and_the_reply_clears_it(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.ReplyDueSoon, deadline(plan.id), at=SENT)
    [due] = world.plans.items[plan.id].flags
    assert (due.key, due.kind, due.raised_at) == ("messaging:sla:c1", FlagKind.REPLY_DUE_SOON, SENT)
    await deliver(world, flags.ReplyOverdue, deadline(plan.id), at=None)  # no event time: the clock's
    [overdue] = world.plans.items[plan.id].flags
    assert (overdue.kind, overdue.raised_at) == (FlagKind.REPLY_OVERDUE, NOW)
    await deliver(world, flags.SlaMet, {"plan_id": plan.id, "conversation_id": "c1"})
    assert await plan_flags(world, plan.id) == {}


async def test_a_deleted_conversation_takes_its_flags_along(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.MessageSent, message(plan.id, "patient"))
    await deliver(world, flags.MessageSent, message(plan.id, "patient", conversation="c2"))
    await deliver(world, flags.ReplyOverdue, deadline(plan.id))
    await deliver(world, flags.ConversationDeleted, {"plan_id": plan.id, "conversation_id": "c1"})
    assert await plan_flags(world, plan.id) == {"messaging:unread:c2": FlagKind.UNREAD_MESSAGE}


async def test_forms_flags_are_raised_and_handled(world: World) -> None:
    plan = await world.start()
    raised = {"plan_id": plan.id, "raised_at": SENT.isoformat()}
    await deliver(world, flags.FormsFlagRaised, raised | {"flag_id": "f1", "kind": "what_matters"})
    await deliver(world, flags.FormsFlagRaised, raised | {"flag_id": "f2", "kind": "result"})
    await deliver(world, flags.FormsFlagRaised, raised | {"flag_id": "f2", "kind": "result"})  # redelivered
    assert await plan_flags(world, plan.id) == {"forms:f1": FlagKind.WHAT_MATTERS, "forms:f2": FlagKind.RESULT}
    await deliver(world, flags.FormsFlagHandled, {"plan_id": plan.id, "flag_id": "f1"})
    assert await plan_flags(world, plan.id) == {"forms:f2": FlagKind.RESULT}


async def test_a_submitted_form_is_activity_that_never_moves_back(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.FormSubmitted, {"plan_id": plan.id, "submitted_at": SENT.isoformat()})
    earlier = (SENT - timedelta(days=1)).isoformat()
    await deliver(world, flags.FormSubmitted, {"plan_id": plan.id, "submitted_at": earlier})
    assert world.plans.items[plan.id].last_active_at == SENT


async def test_a_change_of_the_plan_never_wipes_the_read_model(world: World) -> None:
    plan = await world.start()
    await deliver(world, flags.MessageSent, message(plan.id, "patient"))
    await world.service.editing.add_contact(plan.id, commands.AddContact(name="Ny"), THERAPIST)
    assert list(await plan_flags(world, plan.id)) == ["messaging:unread:c1"]
    assert world.plans.items[plan.id].last_active_at == SENT


async def test_events_of_unknown_plans_change_nothing(world: World) -> None:
    await deliver(world, flags.MessageSent, message("no-such-plan", "patient"))
    assert world.plans.items == {}
