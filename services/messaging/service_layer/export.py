"""The messaging service's answer to retention's export request: its part of the plan's export for
the journal (`shared.contracts.messaging.ExportPart`), ended plans included (read-only, not gone)."""

from __future__ import annotations

from typing import Any, Protocol

from services.messaging.domain.export import audited_ids, messaging_part
from services.messaging.domain.model import Conversation, Message
from shared.audit import AuditReader
from shared.contracts.export import AuditSummary
from shared.contracts.messaging import ExportPart
from shared.contracts.retention import ExportRequested
from shared.messaging.events import ReceivedEvent
from shared.ownership import OwnershipRepository
from shared.storage.unit_of_work import Transaction

SERVICE = "messaging"


class PlanArchive(Protocol):
    """Everything messaging holds of one plan, deleted conversations and drafts included."""

    async def conversations(self, plan_id: str, session: Any = None) -> list[Conversation]: ...

    async def messages(self, plan_id: str, session: Any = None) -> list[Message]: ...


class MessagingExport:
    def __init__(self, ownership: OwnershipRepository, archive: PlanArchive, audit: AuditReader) -> None:
        self.ownership = ownership
        self.archive = archive
        self.audit = audit

    async def on_export_requested(self, request: ExportRequested, _: ReceivedEvent | None, tx: Transaction) -> None:
        """Consumer handler: publish the plan's conversations and messages (an empty part for a plan
        without any); a request naming only other services publishes nothing."""
        if SERVICE not in request.services:
            return
        plan_id = request.plan_id
        conversations = await self.archive.conversations(plan_id, tx.session)
        messages = await self.archive.messages(plan_id, tx.session)
        ownership = await self.ownership.get(plan_id, tx.session)
        patient = ownership.patient_personnummer if ownership else None
        records = await self.audit.about(
            audited_ids(plan_id, conversations, messages), patient=patient, session=tx.session
        )
        part = messaging_part(conversations, messages, AuditSummary.of(records))
        tx.publish(ExportPart.answering(plan_id, request.export_id, SERVICE, part, tx.clock.now()))
        if ownership is not None:
            tx.audit(
                None,
                "export",
                "conversations",
                plan_id,
                patient=ownership.patient_personnummer,
                unit_id=ownership.unit_id,
                reason=f"journal export {request.export_id}",
            )
