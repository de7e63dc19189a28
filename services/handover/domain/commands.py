"""What the handover service's callers send (validated request bodies)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.handover import ConsentMethod

HSA_ID = r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$"


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentInput(Command):
    """How the patient agreed to the handover; who recorded it and when default to the caller and now."""

    method: ConsentMethod = Field(description="verbal, written or e_service")
    recorded_by: str | None = Field(default=None, pattern=HSA_ID, description="HSA-id; defaults to the caller.")
    recorded_at: datetime | None = Field(default=None, description="Defaults to now; never in the future.")


class InitiateHandover(Command):
    to_unit_id: str = Field(pattern=HSA_ID, description="HSA-id of the receiving unit.")
    consent: ConsentInput | None = Field(default=None, description="The patient's consent (required).")


class AcceptHandover(Command):
    responsible_hsa_id: str = Field(pattern=HSA_ID, description="The receiving unit's responsible therapist.")


class DeclineHandover(Command):
    reason: str = Field(min_length=1, max_length=500, description="Why the receiving unit declines.")
