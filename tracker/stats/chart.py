"""The dashboard's daily chart, drawn on the server as inline SVG: no script and no library to load.

Clicks are bars against the left scale; leads and sales are lines against the right one, since a day's
conversions are a small fraction of its clicks and would lie flat on the clicks' scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH, HEIGHT = 900, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 12, 28  # room for the scales' labels and the days under the bars
BAR_SHARE = 0.7  # of each day's slot; the rest is the gap between bars
LABEL_EVERY_DAYS = 7  # counted back from the last day, so that today always has its label


@dataclass(frozen=True)
class Day:
    day: date
    clicks: int = 0
    unique_clicks: int = 0
    leads: int = 0
    sales: int = 0


@dataclass(frozen=True)
class Mark:
    """A bar (clicks) or a point (leads, sales) with where it sits."""

    day: date
    value: int
    x: float
    y: float
    height: float = 0.0


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    bar_width: float
    clicks_max: int
    conversions_max: int
    bars: list[Mark]
    leads: list[Mark]
    sales: list[Mark]
    day_labels: list[Mark]

    @property
    def middle(self) -> float:
        """Where the middle gridline sits: half of each scale's top."""
        return (self.top + self.bottom) / 2

    @staticmethod
    def points(marks: list[Mark]) -> str:
        return " ".join(f"{mark.x:.1f},{mark.y:.1f}" for mark in marks)


def daily_series(rows: list[dict], first: date, last: date) -> list[Day]:
    """One entry per day from ``first`` to ``last``; days without clicks or conversions are zero."""
    by_day = {row["key"]: row for row in rows if row["key"] is not None}
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = by_day.get(day.isoformat(), {})
        counts = {name: int(row.get(name, 0)) for name in ("clicks", "unique_clicks", "leads", "sales")}
        days.append(Day(day, **counts))
    return days


def scale_top(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above ``value``: a scale whose top reads easily."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def daily_chart(days: list[Day]) -> Chart:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    slot = (right - LEFT) / max(len(days), 1)
    clicks_max = scale_top(max((day.clicks for day in days), default=0))
    conversions_max = scale_top(max((max(day.leads, day.sales) for day in days), default=0))

    def y(value: int, top_value: int) -> float:
        return bottom - (bottom - TOP) * value / top_value

    def centre(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    bar_width = slot * BAR_SHARE
    bars = [
        Mark(d.day, d.clicks, centre(i) - bar_width / 2, y(d.clicks, clicks_max), bottom - y(d.clicks, clicks_max))
        for i, d in enumerate(days)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        bar_width=bar_width,
        clicks_max=clicks_max,
        conversions_max=conversions_max,
        bars=bars,
        leads=[Mark(d.day, d.leads, centre(i), y(d.leads, conversions_max)) for i, d in enumerate(days)],
        sales=[Mark(d.day, d.sales, centre(i), y(d.sales, conversions_max)) for i, d in enumerate(days)],
        day_labels=[
            Mark(d.day, 0, centre(i), bottom) for i, d in enumerate(days) if (len(days) - 1 - i) % LABEL_EVERY_DAYS == 0
        ],
    )
