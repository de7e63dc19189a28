"""What a trigger (an event, an announcement) turns into: one ledger entry per recipient and channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.notifications.domain.model import Channel, Delivery, FanoutRecipient, Preferences, StaffMember
from services.notifications.domain.templates import DEFAULT_UNIT_NAME


@dataclass(frozen=True)
class Trigger:
    """Why recipients are notified: `id` makes the ledger entries unique (an event id, an announcement)."""

    id: str
    kind: str
    template: str
    variables: dict[str, str] = field(default_factory=dict)
    channels: list[Channel] | None = None
    """Only these channels (of those each recipient chose); None: every chosen channel."""
    custom: tuple[str, str] | None = None
    """A staff-written subject and text instead of the template's."""

    def all_variables(self) -> dict[str, str]:
        return {"unit_name": DEFAULT_UNIT_NAME, **self.variables}


def patient_deliveries(trigger: Trigger, recipient: FanoutRecipient, ref: str, now: datetime) -> list[Delivery]:
    """The patient's entries: the inbox always, e-mail/SMS as chosen; `ref` is the patient's pseudonym."""
    return [
        Delivery(
            id=Delivery.key(trigger.id, ref, channel),
            trigger_id=trigger.id,
            trigger_kind=trigger.kind,
            recipient_kind="patient",
            recipient=recipient.personnummer,
            channel=channel,
            address=address,
            template=trigger.template,
            variables=trigger.all_variables(),
            custom_subject=trigger.custom[0] if trigger.custom else None,
            custom_body=trigger.custom[1] if trigger.custom else None,
            protected_identity=recipient.protected_identity,
            plan_id=recipient.plan_id,
            unit_id=recipient.unit_id,
            created_at=now,
        )
        for channel, address in recipient.addresses.items()
        if trigger.channels is None or channel in trigger.channels
    ]


def staff_delivery(
    trigger: Trigger, member: StaffMember | None, ref: str, plan_id: str, now: datetime
) -> Delivery | None:
    """An e-mail to a staff member (never SMS), if their unit's directory has them and they want it."""
    if member is None or not member.notifications_enabled:
        return None
    return Delivery(
        id=Delivery.key(trigger.id, ref, "email"),
        trigger_id=trigger.id,
        trigger_kind=trigger.kind,
        recipient_kind="staff",
        recipient=member.hsa_id,
        channel="email",
        address=str(member.email),
        template=trigger.template,
        variables=trigger.all_variables(),
        plan_id=plan_id,
        unit_id=member.unit_id,
        created_at=now,
    )


def email_fallback(failed: Delivery, preferences: Preferences, ref: str, now: datetime) -> Delivery | None:
    """An SMS to a patient that failed for good goes by e-mail instead, if the patient enabled e-mail."""
    if failed.channel != "sms" or failed.recipient_kind != "patient":
        return None
    if not preferences.email_enabled or not preferences.email:
        return None
    return failed.model_copy(
        update={
            "id": Delivery.key(failed.trigger_id, ref, "email"),
            "channel": "email",
            "address": str(preferences.email),
            "state": "queued",
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": None,
            "created_at": now,
            "fallback_of": failed.id,
        }
    )
