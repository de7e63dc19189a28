"""Results over time as an SVG chart: the values as a line, the interval bands coloured behind them."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from services.forms.domain.definition import ResultRule

WIDTH, HEIGHT, MARGIN = 640, 320, 48


def svg_chart(rule: ResultRule, points: list[tuple[datetime, float]]) -> str:
    low = min(i.min for i in rule.intervals)
    high = max(i.max for i in rule.intervals)
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def y(value: float) -> float:
        return MARGIN + plot_h * (1 - (min(max(value, low), high) - low) / span)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(rule.title)}">',
             f'<title>{escape(rule.title)}</title>']
    for interval in rule.intervals:
        top, bottom = y(interval.max), y(interval.min)
        parts.append(f'<rect class="band" x="{MARGIN}" y="{top:.1f}" width="{plot_w}" height="{bottom - top:.1f}" '
                     f'fill="{interval.colour}" fill-opacity="0.25"><title>{escape(interval.label)}: '
                     f'{escape(interval.explanation)}</title></rect>')
        parts.append(f'<text x="{WIDTH - MARGIN + 4}" y="{(top + bottom) / 2:.1f}" font-size="10">'
                     f'{escape(interval.label)}</text>')
    if points:
        first, last = points[0][0].timestamp(), points[-1][0].timestamp()
        width = (last - first) or 1.0
        coords = [(MARGIN + (plot_w * (t.timestamp() - first) / width if len(points) > 1 else plot_w / 2), y(v))
                  for t, v in points]
        parts.append('<polyline class="values" fill="none" stroke="#1a237e" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords) + '"/>')
        for (x, yy), (moment, value) in zip(coords, points, strict=True):
            parts.append(f'<circle class="point" cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="#1a237e">'
                         f'<title>{moment.date().isoformat()}: {value:g}</title></circle>')
    parts.append(f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{MARGIN + plot_w}" y2="{MARGIN + plot_h}" '
                 'stroke="#000"/></svg>')
    return "".join(parts)
