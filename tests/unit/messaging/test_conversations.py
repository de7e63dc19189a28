"""Conversations: starting one, writing in it, listing, reading, unread counts and deleting."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.messaging.domain.commands import StartConversation
from services.messaging.service_layer.sla import DUE_SOON_TIMER, OVERDUE_TIMER
from shared.contracts import messaging as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Principal
from shared.kernel.roles import Role
from tests.unit.messaging.conftest import (
    COLLEAGUE,
    OTHER_PATIENT,
    OTHER_UNIT,
    PATIENT,
    PLAN,
    PNR,
    THERAPIST,
    UNIT,
    World,
    staff,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def test_a_patient_starts_a_conversation_and_its_reply_sla(world: World) -> None:
    message = await world.start(PATIENT)

    assert message.status == "sent" and message.sender_kind == "patient" and message.notify_inbox == "none"
    assert message.sla is not None and message.sla.state == "open"
    assert message.sla.due_soon_at == datetime(2026, 11, 26, 0, 0, tzinfo=STOCKHOLM)
    assert message.sla.deadline == datetime(2026, 11, 26, 23, 59, 59, tzinfo=STOCKHOLM)
    [sent] = world.uow.events_of(events.MessageSent)
    assert (sent.plan_id, sent.unit_id, sent.message_id) == (PLAN, UNIT, message.id)
    assert sent.sender_kind == "patient" and sent.reply_deadline == message.sla.deadline
    timers = {t.kind: t.due_at for t in world.timers.pending()}
    assert timers == {DUE_SOON_TIMER: message.sla.due_soon_at, OVERDUE_TIMER: message.sla.overdue_at}
    conversation = await world.conversations.get(message.conversation_id)
    assert conversation is not None and conversation.subject == "Fråga om behandlingen"
    assert (conversation.unread_for_staff, conversation.unread_for_patient) == (1, 0)
    assert conversation.created_by_kind == "patient" and conversation.last_message_at == message.sent_at
    [record] = world.uow.audit_log.records
    assert (record.action, record.resource, record.resource_id) == ("create", "message", message.id)
    assert (record.patient_ref, record.unit_id) == (PNR, UNIT)


async def test_staff_start_a_conversation_that_notifies_directly_and_has_no_sla(world: World) -> None:
    message = await world.start(THERAPIST, text="Välkommen!")

    assert message.sender_kind == "staff" and message.sender_ref == THERAPIST.hsa_id
    assert message.sender_name == "Anna Terapeut" and message.notify_inbox == "direct" and message.sla is None
    assert world.timers.pending() == []
    [sent] = world.uow.events_of(events.MessageSent)
    assert sent.notify_inbox == "direct" and sent.reply_deadline is None
    conversation = await world.conversations.get(message.conversation_id)
    assert conversation is not None and (conversation.unread_for_staff, conversation.unread_for_patient) == (0, 1)


async def test_staff_may_choose_not_to_notify_but_a_patient_may_not_choose(world: World) -> None:
    quiet = await world.start(THERAPIST, notify_inbox="none")
    assert quiet.notify_inbox == "none"

    with pytest.raises(Forbidden, match="only staff choose"):
        await world.start(PATIENT, notify_inbox="direct")
    with pytest.raises(Forbidden, match="only staff choose"):
        await world.write(quiet.conversation_id, PATIENT, notify_inbox="none")
    assert len(world.messages.items) == 1


@pytest.mark.parametrize("role", [Role.PUBLISHER, Role.DESIGNER, Role.DATA_ADMIN, Role.PERMISSION_ADMIN])
async def test_only_therapists_and_patient_admins_write_to_patients(world: World, role: Role) -> None:
    """Issue 13: a publisher (or any staff without a role that works with patients) cannot write."""
    first = await world.start(PATIENT)
    outsider = staff(role, hsa_id="SE2321000016-P001")

    with pytest.raises(Forbidden, match="therapists and patient admins"):
        await world.start(outsider)
    with pytest.raises(Forbidden, match="therapists and patient admins"):
        await world.write(first.conversation_id, outsider)
    with pytest.raises(Forbidden, match="therapists and patient admins"):
        await world.service.conversations.delete(first.conversation_id, outsider)

    assert len(world.messages.items) == 1 and len(world.conversations.items) == 1
    assert len(world.uow.events_of(events.MessageSent)) == 1


async def test_a_patient_admin_writes_and_a_therapist_holding_another_role_too(world: World) -> None:
    admin = await world.start(staff(Role.PATIENT_ADMIN, hsa_id="SE2321000016-A001"))
    both = await world.write(admin.conversation_id, staff(Role.PUBLISHER, Role.THERAPIST))

    assert admin.status == both.status == "sent"


async def test_a_plan_the_caller_may_not_see_answers_as_a_missing_one(world: World) -> None:
    world.add_plan("plan-elsewhere", unit=OTHER_UNIT, patient="198112189876")
    answers = []
    cases: list[tuple[Principal, str]] = [
        (THERAPIST, "no-such-plan"),
        (THERAPIST, "plan-elsewhere"),
        (staff(unit=OTHER_UNIT), PLAN),
        (OTHER_PATIENT, PLAN),
        (PATIENT, "plan-elsewhere"),
    ]
    for by, plan_id in cases:
        with pytest.raises(NotFound) as refused:
            await world.service.conversations.start(plan_id, StartConversation(subject="s", text="t"), by)
        answers.append(str(refused.value))
    assert set(answers) == {"no such plan"}
    assert world.messages.items == {} and world.uow.published == []


async def test_a_conversation_the_caller_may_not_see_answers_as_a_missing_one(world: World) -> None:
    first = await world.start(PATIENT)
    cases: list[tuple[Principal, str]] = [
        (THERAPIST, "no-such-conversation"),
        (staff(unit=OTHER_UNIT), first.conversation_id),
        (OTHER_PATIENT, first.conversation_id),
    ]

    for by, conversation_id in cases:
        with pytest.raises(NotFound, match="no such conversation"):
            await world.service.conversations.read(conversation_id, by)
        with pytest.raises(NotFound, match="no such conversation"):
            await world.write(conversation_id, by)


async def test_writing_in_a_conversation_counts_unread_for_the_other_side(world: World) -> None:
    first = await world.start(PATIENT)
    world.clock.advance(timedelta(minutes=5))
    second = await world.write(first.conversation_id, PATIENT, text="Och en sak till.")

    assert second.sla is not None and second.sla.deadline == first.sla.deadline  # type: ignore[union-attr]
    assert await world.service.conversations.unread(PLAN, THERAPIST) == {"total": 2, first.conversation_id: 2}
    assert await world.service.conversations.unread(PLAN, PATIENT) == {"total": 0, first.conversation_id: 0}
    conversation = await world.conversations.get(first.conversation_id)
    assert conversation is not None and conversation.last_message_at == second.sent_at
    assert len(world.timers.pending()) == 4


async def test_unread_counts_add_up_over_the_plans_conversations_and_are_audited(world: World) -> None:
    one = await world.start(PATIENT)
    two = await world.start(PATIENT)
    await world.write(two.conversation_id, PATIENT)

    counts = await world.service.conversations.unread(PLAN, COLLEAGUE)

    assert counts == {"total": 3, one.conversation_id: 1, two.conversation_id: 2}
    assert world.uow.audit_log.actions()[-1] == ("read", "unread_counts", PLAN)


async def test_listing_shows_the_latest_conversation_first_and_is_audited(world: World) -> None:
    older = await world.start(PATIENT)
    world.clock.advance(timedelta(hours=1))
    newer = await world.start(THERAPIST)
    world.clock.advance(timedelta(hours=1))
    await world.write(older.conversation_id, THERAPIST)

    listed = await world.service.conversations.of_plan(PLAN, PATIENT)

    assert [c.id for c in listed] == [older.conversation_id, newer.conversation_id]
    record = world.uow.audit_log.records[-1]
    assert (record.action, record.resource, record.resource_id, record.patient_ref) == (
        "read",
        "conversations",
        PLAN,
        PNR,
    )


async def test_reading_marks_the_conversation_read_for_the_readers_side_once(world: World) -> None:
    first = await world.start(PATIENT)
    await world.write(first.conversation_id, PATIENT)

    conversation, messages = await world.service.conversations.read(first.conversation_id, COLLEAGUE)
    again, _ = await world.service.conversations.read(first.conversation_id, THERAPIST)

    assert conversation.unread_for_staff == again.unread_for_staff == 0
    assert [m.text for m in messages] == ["Hej! En fråga.", "Svar"]
    [read] = world.uow.events_of(events.ConversationRead)
    assert (read.reader_kind, read.unit_id, read.conversation_id) == ("staff", UNIT, first.conversation_id)
    assert world.uow.audit_log.actions()[-2:] == [("read", "conversation", first.conversation_id)] * 2
    assert await world.service.conversations.unread(PLAN, THERAPIST) == {"total": 0, first.conversation_id: 0}


async def test_a_reader_sees_sent_messages_and_only_their_own_drafts(world: World) -> None:
    first = await world.start(PATIENT)
    mine = await world.write(first.conversation_id, THERAPIST, text="Mitt utkast", draft=True)
    theirs = await world.write(first.conversation_id, COLLEAGUE, text="Kollegans utkast", draft=True)

    _, for_me = await world.service.conversations.read(first.conversation_id, THERAPIST)
    _, for_patient = await world.service.conversations.read(first.conversation_id, PATIENT)

    assert [m.id for m in for_me] == [first.id, mine.id]
    assert [m.id for m in for_patient] == [first.id]
    assert theirs.id in world.messages.items


async def test_staff_delete_a_conversation_softly_for_both_sides_and_stop_its_sla(world: World) -> None:
    first = await world.start(PATIENT)
    admin = staff(Role.PATIENT_ADMIN, hsa_id="SE2321000016-A001")

    await world.service.conversations.delete(first.conversation_id, admin)

    for by in (PATIENT, THERAPIST):
        with pytest.raises(NotFound, match="no such conversation"):
            await world.service.conversations.read(first.conversation_id, by)
    assert await world.service.conversations.of_plan(PLAN, THERAPIST) == []
    assert await world.service.conversations.unread(PLAN, THERAPIST) == {"total": 0}
    kept = world.conversations.items[first.conversation_id]
    assert kept.deleted_by == admin.hsa_id and first.id in world.messages.items
    assert world.timers.pending() == []
    [deleted] = world.uow.events_of(events.ConversationDeleted)
    assert (deleted.conversation_id, deleted.unit_id) == (first.conversation_id, UNIT)
    assert ("delete", "conversation", first.conversation_id) in world.uow.audit_log.actions()
    with pytest.raises(NotFound):
        await world.service.conversations.delete(first.conversation_id, admin)
    with pytest.raises(NotFound):
        await world.write(first.conversation_id, PATIENT)
