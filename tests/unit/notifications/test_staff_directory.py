"""The staff directory is kept per unit: each unit's permission admins manage their own unit's entries,
and staff notifications go to the address the plan's holding unit keeps (issue 13: a permission admin
of another unit could take over a staff member's e-mail by registering the same HSA-id)."""

from __future__ import annotations

import pytest

from services.notifications.domain.model import StaffEntry
from services.notifications.service_layer.readers import MessageSentView
from shared.kernel.errors import Forbidden
from shared.kernel.roles import Role
from tests.unit.notifications.conftest import PNR, THERAPIST, UNIT_A, UNIT_B, staff
from tests.unit.notifications.fakes import Harness, received

ADMIN_A = staff(Role.PERMISSION_ADMIN, unit=UNIT_A, hsa_id="SE2321000016-PA")
ADMIN_B = staff(Role.PERMISSION_ADMIN, unit=UNIT_B, hsa_id="SE2321000016-PB")


def entry(email: str, **fields: object) -> StaffEntry:
    return StaffEntry.model_validate({"email": email, "roles": ["therapist"], **fields})


async def test_a_permission_admin_registers_staff_of_their_own_unit(h: Harness) -> None:
    member = await h.service.staff.register(THERAPIST, entry("karin@region.example.se", name="Karin"), ADMIN_A)
    assert (member.unit_id, member.hsa_id, str(member.email)) == (UNIT_A, THERAPIST, "karin@region.example.se")
    assert await h.stores.staff.member(UNIT_A, THERAPIST) == member
    again = await h.service.staff.register(THERAPIST, entry("karin.ny@region.example.se", unit_id=UNIT_A), ADMIN_A)
    assert str((await h.stores.staff.member(UNIT_A, THERAPIST)).email) == str(again.email)  # type: ignore[union-attr]


async def test_only_a_permission_admin_and_never_for_another_unit(h: Harness) -> None:
    with pytest.raises(Forbidden):
        await h.service.staff.register(THERAPIST, entry("x@example.se"), staff(Role.PATIENT_ADMIN, unit=UNIT_A))
    with pytest.raises(Forbidden, match="own unit"):
        await h.service.staff.register(THERAPIST, entry("x@example.se", unit_id=UNIT_A), ADMIN_B)
    assert await h.stores.staff.member(UNIT_A, THERAPIST) is None


async def test_another_units_admin_cannot_take_over_a_staff_members_email(h: Harness) -> None:
    await h.service.staff.register(THERAPIST, entry("karin@region-a.example.se"), ADMIN_A)
    await h.service.staff.register(THERAPIST, entry("attacker@example.se"), ADMIN_B)  # B's own entry
    await h.plan("p1", UNIT_A, PNR, responsible=THERAPIST)
    await h.service.triggers.on_message_sent(
        MessageSentView(plan_id="p1", message_id="m1", sender_kind="patient"), received("e1"), None
    )
    assert [s.address for s in h.email.sent] == ["karin@region-a.example.se"]
    assert str((await h.stores.staff.member(UNIT_A, THERAPIST)).email) == "karin@region-a.example.se"  # type: ignore[union-attr]


async def test_the_therapists_address_is_looked_up_at_the_units_that_holds_the_plan_now(h: Harness) -> None:
    await h.service.staff.register(THERAPIST, entry("karin@region-a.example.se"), ADMIN_A)
    await h.service.staff.register(THERAPIST, entry("karin@region-b.example.se"), ADMIN_B)
    await h.plan("p1", UNIT_B, PNR, responsible=THERAPIST)
    await h.service.triggers.on_message_sent(
        MessageSentView(plan_id="p1", message_id="m1", sender_kind="patient"), received("e1"), None
    )
    assert [s.address for s in h.email.sent] == ["karin@region-b.example.se"]


async def test_staff_who_turned_notifications_off_get_none(h: Harness) -> None:
    await h.service.staff.register(THERAPIST, entry("karin@region-a.example.se", notifications_enabled=False), ADMIN_A)
    await h.plan("p1", UNIT_A, PNR, responsible=THERAPIST)
    await h.service.triggers.on_message_sent(
        MessageSentView(plan_id="p1", message_id="m1", sender_kind="patient"), received("e1"), None
    )
    assert h.email.sent == [] and h.deliveries() == []
