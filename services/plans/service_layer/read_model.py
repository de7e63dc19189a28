"""Keeps the plans' flags and last-activity read model up to date from other services' events."""

from __future__ import annotations

from services.plans.domain.flags import (
    ConversationDeleted,
    ConversationRead,
    Flag,
    FlagKind,
    FormsFlagHandled,
    FormsFlagRaised,
    FormSubmitted,
    MessageSent,
    ReplyDeadline,
    SlaMet,
    forms_key,
    sla_key,
    unread_key,
)
from services.plans.service_layer.ports import FlagRepository
from shared.messaging.events import ReceivedEvent
from shared.storage.unit_of_work import Transaction


class FlagProjector:
    """One handler per consumed event type; each is idempotent on its own and runs once per event."""

    def __init__(self, flags: FlagRepository) -> None:
        self.flags = flags

    async def message_sent(self, event: MessageSent, _: ReceivedEvent, tx: Transaction) -> None:
        if event.sender_kind == "patient":
            await self.flags.raise_flag(
                event.plan_id,
                Flag(key=unread_key(event.conversation_id), kind=FlagKind.UNREAD_MESSAGE, raised_at=event.sent_at),
                tx.session,
            )
            await self.flags.touch(event.plan_id, event.sent_at, tx.session)
        else:
            await self.flags.clear_flag(event.plan_id, unread_key(event.conversation_id), tx.session)

    async def conversation_read(self, event: ConversationRead, _: ReceivedEvent, tx: Transaction) -> None:
        if event.reader_kind == "staff":
            await self.flags.clear_flag(event.plan_id, unread_key(event.conversation_id), tx.session)

    async def reply_due_soon(self, event: ReplyDeadline, received: ReceivedEvent, tx: Transaction) -> None:
        await self._sla_flag(event, FlagKind.REPLY_DUE_SOON, received, tx)

    async def reply_overdue(self, event: ReplyDeadline, received: ReceivedEvent, tx: Transaction) -> None:
        await self._sla_flag(event, FlagKind.REPLY_OVERDUE, received, tx)

    async def _sla_flag(self, event: ReplyDeadline, kind: FlagKind, received: ReceivedEvent, tx: Transaction) -> None:
        raised_at = received.time or tx.clock.now()
        await self.flags.raise_flag(
            event.plan_id, Flag(key=sla_key(event.conversation_id), kind=kind, raised_at=raised_at), tx.session
        )

    async def sla_met(self, event: SlaMet, _: ReceivedEvent, tx: Transaction) -> None:
        await self.flags.clear_flag(event.plan_id, sla_key(event.conversation_id), tx.session)

    async def conversation_deleted(self, event: ConversationDeleted, _: ReceivedEvent, tx: Transaction) -> None:
        await self.flags.clear_flag(event.plan_id, unread_key(event.conversation_id), tx.session)
        await self.flags.clear_flag(event.plan_id, sla_key(event.conversation_id), tx.session)

    async def forms_flag_raised(self, event: FormsFlagRaised, _: ReceivedEvent, tx: Transaction) -> None:
        await self.flags.raise_flag(
            event.plan_id,
            Flag(key=forms_key(event.flag_id), kind=FlagKind(event.kind), raised_at=event.raised_at),
            tx.session,
        )

    async def forms_flag_handled(self, event: FormsFlagHandled, _: ReceivedEvent, tx: Transaction) -> None:
        await self.flags.clear_flag(event.plan_id, forms_key(event.flag_id), tx.session)

    async def form_submitted(self, event: FormSubmitted, _: ReceivedEvent, tx: Transaction) -> None:
        await self.flags.touch(event.plan_id, event.submitted_at, tx.session)
