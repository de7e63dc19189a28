"""The contract of the plans service: topic `careplan.plans.v1`, keyed by plan id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel

from shared.contracts.export import ExportPartBase, export_part_type
from shared.contracts.purge import PurgeReceiptBase, receipt_type
from shared.crypto.personal import Personal
from shared.messaging.events import Event, Topic

PLANS_TOPIC = Topic(
    name="careplan.plans.v1", partitions=6, description="Plan lifecycle and content changes, keyed by plan id."
)


class PlanEvent(Event):
    topic: ClassVar[Topic] = PLANS_TOPIC
    plan_id: str
    unit_id: str


class PlanStarted(PlanEvent):
    """A plan was started; it is visible to the patient at once."""

    ce_type: ClassVar[str] = "se.careplan.plan.started.v1"
    patient_personnummer: Personal[str]
    protected_identity: bool
    program_id: str
    program_version: str
    responsible_hsa_id: str
    started_at: datetime
    current_form_refs: list[str] = []
    """Forms referenced by the modules that are current at start (the patient may fill them in at once)."""


class PlanEnded(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.ended.v1"
    ended_at: datetime
    reason: str


class ModuleStateChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.module_state_changed.v1"
    module_id: str
    form_module: bool
    form_refs: list[str]
    previous_state: Literal["current", "upcoming", "completed"]
    state: Literal["current", "upcoming", "completed"]
    changed_at: datetime


class StepVisibilityChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.step_visibility_changed.v1"
    step_id: str
    visible: bool


class ContactsChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.contacts_changed.v1"
    contact_id: str
    change: Literal["added", "changed", "removed"]


class PlanningChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.planning_changed.v1"
    entry_id: str
    change: Literal["added", "removed"]
    by_kind: Literal["staff", "patient"]


class ResponsibleChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.responsible_changed.v1"
    previous_hsa_id: str
    responsible_hsa_id: str


class WelcomeTextChanged(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.welcome_text_changed.v1"


class PageCommentAdded(PlanEvent):
    ce_type: ClassVar[str] = "se.careplan.plan.page_comment_added.v1"
    comment_id: str
    page_id: str


class PurgeReceipt(PurgeReceiptBase):
    """The plans service deleted the plan's personal data (an answer to `purge_requested`)."""

    ce_type: ClassVar[str] = receipt_type("plans")
    topic: ClassVar[Topic] = PLANS_TOPIC


class ExportPart(ExportPartBase):
    """The plans service's part of a plan's export for the journal (an answer to `export_requested`)."""

    ce_type: ClassVar[str] = export_part_type("plans")
    topic: ClassVar[Topic] = PLANS_TOPIC


class OwnershipTransferring(PlanEvent):
    """A handover was accepted: the plan is held by the receiving unit (`unit_id`) from this version
    on, read-only at both units until the handover completes. Every service's copy follows and
    confirms (`se.careplan.<service>.transfer_applied.v1`)."""

    ce_type: ClassVar[str] = "se.careplan.plan.ownership_transferring.v1"
    handover_id: str
    from_unit_id: str
    responsible_hsa_id: str
    ownership_version: int


class OwnershipTransferred(PlanEvent):
    """The handover completed: the receiving unit (`unit_id`) may act on the plan."""

    ce_type: ClassVar[str] = "se.careplan.plan.ownership_transferred.v1"
    handover_id: str
    from_unit_id: str
    ownership_version: int
    state: Literal["active", "ended"]


class OwnershipTransferReverted(PlanEvent):
    """The handover was compensated: the plan is held by the handing-over unit (`unit_id`) again."""

    ce_type: ClassVar[str] = "se.careplan.plan.ownership_transfer_reverted.v1"
    handover_id: str
    to_unit_id: str
    responsible_hsa_id: str
    ownership_version: int
    state: Literal["active", "ended"]


class OwnershipTransferRefused(PlanEvent):
    """The plans service could not start the accepted handover (nothing moved); `reason` says why."""

    ce_type: ClassVar[str] = "se.careplan.plan.ownership_transfer_refused.v1"
    handover_id: str
    to_unit_id: str
    reason: str


class ProgramRef(BaseModel):
    """One program version a unit runs."""

    program_id: str
    version: str


class UnitProgramsDeclared(Event):
    """A unit declared the program versions it runs (handovers go only between units running the
    plan's version). Keyed by the unit's HSA-id; `revision` grows with every declaration."""

    ce_type: ClassVar[str] = "se.careplan.plan.unit_programs_declared.v1"
    topic: ClassVar[Topic] = PLANS_TOPIC
    key_field: ClassVar[str] = "unit_id"
    unit_id: str
    programs: list[ProgramRef]
    revision: int
    declared_at: datetime
