"""Who acts: a staff member at a unit, or a patient. Part of the shared kernel."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.kernel.identity import Personnummer
from shared.kernel.roles import Role


class Staff(BaseModel):
    """A staff member acting at one unit with the roles they hold there."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["staff"] = "staff"
    hsa_id: str = Field(min_length=3, max_length=64)
    unit_id: str = Field(min_length=3, max_length=64)
    roles: frozenset[Role]
    name: str = ""

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class Patient(BaseModel):
    """A patient, acting only on their own plans."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["patient"] = "patient"
    personnummer: Personnummer


Principal = Staff | Patient
