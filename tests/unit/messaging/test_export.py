"""The messaging service's part of a plan's export for the journal: every conversation and sent message
as it was written, for an ended plan; an empty part for a plan without messages; nothing for a
request naming other services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from launcher.consumer_groups import service_consumer_groups
from services.messaging.domain.model import Conversation, Message
from services.messaging.service_layer.export import MessagingExport
from shared.contracts import messaging as events
from shared.contracts.export import MessagingPart
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested, PurgeRequested
from shared.ownership import OwnershipState
from tests.unit.messaging.conftest import PATIENT, PLAN, PNR, THERAPIST, UNIT, World


class FakeArchive:
    """The plan archive over the in-memory repositories' documents."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def conversations(self, plan_id: str, session: Any = None) -> list[Conversation]:
        return [c.model_copy(deep=True) for c in self.world.conversations.items.values() if c.plan_id == plan_id]

    async def messages(self, plan_id: str, session: Any = None) -> list[Message]:
        return [m.model_copy(deep=True) for m in self.world.messages.items.values() if m.plan_id == plan_id]


def request(plan_id: str = PLAN, services: tuple[str, ...] = ("plans", "messaging")) -> ExportRequested:
    return ExportRequested(
        plan_id=plan_id, export_id="export-1", requested_at=datetime(2027, 1, 1, tzinfo=UTC), services=list(services)
    )


async def export(world: World, asked: ExportRequested) -> list[events.ExportPart]:
    handler = MessagingExport(world.ownership, FakeArchive(world), world.uow.audit_log)
    before = len(world.uow.events_of(events.ExportPart))
    await world.uow.run(lambda tx: handler.on_export_requested(asked, None, tx))
    return world.uow.events_of(events.ExportPart)[before:]


async def conversation_then_end(world: World) -> Message:
    first = await world.start(PATIENT, text="Hej! Jag sover dåligt sedan operationen.")
    world.clock.advance(timedelta(hours=2))
    await world.write(first.conversation_id, THERAPIST, text="Vi ringer dig i morgon.")
    await world.write(first.conversation_id, THERAPIST, text="Ett utkast aldrig skickat", draft=True)
    world.set_state(OwnershipState.ENDED)
    return first


async def test_every_sent_message_is_exported_with_author_time_and_text(world: World) -> None:
    first = await conversation_then_end(world)

    [answer] = await export(world, request())

    assert (answer.plan_id, answer.export_id, answer.service) == (PLAN, "export-1", "messaging")
    [conversation] = MessagingPart.model_validate(answer.content).conversations
    assert (conversation.conversation_id, conversation.subject) == (first.conversation_id, "Fråga om behandlingen")
    assert conversation.deleted_at is None
    assert [(m.author_kind, m.author_hsa_id, m.text) for m in conversation.messages] == [
        ("patient", None, "Hej! Jag sover dåligt sedan operationen."),
        ("staff", THERAPIST.hsa_id, "Vi ringer dig i morgon."),
    ]  # the draft was never sent: not there
    assert conversation.messages[1].author_name == "Anna Terapeut"
    assert conversation.messages[1].sent_at - conversation.messages[0].sent_at == timedelta(hours=2)


async def test_a_deleted_conversation_is_exported_marked_as_deleted(world: World) -> None:
    first = await conversation_then_end(world)
    world.set_state(OwnershipState.ACTIVE)
    await world.service.conversations.delete(first.conversation_id, THERAPIST)

    [answer] = await export(world, request())

    [conversation] = MessagingPart.model_validate(answer.content).conversations
    assert conversation.deleted_at == world.clock.now() and len(conversation.messages) == 2
    assert MessagingPart.model_validate(answer.content).audit.counts["delete conversation"] == 1


async def test_the_part_summarises_the_audit_trail_of_the_plans_messages_and_the_export_is_audited(
    world: World,
) -> None:
    first = await conversation_then_end(world)
    await world.service.conversations.read(first.conversation_id, THERAPIST)

    [answer] = await export(world, request())

    audit = MessagingPart.model_validate(answer.content).audit
    assert audit.counts == {"create message": 2, "create message.draft": 1, "read conversation": 1}
    exported = world.uow.audit_log.records[-1]
    assert (exported.action, exported.resource_id, exported.actor_kind) == ("export", PLAN, "system")
    assert (exported.patient_ref, exported.unit_id) == (PNR, UNIT)


async def test_a_plan_without_messages_gets_an_empty_part(world: World) -> None:
    [answer] = await export(world, request())
    assert MessagingPart.model_validate(answer.content) == MessagingPart()

    [unknown] = await export(world, request("a-plan-never-heard-of"))
    assert unknown.content == MessagingPart().model_dump(mode="json")


async def test_a_request_not_naming_messaging_publishes_nothing(world: World) -> None:
    await conversation_then_end(world)
    assert await export(world, request(services=("plans", "forms"))) == []


def test_export_requests_are_read_by_the_consumer_of_purge_requests() -> None:
    """One consumer group reads both in the topic's order: a plan's export is answered before its purge."""
    [group] = [g for g in service_consumer_groups("messaging") if PurgeRequested.ce_type in g.ce_types]
    assert group.topics == (RETENTION_TOPIC.name,) and ExportRequested.ce_type in group.ce_types
