"""The contract of the retention service: topic `careplan.retention.v1`, keyed by plan id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.contracts.transfer import TransferAppliedBase, transfer_applied_type
from shared.messaging.events import Event, Topic

RETENTION_TOPIC = Topic(
    name="careplan.retention.v1", partitions=6, description="Retention deadlines, exports and purges, keyed by plan id."
)


class RetentionLimitReached(Event):
    """Day 730 of a plan has come: it must be ended and purged now."""

    ce_type: ClassVar[str] = "se.careplan.retention.limit_reached.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    unit_id: str
    limit_at: datetime


class PurgeReminderDue(Event):
    """The plan will be ended and purged in `days_left` days: the patient and the responsible therapist
    are reminded (by the notifications service)."""

    ce_type: ClassVar[str] = "se.careplan.retention.purge_reminder_due.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    unit_id: str
    days_left: int
    limit_at: datetime


class PurgeReceipt(PurgeReceiptBase):
    """The retention service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("retention")
    topic: ClassVar[Topic] = RETENTION_TOPIC


class PurgeRequested(Event):
    """Every service must delete all personal data of the plan and answer with its purge receipt.
    Sent again (same `purge_id`, higher `attempt`) to services whose receipt is missing."""

    ce_type: ClassVar[str] = "se.careplan.retention.purge_requested.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    purge_id: str
    requested_at: datetime
    attempt: int = 1
    services: list[str] = Field(description="The services asked this time (those whose receipt is missing).")


class PlanPurged(Event):
    """Every service's receipt is in: nothing personal of the plan is left on the platform."""

    ce_type: ClassVar[str] = "se.careplan.retention.plan_purged.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    purge_id: str
    purged_at: datetime
    forced: bool = False


class PlanExported(Event):
    """The plan's export for the journal is ready (a reference: no content)."""

    ce_type: ClassVar[str] = "se.careplan.retention.plan_exported.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    export_id: str
    exported_at: datetime


class ExportRequested(Event):
    """Every service holding plan data must answer with its part of the plan's export for the journal.
    Sent again (same `export_id`, higher `attempt`) to services whose part is missing."""

    ce_type: ClassVar[str] = "se.careplan.retention.export_requested.v1"
    topic: ClassVar[Topic] = RETENTION_TOPIC
    plan_id: str
    export_id: str
    requested_at: datetime
    attempt: int = 1
    services: list[str] = Field(description="The services asked this time (those whose part is missing).")


class TransferApplied(TransferAppliedBase):
    """The retention service's ownership copy followed a handover's transfer (or its reversal)."""

    ce_type: ClassVar[str] = transfer_applied_type("retention")
    topic: ClassVar[Topic] = RETENTION_TOPIC
