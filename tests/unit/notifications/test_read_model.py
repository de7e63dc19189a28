"""Notifications' own read model of plans (what announcements fan out to), fed by the plans topic."""

from __future__ import annotations

from services.notifications.domain.model import PlanRecipient, Preferences
from services.notifications.service_layer.readers import PlanRef
from tests.unit.notifications.conftest import PNR, UNIT_A, patient, unit_announcement
from tests.unit.notifications.fakes import Harness, received

STARTED = PlanRecipient(
    plan_id="p1",
    unit_id=UNIT_A,
    patient_personnummer=PNR,
    program_id="prog",
    program_version="1.0",
    responsible_hsa_id="SE2321000016-T001",
)
TO_UNIT = unit_announcement()


async def test_a_started_plan_is_announced_to_with_the_patients_choice(h: Harness) -> None:
    await h.service.patients.set_preferences(patient(), Preferences(sms_enabled=True, phone="+46701234567"))
    await h.service.read_model.on_plan_started(STARTED, received(), None)
    [recipient] = [r async for r in h.recipients.fanout(TO_UNIT)]
    assert (recipient.plan_id, recipient.addresses) == ("p1", {"inbox": None, "sms": "+46701234567"})


async def test_an_ended_plan_stays_ended_when_its_start_is_seen_again(h: Harness) -> None:
    await h.plan("p1", UNIT_A, PNR)
    await h.service.triggers.on_plan_ended(PlanRef(plan_id="p1"), received("end"), None)
    await h.service.read_model.on_plan_started(STARTED, received(), None)  # a replay of the topic
    assert [r async for r in h.recipients.fanout(TO_UNIT)] == []
