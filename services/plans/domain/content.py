"""What a plan holds besides its modules: contacts, planning entries and page comments, and who
made a change (a staff member, the patient, or the system applying a rule)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def new_id() -> str:
    return str(uuid.uuid4())


class Actor(BaseModel):
    """Who made a change. The system (e.g. ending a plan at the retention limit) is an actor of its
    own, never a made-up staff member."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["staff", "patient", "system"]
    hsa_id: str | None = None
    name: str = ""

    @classmethod
    def staff(cls, hsa_id: str, name: str = "") -> Actor:
        return cls(kind="staff", hsa_id=hsa_id, name=name)

    @classmethod
    def patient(cls) -> Actor:
        return cls(kind="patient")

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system")

    @property
    def ref(self) -> str:
        """What a record's `created_by` holds: the staff member's HSA-id, else 'patient' or 'system'."""
        return self.hsa_id or self.kind


class Contact(BaseModel):
    id: str
    name: str
    role_title: str = ""
    phone: str = ""
    responsible: bool = False
    created_by: str
    created_by_name: str = ""
    created_at: datetime
    updated_at: datetime | None = None

    @classmethod
    def create(cls, fields: dict[str, Any], *, by: Actor, now: datetime) -> Contact:
        return cls(id=new_id(), created_by=by.ref, created_by_name=by.name, created_at=now, **fields)


class PlanningEntry(BaseModel):
    id: str
    text: str
    exact_date: date | None = None
    approximate: str | None = Field(default=None, description="e.g. 'början av april' when no exact date")
    month: str | None = Field(default=None, description="YYYY-MM the approximate entry sorts under")
    created_by: str
    created_by_name: str = ""
    created_by_kind: Literal["staff", "patient"]
    created_at: datetime

    @classmethod
    def create(cls, fields: dict[str, Any], *, by: Actor, now: datetime) -> PlanningEntry:
        kind: Literal["staff", "patient"] = "staff" if by.kind == "staff" else "patient"
        return cls(
            id=new_id(), created_by=by.ref, created_by_name=by.name, created_by_kind=kind, created_at=now, **fields
        )

    def sort_key(self) -> str:
        return self.exact_date.isoformat() if self.exact_date else (self.month or "9999")


class PageComment(BaseModel):
    id: str
    page_id: str = Field(description="The module or section the comment is shown on.")
    text: str
    created_by: str
    created_by_name: str = ""
    created_at: datetime

    @classmethod
    def create(cls, page_id: str, text: str, *, by: Actor, now: datetime) -> PageComment:
        return cls(id=new_id(), page_id=page_id, text=text, created_by=by.ref, created_by_name=by.name, created_at=now)
