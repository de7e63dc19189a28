"""An activity plan as staff set it up (walks on Monday evenings and Wednesday mornings), shared by the
unit and the integration tests of activity plans."""

from __future__ import annotations

from typing import Any

WALKING: dict[str, Any] = {
    "title": "Promenad",
    "start_date": "2026-11-23",
    "registration_window_days": 1,
    "flag_on_missed": True,
    "allow_skip": True,
    "schedule": [{"weekday": "mon", "time": "18:00"}, {"weekday": "wed", "time": "07:30"}],
    "measurements": [
        {
            "id": "distance",
            "title": "Sträcka",
            "unit": "km",
            "min_target": 2,
            "flag_outside_target": True,
            "mandatory": True,
            "chart_patient": True,
        },
        {"id": "weight", "title": "Vikt", "unit": "kg"},
    ],
}
