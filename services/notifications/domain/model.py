"""Recipients, preferences, the delivery ledger and the inbox of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from shared.crypto.personal import Personal

Channel = Literal["email", "sms", "inbox"]
DeliveryState = Literal["queued", "sending", "sent", "deferred", "failed"]


class PlanRecipient(BaseModel):
    """What notifications knows of a plan (from the plans service's events)."""

    plan_id: str
    unit_id: str
    patient_personnummer: str
    protected_identity: bool = False
    program_id: str
    program_version: str
    responsible_hsa_id: str
    active: bool = True


class PatientPlan(Protocol):
    """What a notification needs to know of a plan: whose it is and where it is held."""

    @property
    def plan_id(self) -> str: ...

    @property
    def unit_id(self) -> str: ...

    @property
    def patient_personnummer(self) -> str: ...

    @property
    def protected_identity(self) -> bool: ...


class FanoutRecipient(BaseModel):
    """One patient of an announcement batch, with the channels chosen as of the fan-out."""

    plan_id: str
    unit_id: str
    personnummer: Personal[str]
    protected_identity: bool = False
    addresses: Personal[dict[Channel, str | None]] = Field(description="Chosen channel → address (the inbox has none).")

    @classmethod
    def of(cls, plan: PatientPlan, preferences: Preferences) -> FanoutRecipient:
        return cls(
            plan_id=plan.plan_id,
            unit_id=plan.unit_id,
            personnummer=plan.patient_personnummer,
            protected_identity=plan.protected_identity,
            addresses={c: preferences.address(c) for c in preferences.channels()},
        )


class Preferences(BaseModel):
    """A patient's own choice of channels (the inbox is always on)."""

    model_config = ConfigDict(extra="forbid")

    email_enabled: bool = False
    email: EmailStr | None = None
    sms_enabled: bool = False
    phone: str | None = Field(default=None, description="A mobile number, e.g. +46701234567 or 070-123 45 67")

    @field_validator("phone")
    @classmethod
    def _mobile_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            number = phonenumbers.parse(value, "SE")
        except phonenumbers.NumberParseException:
            raise ValueError("is not a phone number") from None
        if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise ValueError("is not a valid mobile number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @model_validator(mode="after")
    def _address_for_enabled_channel(self) -> Preferences:
        if self.email_enabled and not self.email:
            raise ValueError("email is required when email_enabled is true")
        if self.sms_enabled and not self.phone:
            raise ValueError("phone is required when sms_enabled is true")
        return self

    def address(self, channel: Channel) -> str | None:
        if channel == "email":
            return str(self.email) if self.email else None
        return self.phone if channel == "sms" else None

    def channels(self) -> list[Channel]:
        chosen: list[Channel] = ["inbox"]
        if self.email_enabled:
            chosen.append("email")
        if self.sms_enabled:
            chosen.append("sms")
        return chosen


class StaffEntry(BaseModel):
    """A staff directory entry as a unit's permission admin registers it (always for their own unit)."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str | None = Field(
        default=None,
        min_length=3,
        max_length=64,
        description="Optional: the caller's own unit (another unit is refused). The entry is the caller's unit's.",
    )
    name: str = Field(default="", max_length=200)
    email: EmailStr
    roles: list[str] = []
    notifications_enabled: bool = True


class StaffMember(BaseModel):
    """One unit's directory entry for one HSA-id: where that unit's e-mail notifications to the staff
    member go (e-mail only, never SMS). Each unit keeps its own entry: (unit, HSA-id) is the key."""

    unit_id: str
    hsa_id: str
    name: str = ""
    email: EmailStr
    roles: list[str] = []
    notifications_enabled: bool = True


class Delivery(BaseModel):
    """One delivery of one trigger to one recipient on one channel: the idempotency ledger's entry."""

    id: str
    trigger_id: str
    trigger_kind: str
    recipient_kind: Literal["patient", "staff"]
    recipient: str = Field(description="Personnummer or HSA-id (never in logs or metrics).")
    channel: Channel
    address: str | None = None
    template: str
    variables: dict[str, str] = {}
    custom_subject: str | None = None
    custom_body: str | None = None
    protected_identity: bool = False
    plan_id: str | None = None
    unit_id: str | None = None
    state: DeliveryState = "queued"
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None
    fallback_of: str | None = None

    @staticmethod
    def key(trigger_id: str, recipient_ref: str, channel: Channel) -> str:
        """The ledger id; `recipient_ref` is a pseudonym: ids travel in events, keys and provider references."""
        return f"{trigger_id}|{recipient_ref}|{channel}"


class InboxItem(BaseModel):
    id: str
    personnummer: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None = None


class Announcement(BaseModel):
    """A message to every patient of a unit, of a region (all units) or of a program version."""

    id: str
    scope: Literal["unit", "region", "program_version"]
    unit_id: str | None = None
    program_id: str | None = None
    program_version: str | None = None
    subject: str
    text: str
    variables: dict[str, str] = {}
    channels: list[Channel]
    created_by: str
    created_at: datetime
    batches: int | None = None
    recipients: int | None = None
    batches_done: list[int] = Field(default=[], description="Numbers of the batches delivered so far.")
    checked_progress: int | None = Field(default=None, description="Batches done at the last fan-out check.")
    resumed: int = Field(default=0, description="How often a stalled fan-out was published again.")


class Banner(BaseModel):
    """Unit-wide information shown to all the unit's patients (e.g. a holiday closure)."""

    id: str
    unit_id: str
    text: str
    valid_until: datetime | None = None
    created_by: str
    created_at: datetime
    announcement_id: str | None = None
