"""Use cases of the messaging service, the reply SLA's timers included."""

from __future__ import annotations

import uuid
from typing import Literal

from services.messaging.adapters import metrics
from services.messaging.adapters.repository import MessagingRepository
from services.messaging.domain.commands import EditDraft, SendMessage, StartConversation
from services.messaging.domain.model import (
    CONVERSATION_NOT_FOUND,
    PLAN_NOT_FOUND,
    Conversation,
    Message,
    PlanAccess,
    PlanEndedView,
    PlanStartedView,
    ResponsibleChangedView,
    Sla,
)
from services.messaging.domain.sla import reply_deadline
from shared.contracts import messaging as events
from shared.kernel.errors import Forbidden, NotFound
from shared.kernel.principals import Patient, Principal, Staff
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import start_workflow, workflow_step
from shared.storage.timers import Timer, TimerStore
from shared.storage.unit_of_work import Transaction, UnitOfWork

DUE_SOON_TIMER = "messaging.reply_due_soon"
OVERDUE_TIMER = "messaging.reply_overdue"
SLA_WORKFLOW = "reply_sla"
DRAFT_NOT_FOUND = "no such draft"


class MessagingService:
    def __init__(self, uow: UnitOfWork, repo: MessagingRepository, timers: TimerStore) -> None:
        self.uow = uow
        self.repo = repo
        self.timers = timers

    # -- the plans read model ----------------------------------------------------------------
    async def on_plan_started(self, event: PlanStartedView, _: ReceivedEvent, tx: Transaction) -> None:
        await self.repo.save_plan(PlanAccess(**event.model_dump()), tx.session)

    async def on_plan_ended(self, event: PlanEndedView, _: ReceivedEvent, tx: Transaction) -> None:
        access = await self.repo.plan(event.plan_id, tx.session)
        if access is not None:
            await self.repo.save_plan(access.model_copy(update={"active": False}), tx.session)

    async def on_responsible_changed(self, event: ResponsibleChangedView, _: ReceivedEvent, tx: Transaction) -> None:
        access = await self.repo.plan(event.plan_id, tx.session)
        if access is not None:
            await self.repo.save_plan(
                access.model_copy(update={"responsible_hsa_id": event.responsible_hsa_id}), tx.session
            )

    # -- access ------------------------------------------------------------------------------
    async def _plan_for(self, plan_id: str, by: Principal, session: object = None) -> PlanAccess:
        access = await self.repo.plan(plan_id, session)  # type: ignore[arg-type]
        if access is None:
            raise NotFound(PLAN_NOT_FOUND)
        access.require_visible(by)
        return access

    async def _conversation_for(
        self, conversation_id: str, by: Principal, session: object = None
    ) -> tuple[Conversation, PlanAccess]:
        conversation = await self.repo.conversation(conversation_id, session)  # type: ignore[arg-type]
        if conversation is None:
            raise NotFound(CONVERSATION_NOT_FOUND)
        conversation.require_not_deleted()
        access = await self.repo.plan(conversation.plan_id, session)  # type: ignore[arg-type]
        if access is None or not access.visible_to(by):
            raise NotFound(CONVERSATION_NOT_FOUND)
        return conversation, access

    # -- writing -----------------------------------------------------------------------------
    async def start_conversation(self, plan_id: str, command: StartConversation, by: Principal) -> Message:
        notify = _notify_setting(command.notify_inbox, by)

        async def work(tx: Transaction) -> Message:
            access = await self._plan_for(plan_id, by, tx.session)
            access.require_active()
            conversation = Conversation(
                id=str(uuid.uuid4()),
                plan_id=plan_id,
                unit_id=access.unit_id,
                subject=command.subject,
                created_at=tx.clock.now(),
                created_by_kind="staff" if isinstance(by, Staff) else "patient",
            )
            await self.repo.add_conversation(conversation, tx.session)
            message = Message.new(
                conversation, by, command.text, draft=command.draft, notify_inbox=notify, now=tx.clock.now()
            )
            await self._store(message, conversation, access, by, tx)
            return message

        return await self.uow.run(work)

    async def send_message(self, conversation_id: str, command: SendMessage, by: Principal) -> Message:
        notify = _notify_setting(command.notify_inbox, by)

        async def work(tx: Transaction) -> Message:
            conversation, access = await self._conversation_for(conversation_id, by, tx.session)
            access.require_active()
            message = Message.new(
                conversation, by, command.text, draft=command.draft, notify_inbox=notify, now=tx.clock.now()
            )
            await self._store(message, conversation, access, by, tx)
            return message

        return await self.uow.run(work)

    async def _store(
        self, message: Message, conversation: Conversation, access: PlanAccess, by: Principal, tx: Transaction
    ) -> None:
        if message.status == "draft":
            await self.repo.save_message(message, tx.session)
            tx.audit(
                by, "create", "message.draft", message.id, patient=access.patient_personnummer, unit_id=access.unit_id
            )
            return
        await self._deliver(message, conversation, access, by, tx)

    async def _deliver(
        self, message: Message, conversation: Conversation, access: PlanAccess, by: Principal, tx: Transaction
    ) -> None:
        """Send: store, count unread for the other side, start or meet SLAs, publish."""
        now = tx.clock.now()
        message.status, message.sent_at = "sent", now
        deadline = None
        if message.sender_kind == "patient":
            deadline = reply_deadline(now)
            message.sla = Sla(
                due_soon_at=deadline.due_soon_at,
                deadline=deadline.deadline,
                workflow=start_workflow(SLA_WORKFLOW, message.id),
            )
            payload = {"message_id": message.id}
            await self.timers.schedule(
                f"{DUE_SOON_TIMER}:{message.id}", DUE_SOON_TIMER, deadline.due_soon_at, payload, session=tx.session
            )
            await self.timers.schedule(
                f"{OVERDUE_TIMER}:{message.id}", OVERDUE_TIMER, deadline.overdue_at, payload, session=tx.session
            )
            unread = "unread_for_staff"
        else:
            await self._meet_slas(conversation, now, tx)
            unread = "unread_for_patient"
        await self.repo.save_message(message, tx.session)
        await self.repo.update_conversation(
            conversation.id, {"$inc": {unread: 1}, "$set": {"last_message_at": now}}, tx.session
        )
        tx.publish(
            events.MessageSent(
                plan_id=message.plan_id,
                unit_id=message.unit_id,
                conversation_id=conversation.id,
                message_id=message.id,
                sender_kind=message.sender_kind,
                sent_at=now,
                notify_inbox=message.notify_inbox,
                reply_deadline=deadline.deadline if deadline else None,
            )
        )
        tx.audit(by, "create", "message", message.id, patient=access.patient_personnummer, unit_id=access.unit_id)

    async def _meet_slas(self, conversation: Conversation, now: object, tx: Transaction) -> None:
        """A staff reply answers every earlier unanswered patient message of the conversation."""
        open_messages = await self.repo.unanswered_patient_messages(conversation.id, tx.session)
        if not open_messages:
            return
        breached = False
        longest = 0.0
        for message in open_messages:
            assert message.sla is not None and message.sent_at is not None
            breached = breached or message.sla.state == "overdue"
            waited = (tx.clock.now() - message.sent_at).total_seconds()
            longest = max(longest, waited)
            message.sla.state, message.sla.answered_at = "met", tx.clock.now()
            await self.repo.save_message(message, tx.session)
            await self._cancel_sla_timers(message.id, tx)
            with workflow_step(message.sla.workflow, "met", link_current=True) as span:
                span.set_attribute("careplan.sla.seconds_to_reply", waited)
            metrics.TIME_TO_REPLY.observe(waited)
        tx.publish(
            events.SlaMet(
                plan_id=conversation.plan_id,
                unit_id=conversation.unit_id,
                conversation_id=conversation.id,
                message_ids=[m.id for m in open_messages],
                replied_at=tx.clock.now(),
                seconds_to_reply=longest,
                breached=breached,
            )
        )

    async def _cancel_sla_timers(self, message_id: str, tx: Transaction) -> None:
        for kind in (DUE_SOON_TIMER, OVERDUE_TIMER):
            await self.timers.cancel(f"{kind}:{message_id}", tx.session)

    # -- timers ------------------------------------------------------------------------------
    async def on_due_soon(self, timer: Timer, tx: Transaction) -> None:
        await self._sla_timer(timer, tx, "due_soon")

    async def on_overdue(self, timer: Timer, tx: Transaction) -> None:
        await self._sla_timer(timer, tx, "overdue")

    async def _sla_timer(self, timer: Timer, tx: Transaction, state: Literal["due_soon", "overdue"]) -> None:
        message = await self.repo.message(timer.payload["message_id"], tx.session)
        if message is None or message.sla is None or message.sla.state in ("met", state):
            return  # answered (or already flagged): nothing to raise
        with workflow_step(message.sla.workflow, state):
            message.sla.state = state
            await self.repo.save_message(message, tx.session)
            common = {
                "plan_id": message.plan_id,
                "unit_id": message.unit_id,
                "conversation_id": message.conversation_id,
                "message_id": message.id,
                "deadline": message.sla.deadline,
            }
            if state == "due_soon":
                tx.publish(events.ReplyDueSoon(**common))
            else:
                tx.publish(events.ReplyOverdue(**common), events.ReplyEscalated(**common))
                metrics.SLA_BREACHES.inc()
            metrics.SLA_FLAGS.labels(state).inc()

    # -- reading -----------------------------------------------------------------------------
    async def conversations(self, plan_id: str, by: Principal) -> list[Conversation]:
        access = await self._plan_for(plan_id, by)
        await self.uow.audit_log.record(
            by, "read", "conversations", plan_id, patient=access.patient_personnummer, unit_id=access.unit_id
        )
        return await self.repo.conversations_of(plan_id)

    async def read_conversation(self, conversation_id: str, by: Principal) -> tuple[Conversation, list[Message]]:
        """The conversation's sent messages and the caller's own drafts; marks it read for the caller's side."""

        async def work(tx: Transaction) -> Conversation:
            conversation, access = await self._conversation_for(conversation_id, by, tx.session)
            field, kind = ("unread_for_staff", "staff") if isinstance(by, Staff) else ("unread_for_patient", "patient")
            if getattr(conversation, field):
                await self.repo.update_conversation(conversation_id, {"$set": {field: 0}}, tx.session)
                setattr(conversation, field, 0)
                tx.publish(
                    events.ConversationRead(
                        plan_id=conversation.plan_id,
                        unit_id=conversation.unit_id,
                        conversation_id=conversation_id,
                        reader_kind=kind,
                        read_at=tx.clock.now(),
                    )
                )
            tx.audit(
                by, "read", "conversation", conversation_id, patient=access.patient_personnummer, unit_id=access.unit_id
            )
            return conversation

        conversation = await self.uow.run(work)
        messages = [m for m in await self.repo.messages_of(conversation_id) if m.status == "sent" or m.owned_by(by)]
        return conversation, messages

    async def unread(self, plan_id: str, by: Principal) -> dict[str, int]:
        await self._plan_for(plan_id, by)
        field = "unread_for_staff" if isinstance(by, Staff) else "unread_for_patient"
        counts = {c.id: getattr(c, field) for c in await self.repo.conversations_of(plan_id)}
        return {"total": sum(counts.values()), **counts}

    # -- drafts and deletion -----------------------------------------------------------------
    async def _draft_for(
        self, conversation_id: str, message_id: str, by: Principal, tx: Transaction
    ) -> tuple[Message, Conversation, PlanAccess]:
        conversation, access = await self._conversation_for(conversation_id, by, tx.session)
        message = await self.repo.message(message_id, tx.session)
        if message is None or message.conversation_id != conversation_id or not message.owned_by(by):
            raise NotFound(DRAFT_NOT_FOUND)  # someone else's draft is not there for the caller
        if message.status != "draft":
            raise Forbidden("a sent message cannot be changed")
        return message, conversation, access

    async def edit_draft(self, conversation_id: str, message_id: str, command: EditDraft, by: Principal) -> Message:
        async def work(tx: Transaction) -> Message:
            message, _, access = await self._draft_for(conversation_id, message_id, by, tx)
            message.text = command.text
            await self.repo.save_message(message, tx.session)
            tx.audit(
                by, "update", "message.draft", message.id, patient=access.patient_personnummer, unit_id=access.unit_id
            )
            return message

        return await self.uow.run(work)

    async def send_draft(self, conversation_id: str, message_id: str, by: Principal) -> Message:
        async def work(tx: Transaction) -> Message:
            message, conversation, access = await self._draft_for(conversation_id, message_id, by, tx)
            access.require_active()
            await self._deliver(message, conversation, access, by, tx)
            return message

        return await self.uow.run(work)

    async def delete_draft(self, conversation_id: str, message_id: str, by: Principal) -> None:
        async def work(tx: Transaction) -> None:
            message, _, access = await self._draft_for(conversation_id, message_id, by, tx)
            await self.repo.delete_message(message.id, tx.session)
            tx.audit(
                by, "delete", "message.draft", message.id, patient=access.patient_personnummer, unit_id=access.unit_id
            )

        await self.uow.run(work)

    async def delete_conversation(self, conversation_id: str, by: Staff) -> None:
        """Soft delete (staff): hidden from both sides, kept for the audit trail until the plan is purged."""

        async def work(tx: Transaction) -> None:
            conversation, access = await self._conversation_for(conversation_id, by, tx.session)
            now = tx.clock.now()
            await self.repo.update_conversation(
                conversation_id, {"$set": {"deleted_at": now, "deleted_by": by.hsa_id}}, tx.session
            )
            for message in await self.repo.unanswered_patient_messages(conversation_id, tx.session):
                await self._cancel_sla_timers(message.id, tx)
            tx.publish(
                events.ConversationDeleted(
                    plan_id=conversation.plan_id,
                    unit_id=conversation.unit_id,
                    conversation_id=conversation_id,
                    deleted_at=now,
                )
            )
            tx.audit(
                by,
                "delete",
                "conversation",
                conversation_id,
                patient=access.patient_personnummer,
                unit_id=access.unit_id,
            )

        await self.uow.run(work)


def _notify_setting(requested: Literal["direct", "none"] | None, by: Principal) -> Literal["direct", "none"]:
    """Staff choose whether the patient is notified to the inbox (default: directly); patients cannot."""
    if isinstance(by, Patient):
        if requested is not None:
            raise Forbidden("only staff choose inbox notification: a patient cannot send as staff")
        return "none"
    return requested or "direct"
