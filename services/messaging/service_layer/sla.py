"""The reply SLA's durable timers: started by a patient message, met by a staff reply, flags raised when
they fire, stopped when the conversation is deleted or the plan ends."""

from __future__ import annotations

from services.messaging.adapters import metrics
from services.messaging.domain.model import Conversation, Flag, Message, answer
from services.messaging.service_layer.ports import MessageRepository
from shared.contracts import plans
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import WorkflowRef, start_workflow, workflow_step
from shared.ownership import OwnershipRepository, OwnershipState
from shared.storage.timers import Timer, TimerHandler, TimerScheduler
from shared.storage.unit_of_work import Transaction

DUE_SOON_TIMER = "messaging.reply_due_soon"
OVERDUE_TIMER = "messaging.reply_overdue"
SLA_WORKFLOW = "reply_sla"


def timer_key(kind: str, message_id: str) -> str:
    return f"{kind}:{message_id}"


def open_workflow(message_id: str) -> WorkflowRef:
    """The start of one message's reply-SLA trace (its later steps continue it)."""
    return start_workflow(SLA_WORKFLOW, message_id)


class ReplySla:
    def __init__(self, ownership: OwnershipRepository, messages: MessageRepository, timers: TimerScheduler) -> None:
        self.ownership = ownership
        self.messages = messages
        self.timers = timers

    def timer_handlers(self) -> dict[str, TimerHandler]:
        return {DUE_SOON_TIMER: self.on_due_soon, OVERDUE_TIMER: self.on_overdue}

    async def start(self, message: Message, tx: Transaction) -> None:
        """Schedule the due-soon and overdue timers of a patient message just sent."""
        assert message.sla is not None
        payload = {"message_id": message.id, "plan_id": message.plan_id}  # plan_id: a purge finds them
        for kind, due_at in ((DUE_SOON_TIMER, message.sla.due_soon_at), (OVERDUE_TIMER, message.sla.overdue_at)):
            await self.timers.schedule(timer_key(kind, message.id), kind, due_at, payload, session=tx.session)

    async def meet(self, conversation: Conversation, unit_id: str, tx: Transaction) -> None:
        """A staff reply: every earlier unanswered patient message of the conversation is answered."""
        unanswered = await self.messages.unanswered_in(conversation.id, tx.session)
        now = tx.clock.now()
        met = answer(conversation, unanswered, unit_id, now)
        if met is None:
            return
        for message in unanswered:
            await self.messages.save(message, tx.session)
            await self._stop(message, tx)
            _observe_reply(message, message.seconds_waited(now))
        tx.publish(met)

    async def stop_in_conversation(self, conversation_id: str, tx: Transaction) -> None:
        """The conversation is deleted: its open SLAs raise no more flags."""
        for message in await self.messages.unanswered_in(conversation_id, tx.session):
            await self._stop(message, tx)

    async def on_plan_ended(self, event: plans.PlanEnded, _: ReceivedEvent | None, tx: Transaction) -> None:
        """An ended plan is read-only: no flag fires for its unanswered messages."""
        for message in await self.messages.unanswered_of_plan(event.plan_id, tx.session):
            await self._stop(message, tx)

    async def on_due_soon(self, timer: Timer, tx: Transaction) -> None:
        await self._flag(timer, tx, "due_soon")

    async def on_overdue(self, timer: Timer, tx: Transaction) -> None:
        await self._flag(timer, tx, "overdue")

    async def _flag(self, timer: Timer, tx: Transaction, flag: Flag) -> None:
        message = await self.messages.get(timer.payload["message_id"], tx.session)
        if message is None or message.sla is None:
            return
        ownership = await self.ownership.get(message.plan_id, tx.session)
        if ownership is None or ownership.state is OwnershipState.ENDED:
            return  # a message sent while the plan ended: its timers outlived the cancellation
        due = message.sla.flags_up_to(flag)  # nothing if answered or already flagged
        for step in due:
            with workflow_step(message.sla.workflow, step):
                tx.publish(*message.raise_flag(step, ownership.unit_id))
            _count_flag(step)
        if due:
            await self.messages.save(message, tx.session)

    async def _stop(self, message: Message, tx: Transaction) -> None:
        for kind in (DUE_SOON_TIMER, OVERDUE_TIMER):
            await self.timers.cancel(timer_key(kind, message.id), tx.session)


def _observe_reply(message: Message, waited: float) -> None:
    assert message.sla is not None
    with workflow_step(message.sla.workflow, "met", link_current=True) as span:
        span.set_attribute("careplan.sla.seconds_to_reply", waited)
    metrics.TIME_TO_REPLY.observe(waited)


def _count_flag(flag: Flag) -> None:
    metrics.SLA_FLAGS.labels(flag).inc()
    if flag == "overdue":
        metrics.SLA_BREACHES.inc()
