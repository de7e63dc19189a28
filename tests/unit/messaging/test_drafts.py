"""Drafts: kept until sent, only for their author, editable and deletable until then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.messaging.domain.commands import EditDraft
from services.messaging.service_layer.sla import DUE_SOON_TIMER, OVERDUE_TIMER
from shared.contracts import messaging as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Principal
from shared.kernel.roles import Role
from tests.unit.messaging.conftest import COLLEAGUE, PATIENT, PLAN, THERAPIST, World, staff


async def test_a_draft_is_stored_without_sending_anything(world: World) -> None:
    draft = await world.start(PATIENT, draft=True)

    assert draft.status == "draft" and draft.sent_at is None and draft.sla is None
    assert world.uow.published == [] and world.timers.pending() == []
    assert await world.service.conversations.unread(PLAN, THERAPIST) == {"total": 0, draft.conversation_id: 0}
    assert world.uow.audit_log.actions()[0] == ("create", "message.draft", draft.id)


async def test_the_author_edits_a_draft(world: World) -> None:
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Utkast", draft=True)

    edited = await world.service.drafts.edit(first.conversation_id, draft.id, EditDraft(text="Utkast 2"), THERAPIST)

    assert edited.text == world.messages.items[draft.id].text == "Utkast 2"
    assert world.uow.audit_log.actions()[-1] == ("update", "message.draft", draft.id)


async def test_someone_elses_draft_is_not_there_for_the_caller(world: World) -> None:
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Utkast", draft=True)
    other = await world.start(PATIENT)

    cases: list[tuple[Principal, str, str]] = [
        (COLLEAGUE, first.conversation_id, draft.id),
        (PATIENT, first.conversation_id, draft.id),
        (THERAPIST, other.conversation_id, draft.id),  # the right draft in the wrong conversation
        (THERAPIST, first.conversation_id, "no-such-draft"),
    ]
    for by, conversation_id, message_id in cases:
        with pytest.raises(NotFound, match="no such draft"):
            await world.service.drafts.edit(conversation_id, message_id, EditDraft(text="x"), by)
        with pytest.raises(NotFound, match="no such draft"):
            await world.service.drafts.send(conversation_id, message_id, by)
        with pytest.raises(NotFound, match="no such draft"):
            await world.service.drafts.delete(conversation_id, message_id, by)
    assert world.messages.items[draft.id].text == "Utkast"


async def test_a_sent_message_cannot_be_edited_sent_again_or_deleted(world: World) -> None:
    first = await world.start(PATIENT)

    with pytest.raises(Forbidden, match="sent message"):
        await world.service.drafts.edit(first.conversation_id, first.id, EditDraft(text="ändrat"), PATIENT)
    with pytest.raises(Forbidden, match="sent message"):
        await world.service.drafts.send(first.conversation_id, first.id, PATIENT)
    with pytest.raises(Forbidden, match="sent message"):
        await world.service.drafts.delete(first.conversation_id, first.id, PATIENT)
    assert world.messages.items[first.id].text == "Hej! En fråga."
    assert len(world.uow.events_of(events.MessageSent)) == 1


async def test_a_patients_draft_starts_its_sla_when_sent(world: World) -> None:
    draft = await world.start(PATIENT, draft=True)
    world.clock.advance(timedelta(days=1))

    sent = await world.service.drafts.send(draft.conversation_id, draft.id, PATIENT)

    assert sent.status == "sent" and sent.sent_at == world.clock.now() and sent.created_at == draft.created_at
    assert sent.sla is not None and {t.kind for t in world.timers.pending()} == {DUE_SOON_TIMER, OVERDUE_TIMER}
    [event] = world.uow.events_of(events.MessageSent)
    assert event.message_id == draft.id and event.reply_deadline == sent.sla.deadline
    assert world.uow.audit_log.actions()[-1] == ("create", "message", draft.id)
    assert await world.service.conversations.unread(PLAN, THERAPIST) == {"total": 1, draft.conversation_id: 1}
    with pytest.raises(Forbidden, match="sent message"):
        await world.service.drafts.send(draft.conversation_id, draft.id, PATIENT)  # sending twice


async def test_a_staff_draft_when_sent_meets_the_sla_and_notifies_as_chosen(world: World) -> None:
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Svar", draft=True, notify_inbox="none")

    sent = await world.service.drafts.send(first.conversation_id, draft.id, THERAPIST)

    assert sent.status == "sent" and sent.notify_inbox == "none" and sent.sla is None
    [met] = world.uow.events_of(events.SlaMet)
    assert met.message_ids == [first.id]
    assert world.timers.pending() == []


async def test_the_author_deletes_a_draft(world: World) -> None:
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Bort", draft=True)

    await world.service.drafts.delete(first.conversation_id, draft.id, THERAPIST)

    assert draft.id not in world.messages.items
    _, messages = await world.service.conversations.read(first.conversation_id, THERAPIST)
    assert [m.id for m in messages] == [first.id]
    assert ("delete", "message.draft", draft.id) in world.uow.audit_log.actions()


async def test_staff_who_may_not_write_cannot_edit_or_send_a_draft_they_kept(world: World) -> None:
    """A therapist who wrote a draft and is now only a publisher at the unit cannot send it."""
    first = await world.start(PATIENT)
    draft = await world.write(first.conversation_id, THERAPIST, text="Utkast", draft=True)
    no_longer = staff(Role.PUBLISHER, hsa_id=THERAPIST.hsa_id)

    with pytest.raises(Forbidden):
        await world.service.drafts.edit(first.conversation_id, draft.id, EditDraft(text="x"), no_longer)
    with pytest.raises(Forbidden):
        await world.service.drafts.send(first.conversation_id, draft.id, no_longer)
    await world.service.drafts.delete(first.conversation_id, draft.id, no_longer)  # tidying up is allowed
    assert draft.id not in world.messages.items
