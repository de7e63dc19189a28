"""The contract of the handover service: topic `careplan.handover.v1`, keyed by plan id."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.messaging.events import Topic, declare_topic

HANDOVER_TOPIC = declare_topic(
    Topic(
        name="careplan.handover.v1",
        partitions=6,
        description="Handover requested/accepted/declined/completed, keyed by plan id.",
    )
)


class PurgeReceipt(PurgeReceiptBase):
    """The handover service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("handover")
    topic: ClassVar[Topic] = HANDOVER_TOPIC


class ExportPart(ExportPartBase):
    """The handover service's part of a plan's export for the journal (an answer to `export_requested`)."""

    ce_type: ClassVar[str] = export_part_type("handover")
    topic: ClassVar[Topic] = HANDOVER_TOPIC
