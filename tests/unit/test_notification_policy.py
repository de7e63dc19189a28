"""SMS quiet hours, backoff, and texts without health information."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.policy import backoff, sms_allowed_at
from services.notifications.domain.templates import TEMPLATES, MissingVariable, Text, render, text_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    "local, allowed",
    [
        ("2026-11-23 12:00", "2026-11-23 12:00"),  # daytime: now
        ("2026-11-23 08:00", "2026-11-23 08:00"),  # quiet hours end at 08:00
        ("2026-11-23 20:59", "2026-11-23 20:59"),
        ("2026-11-23 21:00", "2026-11-24 08:00"),  # quiet from 21:00: deferred to the next morning
        ("2026-11-23 23:30", "2026-11-24 08:00"),
        ("2026-11-24 03:00", "2026-11-24 08:00"),  # after midnight: the same morning
        ("2026-03-28 22:00", "2026-03-29 08:00"),  # across the spring DST change
    ],
)
def test_sms_quiet_hours(local: str, allowed: str) -> None:
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=STOCKHOLM)
    expected = datetime.strptime(allowed, "%Y-%m-%d %H:%M").replace(tzinfo=STOCKHOLM)
    assert sms_allowed_at(moment) == expected


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempt in range(1, 12):
        ceiling = min(600.0, 2.0 * 2 ** (attempt - 1))
        waits = {backoff(attempt) for _ in range(20)}
        assert all(timedelta(seconds=ceiling / 2) <= w <= timedelta(seconds=ceiling) for w in waits)
        assert len(waits) > 1  # jittered


def test_templates_carry_no_health_information_and_protected_identity_gets_the_generic_text() -> None:
    rendered = text_for("new_message", {"unit_name": "Bröstmottagningen"}, protected_identity=False)
    assert "Bröstmottagningen" in rendered.body
    generic = text_for("new_message", {"unit_name": "Bröstmottagningen"}, protected_identity=True)
    assert "Bröstmottagningen" not in generic.body and generic == TEMPLATES["generic"]
    with pytest.raises(MissingVariable, match="unit_name"):
        text_for("new_message", {}, protected_identity=False)
    with pytest.raises(MissingVariable, match="datum"):
        render(Text(subject="Info", body="Öppnar ${datum}"), {})


def test_the_plan_ended_notice_names_neither_program_nor_reason() -> None:
    ended = text_for("plan_ended", {"unit_name": "din mottagning"}, protected_identity=False)
    assert ended.subject == "Din vårdplan har avslutats"
    assert "${" not in TEMPLATES["plan_ended"].body.replace("${unit_name}", "")
    assert text_for("plan_ended", {"unit_name": "Bröstmottagningen"}, protected_identity=True) == TEMPLATES["generic"]
