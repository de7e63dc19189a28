"""HTTP routes of the messaging service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel

from services.messaging.domain.commands import EditDraft, SendMessage, StartConversation
from services.messaging.domain.model import Conversation, Message
from services.messaging.domain.sla import reply_deadline
from services.messaging.service_layer.service import MessagingService
from shared.kernel.errors import Invalid
from shared.kernel.principals import Principal, Staff
from shared.web.dependencies import get_principal, get_service, require_staff

router = APIRouter()
Caller = Annotated[Principal, Depends(get_principal)]


Service = Annotated[MessagingService, Depends(get_service)]


class ConversationView(BaseModel):
    conversation: Conversation
    messages: list[Message]


class DueAnswer(BaseModel):
    arrived_at: datetime
    due_soon_at: datetime
    deadline: datetime


@router.post(
    "/plans/{plan_id}/conversations",
    tags=["messages"],
    status_code=201,
    response_model=Message,
    summary="Start a conversation with its first message (or a draft of it)",
)
async def start_conversation(plan_id: str, command: StartConversation, svc: Service, by: Caller) -> Message:
    return await svc.conversations.start(plan_id, command, by)


@router.get(
    "/plans/{plan_id}/conversations",
    tags=["messages"],
    response_model=list[Conversation],
    summary="The plan's conversations, the latest message first, with unread counts for each side",
)
async def list_conversations(plan_id: str, svc: Service, by: Caller) -> list[Conversation]:
    return await svc.conversations.of_plan(plan_id, by)


@router.get(
    "/plans/{plan_id}/unread",
    tags=["messages"],
    response_model=dict[str, int],
    summary="Unread counts for the caller's side: the total and one per conversation id",
)
async def unread(plan_id: str, svc: Service, by: Caller) -> dict[str, int]:
    return await svc.conversations.unread(plan_id, by)


@router.get(
    "/conversations/{conversation_id}",
    tags=["messages"],
    response_model=ConversationView,
    summary="Messages (and the caller's drafts); marks the conversation read for the caller's side",
)
async def read_conversation(conversation_id: str, svc: Service, by: Caller) -> ConversationView:
    conversation, messages = await svc.conversations.read(conversation_id, by)
    return ConversationView(conversation=conversation, messages=messages)


@router.post(
    "/conversations/{conversation_id}/messages",
    tags=["messages"],
    status_code=201,
    response_model=Message,
    summary="Write a message (or a draft) in a conversation",
)
async def send_message(conversation_id: str, command: SendMessage, svc: Service, by: Caller) -> Message:
    return await svc.conversations.send(conversation_id, command, by)


@router.put(
    "/conversations/{conversation_id}/messages/{message_id}",
    tags=["messages"],
    response_model=Message,
    summary="Edit a draft (a sent message cannot be edited: 403)",
)
async def edit_message(conversation_id: str, message_id: str, command: EditDraft, svc: Service, by: Caller) -> Message:
    return await svc.drafts.edit(conversation_id, message_id, command, by)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/send",
    tags=["messages"],
    response_model=Message,
    summary="Send a draft",
)
async def send_draft(conversation_id: str, message_id: str, svc: Service, by: Caller) -> Message:
    return await svc.drafts.send(conversation_id, message_id, by)


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}",
    tags=["messages"],
    status_code=204,
    summary="Delete a draft (a sent message cannot be deleted: 403)",
)
async def delete_draft(conversation_id: str, message_id: str, svc: Service, by: Caller) -> Response:
    await svc.drafts.delete(conversation_id, message_id, by)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/conversations/{conversation_id}",
    tags=["messages"],
    status_code=204,
    summary="Delete a conversation (staff; soft, audited)",
)
async def delete_conversation(conversation_id: str, svc: Service, by: Annotated[Staff, require_staff()]) -> Response:
    await svc.conversations.delete(conversation_id, by)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/sla/due",
    tags=["sla"],
    response_model=DueAnswer,
    summary="When is a reply due for a patient message that arrived at this instant?",
)
async def sla_due(
    arrived_at: Annotated[str, Query(description="ISO 8601 with offset, e.g. 2026-12-23T10:00:00+01:00")], _: Caller
) -> DueAnswer:
    try:
        moment = datetime.fromisoformat(arrived_at)
    except ValueError:
        raise Invalid("arrived_at is not an ISO 8601 timestamp", field="arrived_at") from None
    if moment.tzinfo is None:
        raise Invalid("arrived_at needs a UTC offset (e.g. +01:00 or Z)", field="arrived_at")
    try:
        deadline = reply_deadline(moment)
    except ValueError as exc:
        raise Invalid(str(exc), field="arrived_at") from None
    return DueAnswer(arrived_at=deadline.arrived_at, due_soon_at=deadline.due_soon_at, deadline=deadline.deadline)
