"""Who may write in conversations, and how a message's author asks for inbox notification."""

from __future__ import annotations

from services.messaging.domain.model import NotifyInbox
from shared.kernel.errors import Forbidden
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role

WRITING_ROLES = frozenset({Role.THERAPIST, Role.PATIENT_ADMIN})
"""Staff who work with patients; a publisher, designer or admin of other things does not write to them."""


def require_may_write(principal: Principal) -> None:
    """The patient (on their own plan: the ownership check decides that) and staff with a writing role."""
    if isinstance(principal, Staff) and not principal.has_any(*WRITING_ROLES):
        raise Forbidden("only therapists and patient admins write to patients")


def notify_setting(requested: NotifyInbox | None, by: Principal) -> NotifyInbox:
    """Staff choose whether the patient is notified to the inbox (default: directly); patients cannot."""
    if isinstance(by, Patient):
        if requested is not None:
            raise Forbidden("only staff choose inbox notification: a patient cannot send as staff")
        return "none"
    return requested or "direct"
