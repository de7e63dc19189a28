"""A complete export as one typed document: the export's ids and times with every service's part,
read with the part models of the contract. Both renderings (the FHIR Bundle and the PDF) are made
from it, so they always show the same content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from services.retention.domain.export import Export
from shared.contracts.export import (
    PART_MODELS,
    FormsPart,
    HandoverPart,
    MessagingPart,
    NotificationsPart,
    PlanPart,
)


class InvalidPart(ValueError):
    """A service's part does not match its model in the contract (the message names fields only)."""


def read_part(service: str, content: dict[str, Any]) -> dict[str, Any]:
    """The part checked against the service's part model, as plain JSON (dates as ISO text), so that
    it is stored and read back unchanged. Raises `InvalidPart` naming the fields at fault, never values."""
    model = PART_MODELS.get(service)
    if model is None:
        raise InvalidPart(f"{service} is not an exporting service")
    try:
        return model.model_validate(content).model_dump(mode="json")
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "(part)" for err in exc.errors(include_input=False)})
        raise InvalidPart(f"the part of {service} is not valid: {', '.join(fields)}") from None


class ExportDocument(BaseModel):
    """Everything one export holds, ready to be rendered."""

    export_id: str
    plan_id: str
    unit_id: str
    requested_at: datetime
    completed_at: datetime
    plan: PlanPart
    messaging: MessagingPart
    forms: FormsPart
    notifications: NotificationsPart
    handover: HandoverPart

    @classmethod
    def assemble(cls, export: Export, parts: dict[str, dict[str, Any]]) -> ExportDocument:
        """The complete export's document from its parts by service (each as `read_part` gave it)."""
        if export.completed_at is None:
            raise ValueError("only a complete export is rendered")
        return cls(
            export_id=export.export_id,
            plan_id=export.plan_id,
            unit_id=export.unit_id,
            requested_at=export.requested_at,
            completed_at=export.completed_at,
            plan=PlanPart.model_validate(parts["plans"]),
            messaging=MessagingPart.model_validate(parts["messaging"]),
            forms=FormsPart.model_validate(parts["forms"]),
            notifications=NotificationsPart.model_validate(parts["notifications"]),
            handover=HandoverPart.model_validate(parts["handover"]),
        )

    def audit_by_service(self) -> dict[str, Any]:
        """Each service's audit summary, in the platform's order."""
        return {
            "plans": self.plan.audit,
            "messaging": self.messaging.audit,
            "forms": self.forms.audit,
            "notifications": self.notifications.audit,
            "handover": self.handover.audit,
        }
