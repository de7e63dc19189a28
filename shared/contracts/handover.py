"""The contract of the handover service: topic `careplan.handover.v1`, keyed by plan id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field

from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.contracts.transfer import TransferAppliedBase, transfer_applied_type
from shared.crypto.personal import Personal
from shared.messaging.events import Event, Topic, declare_topic

HANDOVER_TOPIC = declare_topic(
    Topic(
        name="careplan.handover.v1",
        partitions=6,
        description="Handovers requested, accepted, declined, withdrawn, expired, completed and compensated, "
        "and the handover service's own transfer confirmations; keyed by plan id.",
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


class ConsentMethod(StrEnum):
    """How the patient's consent to the handover was given."""

    VERBAL = "verbal"
    WRITTEN = "written"
    E_SERVICE = "e_service"


class Consent(BaseModel):
    """The patient's consent to a handover, as the initiating unit recorded it."""

    method: ConsentMethod
    recorded_by: str = Field(description="HSA-id of the staff member who recorded the consent.")
    recorded_at: datetime


class HandoverEvent(Event):
    """A step of one handover; `unit_id` is the handing-over unit, `to_unit_id` the receiving one."""

    topic: ClassVar[Topic] = HANDOVER_TOPIC
    handover_id: str
    plan_id: str
    unit_id: str
    to_unit_id: str


class HandoverRequested(HandoverEvent):
    """A unit asked to hand a plan over; the receiving unit's patient admins accept or decline."""

    ce_type: ClassVar[str] = "se.careplan.handover.requested.v1"
    program_id: str
    program_version: str
    requested_by: str
    requested_at: datetime
    consent: Consent
    expires_at: datetime


class HandoverAccepted(HandoverEvent):
    """The receiving unit accepted: the plans service moves the plan (the saga starts)."""

    ce_type: ClassVar[str] = "se.careplan.handover.accepted.v1"
    accepted_by: str
    accepted_at: datetime
    responsible_hsa_id: str = Field(description="The receiving unit's therapist responsible from now on.")
    ownership_version: int = Field(description="The plan's ownership version the handover was accepted on.")


class HandoverDeclined(HandoverEvent):
    ce_type: ClassVar[str] = "se.careplan.handover.declined.v1"
    declined_by: str
    declined_at: datetime
    reason: Personal[str] = Field(description="Free text by the receiving unit: sealed with the plan's key on Kafka.")


class HandoverWithdrawn(HandoverEvent):
    """The handing-over unit withdrew the request, or the system did because the plan ended."""

    ce_type: ClassVar[str] = "se.careplan.handover.withdrawn.v1"
    withdrawn_by: str = Field(description="The withdrawing staff member's HSA-id, or `system`.")
    withdrawn_at: datetime
    reason: str = Field(default="", description="Why the system withdrew it (e.g. the plan ended); no personal data.")


class HandoverExpired(HandoverEvent):
    """Nobody at the receiving unit answered in time."""

    ce_type: ClassVar[str] = "se.careplan.handover.expired.v1"
    expired_at: datetime


class HandoverCompleted(HandoverEvent):
    """Every service holding plan data moved the plan: the handing-over unit is refused everywhere.
    The plans service now makes the receiving unit's hold active (writable)."""

    ce_type: ClassVar[str] = "se.careplan.handover.completed.v1"
    completed_at: datetime
    responsible_hsa_id: str
    ownership_version: int = Field(description="The version the transfer produced in every copy.")


class HandoverCompensated(HandoverEvent):
    """The transfer could not be applied everywhere: the plans service gives the plan back to the
    handing-over unit, and every copy follows."""

    ce_type: ClassVar[str] = "se.careplan.handover.compensated.v1"
    compensated_at: datetime
    reason: str = Field(description="Why (the refusing service and its reason, or a timeout); no personal data.")


class TransferApplied(TransferAppliedBase):
    """The handover service's own ownership copy followed a transfer (it is a participant too)."""

    ce_type: ClassVar[str] = transfer_applied_type("handover")
    topic: ClassVar[Topic] = HANDOVER_TOPIC
