"""Events of the notifications service: public delivery outcomes, and the internal work topic."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from services.notifications.domain.model import FanoutRecipient
from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.contracts.transfer import TransferAppliedBase, transfer_applied_type
from shared.messaging.events import DEAD_LETTER_TOPIC, Event, Topic

NOTIFICATIONS_TOPIC = Topic(
    name="careplan.notifications.v1", partitions=6, description="Notification delivered / failed, keyed by delivery id."
)
WORK_TOPIC = Topic(
    name="careplan.notifications.work.v1",
    partitions=12,
    description="Internal: announcement fan-out batches and due deliveries, spread over partitions.",
    # Recipients' contact details travel here (sealed with short-lived work keys): keep them no longer than
    # the fan-out needs, and below the work keys' lifetime (KEYRING_WORK_KEY_SECONDS, 7 days).
    retention_ms=3 * 24 * 3600 * 1000,
)


class NotificationDelivered(Event):
    ce_type: ClassVar[str] = "se.careplan.notifications.delivered.v1"
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC
    key_field: ClassVar[str] = "delivery_id"
    delivery_id: str
    trigger_id: str
    trigger_kind: str
    channel: Literal["email", "sms", "inbox"]
    plan_id: str | None


class AnnouncementDeliveries(Event):
    """Deliveries of one announcement batch that went out (one event for the batch, not one per recipient)."""

    ce_type: ClassVar[str] = "se.careplan.notifications.announcement_delivered.v1"
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC
    key_field: ClassVar[str] = "batch_key"
    batch_key: str
    trigger_id: str
    delivery_ids: list[str]


class NotificationFailed(Event):
    ce_type: ClassVar[str] = "se.careplan.notifications.failed.v1"
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC
    key_field: ClassVar[str] = "delivery_id"
    delivery_id: str
    trigger_id: str
    trigger_kind: str
    channel: Literal["email", "sms", "inbox"]
    plan_id: str | None
    reason: str


class DeliveryDeadLettered(Event):
    """A delivery that failed for good, on the dead-letter topic for operators."""

    ce_type: ClassVar[str] = "se.careplan.notifications.dead_lettered.v1"
    topic: ClassVar[Topic] = DEAD_LETTER_TOPIC
    key_field: ClassVar[str] = "delivery_id"
    delivery_id: str
    trigger_id: str
    channel: Literal["email", "sms", "inbox"]
    reason: str


class AnnouncementRequested(Event):
    ce_type: ClassVar[str] = "se.careplan.notifications.announcement_requested.v1"
    topic: ClassVar[Topic] = WORK_TOPIC
    key_field: ClassVar[str] = "announcement_id"
    announcement_id: str


class AnnouncementBatch(Event):
    """Up to a few hundred recipients of one announcement (internal work topic), each with the channels
    and addresses they had chosen as the announcement fanned out, so a worker need not look them up."""

    ce_type: ClassVar[str] = "se.careplan.notifications.announcement_batch.v1"
    topic: ClassVar[Topic] = WORK_TOPIC
    key_field: ClassVar[str] = "batch_id"
    work_key_field: ClassVar[str | None] = "batch_id"  # one key per batch, destroyed once it is delivered
    batch_id: str
    announcement_id: str
    recipients: list[FanoutRecipient] = []
    plan_ids: list[str] = Field(default=[], description="Earlier form of the batch (looked up by the worker).")


class AnnouncementStalled(Event):
    """An announcement's fan-out made no progress between two checks: its missing batches (all of them
    when the split never finished: `missing_batches` null) are to be published again. Deliveries already
    made are not repeated (the ledger)."""

    ce_type: ClassVar[str] = "se.careplan.notifications.announcement_stalled.v1"
    topic: ClassVar[Topic] = WORK_TOPIC
    key_field: ClassVar[str] = "announcement_id"
    announcement_id: str
    missing_batches: list[int] | None = None


class DeliveriesDue(Event):
    """Deliveries whose retry or deferral time has come."""

    ce_type: ClassVar[str] = "se.careplan.notifications.deliveries_due.v1"
    topic: ClassVar[Topic] = WORK_TOPIC
    key_field: ClassVar[str] = "key"
    key: str
    delivery_ids: list[str]


class PurgeReceipt(PurgeReceiptBase):
    """The notifications service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("notifications")
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC


class ExportPart(ExportPartBase):
    """The notifications service's part of a plan's export for the journal (an answer to `export_requested`)."""

    ce_type: ClassVar[str] = export_part_type("notifications")
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC


class TransferApplied(TransferAppliedBase):
    """The notifications service's ownership copy followed a handover's transfer (or its reversal)."""

    ce_type: ClassVar[str] = transfer_applied_type("notifications")
    topic: ClassVar[Topic] = NOTIFICATIONS_TOPIC
