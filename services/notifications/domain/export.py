"""The notifications service's part of a plan's export for the journal: what was sent about the plan,
when, on which channel and how it went. Never an address, a recipient or a text: the ledger's
templates are generic, and where a notice went is no part of the journal."""

from __future__ import annotations

from services.notifications.domain.model import Delivery
from shared.contracts.export import AuditSummary, NotificationPart, NotificationsPart


def notifications_part(deliveries: list[Delivery], audit: AuditSummary) -> NotificationsPart:
    """Every delivery of the plan, oldest first."""
    return NotificationsPart(
        notifications=[
            NotificationPart(
                trigger_kind=d.trigger_kind,
                channel=d.channel,
                state=d.state,
                created_at=d.created_at,
                sent_at=d.sent_at,
                recipient_kind=d.recipient_kind,
                attempts=d.attempts,
            )
            for d in sorted(deliveries, key=lambda d: (d.created_at, d.channel))
        ],
        audit=audit,
    )


def audited_ids(plan_id: str, deliveries: list[Delivery]) -> set[str]:
    """What the service's audit records of this plan name: the plan and the triggers of its deliveries."""
    return {plan_id, *(d.trigger_id for d in deliveries)}
