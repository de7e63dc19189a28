"""Values over time as an SVG chart: the values as a line, coloured bands (intervals, targets) behind them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from xml.sax.saxutils import escape

from services.forms.domain.activity import Measurement
from services.forms.domain.definition import ResultRule

WIDTH, HEIGHT, MARGIN = 640, 320, 48
TARGET_COLOUR = "#2e7d32"


class Band(NamedTuple):
    min: float
    max: float
    label: str
    colour: str
    explanation: str = ""


def rule_chart(rule: ResultRule, points: list[tuple[datetime, float]]) -> str:
    """A result over time with its intervals as bands."""
    bands = [Band(i.min, i.max, i.label, i.colour, i.explanation) for i in rule.intervals]
    return svg_chart(rule.title, bands, points, min(b.min for b in bands), max(b.max for b in bands))


def measurement_chart(measurement: Measurement, points: list[tuple[datetime, float]]) -> str:
    """A measurement over time with its target range as a band; the scale fits the values and targets."""
    values = [v for _, v in points]
    targets = [t for t in (measurement.min_target, measurement.max_target) if t is not None]
    low, high = min(values + targets, default=0.0), max(values + targets, default=1.0)
    bands = []
    if targets:
        bands.append(
            Band(
                measurement.min_target if measurement.min_target is not None else low,
                measurement.max_target if measurement.max_target is not None else high,
                "Mål",
                TARGET_COLOUR,
            )
        )
    return svg_chart(f"{measurement.title} ({measurement.unit})", bands, points, low, high)


def svg_chart(title: str, bands: list[Band], points: list[tuple[datetime, float]], low: float, high: float) -> str:
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def y(value: float) -> float:
        return MARGIN + plot_h * (1 - (min(max(value, low), high) - low) / span)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for interval in bands:
        top, bottom = y(interval.max), y(interval.min)
        parts.append(
            f'<rect class="band" x="{MARGIN}" y="{top:.1f}" width="{plot_w}" height="{bottom - top:.1f}" '
            f'fill="{interval.colour}" fill-opacity="0.25"><title>{escape(interval.label)}: '
            f"{escape(interval.explanation)}</title></rect>"
        )
        parts.append(
            f'<text x="{WIDTH - MARGIN + 4}" y="{(top + bottom) / 2:.1f}" font-size="10">'
            f"{escape(interval.label)}</text>"
        )
    if points:
        first, last = points[0][0].timestamp(), points[-1][0].timestamp()
        width = (last - first) or 1.0
        coords = [
            (MARGIN + (plot_w * (t.timestamp() - first) / width if len(points) > 1 else plot_w / 2), y(v))
            for t, v in points
        ]
        parts.append(
            '<polyline class="values" fill="none" stroke="#1a237e" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
            + '"/>'
        )
        for (x, yy), (moment, value) in zip(coords, points, strict=True):
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="#1a237e">'
                f"<title>{moment.date().isoformat()}: {value:g}</title></circle>"
            )
    parts.append(
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{MARGIN + plot_w}" y2="{MARGIN + plot_h}" '
        'stroke="#000"/></svg>'
    )
    return "".join(parts)
