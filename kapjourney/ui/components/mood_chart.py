"""The client's 30-day chart of mood (and, when asked for, anxiety and sleep): an inline SVG
drawn from path strings the page state computes in plain Python, with its story told in words
beside it for screen readers.

It draws on the server what a charting library would draw in the browser. On the Progress
page a charting library cost about 95 kB of compressed JavaScript and most of a second of
blocking time on a mid-range phone (docs/PERFORMANCE.md); this costs neither, works from the
offline copy of the page, and the lines are the sparkline's own (``line_paths``): a day
without a check-in is a gap, never a zero and never joined across.

``chart_shape(points)`` runs in the page state; ``mood_chart(...)`` draws its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from kapjourney.domain.progress import MOOD_ANCHORS
from kapjourney.ui.components.sparkline import line_paths

# The drawing's own units; it scales to the card's width, so these are about CSS pixels on a
# phone. The left margin holds the longest level name ("Very good").
WIDTH, HEIGHT = 360, 214
LEFT, RIGHT = 70, 8
TOP, BOTTOM = 10, 184  # where level 5 and level 1 sit
TICK_Y = 204  # the dates under the plot
LEVEL_MIN, LEVEL_MAX = 1, 5
# name, legend label, colour (Radix indigo-9, tomato-9, teal-9: the recharts chart's colours)
SERIES = (
    ("mood", "Mood", "#3e63dd"),
    ("anxiety", "Anxiety", "#e54d2e"),
    ("sleep", "Sleep", "#12a594"),
)


def level_y(level: int) -> float:
    level = min(max(level, LEVEL_MIN), LEVEL_MAX)
    return BOTTOM - (level - LEVEL_MIN) * (BOTTOM - TOP) / (LEVEL_MAX - LEVEL_MIN)


def day_x(day: int, days: int) -> float:
    if days <= 1:
        return (LEFT + WIDTH - RIGHT) / 2
    return LEFT + day * (WIDTH - RIGHT - LEFT) / (days - 1)


def chart_shape(points: Sequence[Any]) -> dict[str, Any]:
    """What to draw for ``points`` (MoodPoint-like: ``day``, ``mood``, ``anxiety``, ``sleep``;
    oldest first): per series its line and dot paths, and the dates to write under the plot
    (the first, the middle and the last day, as recharts' ``preserveStartEnd`` did)."""
    days = len(points)
    shape: dict[str, Any] = {}
    for name, _label, _color in SERIES:
        values = [getattr(p, name) for p in points]
        line, dots = line_paths(values, lambda day: day_x(day, days), level_y)
        shape[f"{name}_line"], shape[f"{name}_dots"] = line, dots
    picks = sorted({0, days // 2, days - 1}) if days else []
    anchors = {0: "start", days - 1: "end"}
    shape["ticks"] = [
        {
            "x": f"{round(day_x(i, days), 1):g}",
            "label": points[i].day,
            "anchor": anchors.get(i, "middle"),
        }
        for i in picks
    ]
    return shape


def _grid() -> list[rx.Component]:
    """The five levels: a dashed line and its name, fixed at compile time."""
    parts = []
    for level, name in MOOD_ANCHORS.items():
        y = f"{level_y(level):g}"
        parts.append(
            rx.el.svg.line(
                x1=str(LEFT),
                x2=str(WIDTH - RIGHT),
                y1=y,
                y2=y,
                class_name="kj-chart-grid",
                custom_attrs={"stroke": "var(--gray-6)", "strokeDasharray": "3 3"},
            )
        )
        parts.append(
            rx.el.svg.text(
                name, x=str(LEFT - 6), y=y, text_anchor="end", dominant_baseline="middle"
            )
        )
    return parts


def _series(line: rx.Var, dots: rx.Var, color: str, name: str) -> rx.Component:
    stroke = {"fill": "none", "stroke": color, "strokeLinecap": "round"}
    return rx.el.svg.g(
        rx.el.svg.path(
            d=line,
            class_name="kj-chart-line",
            custom_attrs={**stroke, "strokeWidth": "2", "strokeLinejoin": "round"},
        ),
        rx.el.svg.path(
            d=dots, class_name="kj-chart-dots", custom_attrs={**stroke, "strokeWidth": "6"}
        ),
        class_name=f"kj-series kj-series-{name}",
    )


def mood_chart(state: type[rx.State], shown: dict[str, rx.Var]) -> rx.Component:
    """The chart and its legend. ``state`` has the ``chart_shape`` keys as vars
    (``mood_line``, ``mood_dots``, ..., ``ticks``); ``shown`` maps an extra series' name to the
    var that says whether to draw it (mood is always drawn)."""
    drawn = []
    legend = []
    for name, label, color in SERIES:
        series = _series(
            getattr(state, f"{name}_line"), getattr(state, f"{name}_dots"), color, name
        )
        key = rx.hstack(
            rx.box(width="16px", height="3px", background_color=color, border_radius="2px"),
            rx.text(label, size="1"),
            spacing="1",
            align="center",
            class_name=f"kj-legend-{name}",
        )
        if name in shown:
            series, key = rx.cond(shown[name], series), rx.cond(shown[name], key)
        drawn.append(series)
        legend.append(key)
    ticks = rx.foreach(
        state.ticks,
        lambda tick: rx.el.svg.text(
            tick["label"], x=tick["x"], y=str(TICK_Y), text_anchor=tick["anchor"]
        ),
    )
    return rx.box(
        rx.el.svg(
            *_grid(),
            ticks,
            *drawn,
            view_box=f"0 0 {WIDTH} {HEIGHT}",
            width="100%",
            aria_hidden="true",  # the figure's words (aria-describedby) tell the same story
            focusable="false",
            class_name="kj-chart",
            custom_attrs={"fontSize": "12", "fill": "var(--gray-11)"},
            display="block",
        ),
        rx.hstack(*legend, spacing="3", justify="center", aria_hidden="true", padding_top="2px"),
        width="100%",
    )
