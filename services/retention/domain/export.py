"""The export saga's state, owned by retention: one `Export` per request of a plan's export for the
journal, from the request until every exporting service's part is in (then it is complete and
rendered); a plan may have several (one when it ends, more on request).

The saga decides: which plans may be exported (ended ones), which parts count (one per service in
`EXPORTING_SERVICES`, for this export id, idempotently), when the export is complete (`PlanExported`,
a reference without content), and when the missing services are asked again (the purge's backoff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.retention.domain.purge import RetryPolicy
from shared.contracts.export import EXPORTING_SERVICES
from shared.contracts.retention import ExportRequested, PlanExported
from shared.kernel.errors import Conflict
from shared.kernel.workflow_ref import WorkflowRef
from shared.ownership.model import OwnershipState, PlanOwnership

ExportState = Literal["requested", "completed"]
EXPORT_NOT_FOUND = "no such export"


class ExportPartView(BaseModel):
    """The fields of any service's `se.careplan.<service>.export_part.v1` retention reads (`content`
    arrives unsealed: the platform's consumer opens it)."""

    plan_id: str
    export_id: str
    service: str
    produced_at: datetime
    content: dict[str, Any]


class PlanExportedView(BaseModel):
    """The fields of `se.careplan.retention.plan_exported.v1` the purge at the limit waits for."""

    plan_id: str
    export_id: str


class Export(BaseModel):
    """One export of a plan in progress or complete: the saga's state (the parts' content and the
    renderings are stored beside it, not in it)."""

    export_id: str
    plan_id: str
    unit_id: str
    """The holding unit when it was requested; the plan has ended, so it cannot change any more."""
    requested_by: str = Field(description="HSA-id of the admin who asked, or 'system' when the plan ended.")
    requested_at: datetime
    parts: dict[str, datetime] = Field(default={}, description="When each service produced its part.")
    attempts: int = 1
    last_requested_at: datetime
    state: ExportState = "requested"
    completed_at: datetime | None = None
    workflow: WorkflowRef | None = None
    version: int = 0
    """Optimistic concurrency: grows by one at every save."""

    @classmethod
    def request(
        cls, ownership: PlanOwnership, *, export_id: str, requested_by: str, now: datetime
    ) -> tuple[Export, ExportRequested]:
        """Start exporting an ended plan (an active one, or one being handed over, is refused)."""
        refuse_unless_exportable(ownership)
        export = cls(
            export_id=export_id,
            plan_id=ownership.plan_id,
            unit_id=ownership.unit_id,
            requested_by=requested_by,
            requested_at=now,
            last_requested_at=now,
        )
        return export, export.requested_event(export.missing())

    def requested_event(self, services: list[str]) -> ExportRequested:
        return ExportRequested(
            plan_id=self.plan_id,
            export_id=self.export_id,
            requested_at=self.last_requested_at,
            attempt=self.attempts,
            services=services,
        )

    def missing(self) -> list[str]:
        """The services whose part is not in yet, in the platform's order."""
        return [s for s in EXPORTING_SERVICES if s not in self.parts]

    def received(self) -> list[str]:
        return [s for s in EXPORTING_SERVICES if s in self.parts]

    def counts(self, part: ExportPartView) -> bool:
        """Whether the part is one this export still waits for: of this plan and export, from an
        exporting service not counted yet, and the export not complete. Anything else is a duplicate,
        a part of another export, or noise, and changes nothing."""
        return (
            self.state == "requested"
            and part.plan_id == self.plan_id
            and part.export_id == self.export_id
            and part.service in EXPORTING_SERVICES
            and part.service not in self.parts
        )

    def record_part(self, part: ExportPartView, now: datetime) -> PlanExported | None:
        """Count a service's part once; `PlanExported` when it was the last one missing (the export
        is then complete). A part that does not count (see `counts`) changes nothing."""
        if not self.counts(part):
            return None
        self.parts[part.service] = part.produced_at
        if self.missing():
            return None
        self.state, self.completed_at = "completed", now
        return PlanExported(plan_id=self.plan_id, export_id=self.export_id, exported_at=now)

    def next_request_at(self, policy: RetryPolicy) -> datetime:
        """When the missing services are asked again if their parts have not come by then."""
        return self.last_requested_at + policy.delay(self.attempts)

    def re_request(self, now: datetime) -> ExportRequested | None:
        """Ask the services whose part is missing again (same export id, next attempt)."""
        if self.state == "completed" or not self.missing():
            return None
        self.attempts += 1
        self.last_requested_at = now
        return self.requested_event(self.missing())

    def require_complete(self) -> None:
        """Refuse to hand out an export whose parts are not all in (409, naming who is missing)."""
        if self.state != "completed":
            raise Conflict(
                f"the export is not complete yet: waiting for the parts of {', '.join(self.missing())}",
                field="export_id",
            )


def refuse_unless_exportable(ownership: PlanOwnership) -> None:
    """Only an ended plan is exported for the journal (its content no longer changes)."""
    if ownership.state is OwnershipState.ACTIVE:
        raise Conflict("the plan is active: end it before it can be exported", field="plan_id")
    if ownership.state is OwnershipState.TRANSFERRING:
        raise Conflict("the plan is being handed over to another unit: it cannot be exported now", field="plan_id")


class ExportSummary(BaseModel):
    """An export as its list shows it: ids, state, times and which services' parts are in."""

    export_id: str
    plan_id: str
    state: ExportState
    requested_at: datetime
    requested_by: str
    completed_at: datetime | None = None
    attempts: int
    received: list[str] = Field(description="Services whose part is in.")
    missing: list[str] = Field(description="Services still asked for their part.")
    next_request_at: datetime | None = Field(default=None, description="When the missing are asked again.")

    @classmethod
    def of(cls, export: Export, policy: RetryPolicy) -> ExportSummary:
        missing = export.missing()
        return cls(
            export_id=export.export_id,
            plan_id=export.plan_id,
            state=export.state,
            requested_at=export.requested_at,
            requested_by=export.requested_by,
            completed_at=export.completed_at,
            attempts=export.attempts,
            received=export.received(),
            missing=missing,
            next_request_at=export.next_request_at(policy) if missing and export.state == "requested" else None,
        )


class ExportList(BaseModel):
    """A plan's exports, newest first."""

    plan_id: str
    items: list[ExportSummary]
