"""Commands the plans service accepts (validated request bodies)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.plans.domain.plan import ModuleState
from shared.kernel.identity import Personnummer


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StartPlan(Command):
    personnummer: Personnummer
    patient_name: str = Field(min_length=1, max_length=200)
    protected_identity: bool = False
    program_id: str = Field(min_length=1, max_length=80)
    program_version: str = Field(min_length=1, max_length=20)
    responsible_hsa_id: str | None = Field(
        default=None, min_length=3, max_length=64, description="Defaults to the caller."
    )


class SetModuleState(Command):
    state: ModuleState


class SetStepVisibility(Command):
    visible: bool


class SetWelcomeText(Command):
    text: str | None = Field(max_length=20_000, description="null restores the program's text")


class AddContact(Command):
    name: str = Field(min_length=1, max_length=200)
    role_title: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9 +()\-X]*$")
    responsible: bool = False


class ChangeContact(Command):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role_title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9 +()\-X]*$")
    responsible: bool | None = None


class AddPlanningEntry(Command):
    text: str = Field(min_length=1, max_length=500)
    exact_date: date | None = None
    approximate: str | None = Field(default=None, max_length=100)
    month: str | None = Field(default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")

    @model_validator(mode="after")
    def _one_kind_of_date(self) -> AddPlanningEntry:
        if (self.exact_date is None) == (self.approximate is None):
            raise ValueError("give exactly one of exact_date or approximate (with month)")
        if self.approximate is not None and self.month is None:
            raise ValueError("an approximate entry needs month (YYYY-MM) to sort under")
        return self


class AddPageComment(Command):
    page_id: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=10_000)


class ChangeResponsible(Command):
    responsible_hsa_id: str = Field(min_length=3, max_length=64)


class EndPlan(Command):
    reason: Literal["completed", "no_longer_needed", "retention_limit", "other"] = "completed"
