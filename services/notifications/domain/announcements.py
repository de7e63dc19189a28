"""Announcements (to every patient of a unit, of the region, or of a program version) and unit banners:
who may make them, and who may follow them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.notifications.domain.model import Announcement, Banner, Channel
from services.notifications.domain.triggers import Trigger
from shared.kernel.errors import Forbidden, Invalid
from shared.kernel.principals import Staff
from shared.kernel.roles import Role

BANNER_SUBJECT = "Information från din mottagning"


class AnnouncementCommand(BaseModel):
    scope: Literal["unit", "region", "program_version"]
    program_id: str | None = None
    program_version: str | None = None
    subject: str
    text: str
    variables: dict[str, str] = {}
    channels: list[Channel] = ["inbox", "email", "sms"]


class BannerCommand(BaseModel):
    text: str = Field(min_length=1, max_length=2000, pattern=r"\S")
    valid_until: datetime | None = None
    notify: bool = Field(default=True, description="Also put it in every patient's inbox (fanned out).")


class AnnouncementProgress(BaseModel):
    """Fan-out progress: the announcement (recipients and batches once split) and deliveries by state."""

    announcement: Announcement
    deliveries: dict[str, int] = Field(description="Deliveries by state (sent and failed from the tallies).")


def new_announcement(command: AnnouncementCommand, by: Staff, announcement_id: str, now: datetime) -> Announcement:
    """A unit announcement is a patient admin's (for their own unit); region and program ones a publisher's."""
    if command.scope == "unit" and not by.has_any(Role.PATIENT_ADMIN):
        raise Forbidden("a unit announcement is made by a patient admin")
    if command.scope in ("region", "program_version") and not by.has_any(Role.PUBLISHER):
        raise Forbidden("a region or program announcement is made by a publisher")
    if command.scope == "program_version" and not (command.program_id and command.program_version):
        raise Invalid("program_id and program_version are required for a program announcement", field="program_version")
    return Announcement(
        id=announcement_id,
        unit_id=by.unit_id if command.scope == "unit" else None,
        created_by=by.hsa_id,
        created_at=now,
        **command.model_dump(),
    )


def visible_to(announcement: Announcement, by: Staff) -> bool:
    """A unit's announcement is its own staff's business; region and program ones every unit's."""
    return announcement.unit_id is None or announcement.unit_id == by.unit_id


def announcement_trigger(announcement: Announcement) -> Trigger:
    return Trigger(
        id=f"announcement:{announcement.id}",
        kind="announcement",
        template="announcement",
        variables=announcement.variables,
        channels=announcement.channels,
        custom=(announcement.subject, announcement.text),
    )


def announcement_of_trigger(trigger_id: str) -> str | None:
    """The announcement id a trigger id names, if it names one."""
    prefix = "announcement:"
    return trigger_id.removeprefix(prefix) if trigger_id.startswith(prefix) else None


def banner_announcement(command: BannerCommand) -> AnnouncementCommand:
    """The inbox announcement that tells the unit's patients about a banner."""
    return AnnouncementCommand(scope="unit", subject=BANNER_SUBJECT, text=command.text, channels=["inbox"])


def new_banner(command: BannerCommand, by: Staff, banner_id: str, now: datetime) -> Banner:
    """A banner for the caller's own unit, made by a patient admin."""
    if not by.has_any(Role.PATIENT_ADMIN):
        raise Forbidden("a banner is created by a patient admin")
    return Banner(
        id=banner_id,
        unit_id=by.unit_id,
        text=command.text,
        valid_until=command.valid_until,
        created_by=by.hsa_id,
        created_at=now,
    )
