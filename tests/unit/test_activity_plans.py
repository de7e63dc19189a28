"""Activity plans: occasions on the weekly schedule, registration windows, and what a registration may hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.forms.domain.activity import STOCKHOLM, ActivityPlan, RegistrationInput, registration_errors
from services.forms.domain.battery import Battery, BatterySpec


def walking(**changes: object) -> ActivityPlan:
    fields = {
        "title": "Promenad",
        "schedule": [{"weekday": "mon", "time": "08:30"}, {"weekday": "thu", "time": "18:00"}],
        "start_date": date(2026, 11, 25),
        "repeat_every_weeks": 2,
        "registration_window_days": 1,
        "measurements": [
            {
                "id": "distance",
                "title": "Sträcka",
                "unit": "km",
                "min_target": 2,
                "max_target": 10,
                "flag_outside_target": True,
                "mandatory": True,
            },
            {"id": "pulse", "title": "Blodtryck", "unit": "mmHg"},
        ],
        "id": "a1",
        "plan_id": "p1",
        "unit_id": "u1",
        "updated_at": datetime(2026, 11, 22, tzinfo=UTC),
    }
    return ActivityPlan.model_validate(fields | changes)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)


def test_occasions_follow_the_weekly_schedule_every_other_week_from_the_start_date() -> None:
    plan = walking()
    moments, after = [], local(2026, 11, 20)
    for _ in range(5):
        after = plan.next_occasion(after)
        moments.append(after)
    # the Monday of the start week is before the start date; the week after is an off week
    assert moments == [
        local(2026, 11, 26, 18),
        local(2026, 12, 7, 8, 30),
        local(2026, 12, 10, 18),
        local(2026, 12, 21, 8, 30),
        local(2026, 12, 24, 18),
    ]
    assert plan.is_occasion(local(2026, 12, 7, 8, 30).astimezone(UTC))
    assert not plan.is_occasion(local(2026, 11, 30, 8, 30))  # off week
    assert not plan.is_occasion(local(2026, 11, 23, 8, 30))  # before the start date


def test_the_registration_window_ends_at_midnight_after_the_last_day() -> None:
    plan = walking(registration_window_days=2)
    occasion = local(2026, 12, 10, 18)
    assert plan.registration_opens(occasion) == local(2026, 12, 10)
    assert plan.registration_deadline(occasion) == local(2026, 12, 13)


def test_occasions_keep_local_time_across_daylight_saving() -> None:
    plan = walking(start_date=date(2027, 3, 22), repeat_every_weeks=1)
    assert plan.next_occasion(local(2027, 3, 26)) == local(2027, 3, 29, 8, 30)
    assert plan.next_occasion(local(2027, 3, 26)).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "entry, plan_changes, fields",
    [
        ({"values": {"distance": 3}}, {}, []),
        ({"values": {}}, {}, ["values.distance"]),
        ({"values": {"distance": float("nan")}}, {}, ["values.distance"]),
        ({"values": {"distance": 3, "steps": 2}}, {}, ["values.steps"]),
        ({"skipped": True}, {}, ["skipped"]),
        ({"skipped": True}, {"allow_skip": True}, []),
        ({"skipped": True, "values": {"distance": 3}}, {"allow_skip": True}, ["values"]),
        ({"values": {"distance": 3}, "comment": "Tungt"}, {}, ["comment"]),
        ({"values": {"distance": 3}, "comment": "Tungt"}, {"allow_comments": True}, []),
    ],
)
def test_a_registration_is_checked_naming_each_field(entry: dict, plan_changes: dict, fields: list[str]) -> None:
    registration = RegistrationInput.model_validate({"occasion": local(2026, 12, 7, 8, 30)} | entry)
    assert [f for f, _ in registration_errors(walking(**plan_changes), registration)] == fields


def test_an_occasion_off_the_schedule_is_refused() -> None:
    entry = RegistrationInput(occasion=local(2026, 12, 7, 9, 0), values={"distance": 3})
    assert [f for f, _ in registration_errors(walking(), entry)] == ["occasion"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"schedule": [{"weekday": "mon", "time": "08:15"}]}, "time"),
        ({"measurements": [{"id": "w", "title": "Vikt", "unit": "stone"}]}, "unit"),
        (
            {"measurements": [{"id": "w", "title": "Vikt", "unit": "kg", "min_target": 80, "max_target": 60}]},
            "min_target is above max_target",
        ),
        ({"measurements": [{"id": "w", "title": "Vikt", "unit": "kg", "flag_outside_target": True}]}, "needs a min"),
        ({"schedule": [{"weekday": "mon", "time": "08:00"}, {"weekday": "mon", "time": "08:00"}]}, "twice"),
    ],
)
def test_an_activity_plan_that_can_not_work_is_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        walking(**changes)


def test_measurements_outside_their_target() -> None:
    distance = walking().measurement("distance")
    assert distance is not None
    assert [distance.outside_target(v) for v in (1.9, 2, 10, 10.5)] == [True, False, False, True]


def test_a_scheduled_battery_opens_at_nine_on_its_days() -> None:
    spec = BatterySpec(
        name="RCADS-25", form_ids=["phq_9"], trigger="schedule", start_date=date(2026, 10, 20), interval_days=7
    )
    battery = Battery(**spec.model_dump(), id="b", plan_id="p", unit_id="u", created_at=datetime.now(UTC))
    assert [battery.scheduled_occasion_at(n) for n in (1, 2, 3)] == [
        local(2026, 10, 20, 9),
        local(2026, 10, 27, 9),
        local(2026, 11, 3, 9),
    ]  # across the end of summer time
    with pytest.raises(ValidationError, match="start_date, interval_days"):
        BatterySpec(name="x", form_ids=["phq_9"], trigger="schedule")
    with pytest.raises(ValidationError, match="module_id"):
        BatterySpec(name="x", form_ids=["phq_9"], trigger="module_start")
