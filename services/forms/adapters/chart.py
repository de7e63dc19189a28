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


class _Frame(NamedTuple):
    """The plot area and the value scale."""

    low: float
    high: float

    @property
    def width(self) -> int:
        return WIDTH - 2 * MARGIN

    @property
    def height(self) -> int:
        return HEIGHT - 2 * MARGIN

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return MARGIN + self.height * (1 - (min(max(value, self.low), self.high) - self.low) / span)


def _band(frame: _Frame, band: Band) -> list[str]:
    top, bottom = frame.y(band.max), frame.y(band.min)
    return [
        f'<rect class="band" x="{MARGIN}" y="{top:.1f}" width="{frame.width}" height="{bottom - top:.1f}" '
        f'fill="{band.colour}" fill-opacity="0.25"><title>{escape(band.label)}: '
        f"{escape(band.explanation)}</title></rect>",
        f'<text x="{WIDTH - MARGIN + 4}" y="{(top + bottom) / 2:.1f}" font-size="10">{escape(band.label)}</text>',
    ]


def _values(frame: _Frame, points: list[tuple[datetime, float]]) -> list[str]:
    if not points:
        return []
    first, last = points[0][0].timestamp(), points[-1][0].timestamp()
    width = (last - first) or 1.0
    coords = [
        (MARGIN + (frame.width * (t.timestamp() - first) / width if len(points) > 1 else frame.width / 2), frame.y(v))
        for t, v in points
    ]
    line = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    parts = [f'<polyline class="values" fill="none" stroke="#1a237e" stroke-width="2" points="{line}"/>']
    for (x, yy), (moment, value) in zip(coords, points, strict=True):
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="#1a237e">'
            f"<title>{moment.date().isoformat()}: {value:g}</title></circle>"
        )
    return parts


def svg_chart(title: str, bands: list[Band], points: list[tuple[datetime, float]], low: float, high: float) -> str:
    """Bands behind, the values as a line with a point each (its date and value as a tooltip), an axis."""
    frame = _Frame(low, high)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for band in bands:
        parts += _band(frame, band)
    parts += _values(frame, points)
    bottom = MARGIN + frame.height
    parts.append(f'<line x1="{MARGIN}" y1="{bottom}" x2="{MARGIN + frame.width}" y2="{bottom}" stroke="#000"/></svg>')
    return "".join(parts)
