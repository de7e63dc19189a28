"""The staff directory: each unit's permission admins keep their own unit's entries."""

from __future__ import annotations

from services.notifications.domain.model import StaffEntry, StaffMember
from shared.kernel.errors import Forbidden
from shared.kernel.principals import Staff
from shared.kernel.roles import Role


def directory_entry(hsa_id: str, entry: StaffEntry, by: Staff) -> StaffMember:
    """The caller's unit's entry for `hsa_id`: a permission admin registers staff of their own unit only
    (another unit's entry for the same HSA-id is that unit's, and stays as it is)."""
    if not by.has_any(Role.PERMISSION_ADMIN):
        raise Forbidden("the staff directory is kept by the unit's permission admins")
    if entry.unit_id is not None and entry.unit_id != by.unit_id:
        raise Forbidden("a permission admin registers staff of their own unit")
    return StaffMember(unit_id=by.unit_id, hsa_id=hsa_id, **entry.model_dump(exclude={"unit_id"}))
