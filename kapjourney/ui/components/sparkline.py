"""A 14-day mood sparkline: a small inline SVG, with its story told in words for screen readers.

``sparkline_shape(values)`` is plain Python (run by the page state when it maps rows): it turns the
daily moods, oldest first, ``None`` for a day without a check-in, into two SVG path strings and a
label. Missing days are gaps in the line, never joined across; a day between two gaps still shows
as a dot. ``sparkline(line, dots, label)`` draws them from Reflex vars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

MOOD_MIN, MOOD_MAX = 1, 5
STEP = 10  # user units between days
HEIGHT = 30
PAD = 4  # keeps the round caps of the top and bottom values inside the box


def _y(mood: int) -> float:
    mood = min(max(mood, MOOD_MIN), MOOD_MAX)
    span = HEIGHT - 2 * PAD
    return round(HEIGHT - PAD - (mood - MOOD_MIN) * span / (MOOD_MAX - MOOD_MIN), 1)


def _num(value: float) -> str:
    return f"{round(value, 1):g}"


def line_paths(
    values: Sequence[int | None], x: Callable[[int], float], y: Callable[[int], float]
) -> tuple[str, str]:
    """(line path, dot path) through ``values`` (one per day, oldest first, ``None`` for a day
    without one), the day's index placed by ``x`` and the value by ``y``. Missing days are gaps,
    never joined across; a day between two gaps still shows as a dot."""
    runs: list[list[str]] = [[]]  # consecutive days with a value; a missing day starts a new run
    dots: list[str] = []
    for day, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        point = f"{_num(x(day))} {_num(y(value))}"
        runs[-1].append(point)
        dots.append(f"M{point}h0")  # a zero-length stroke with round caps draws a dot
    line = " ".join("M" + " L".join(run) for run in runs if len(run) > 1)
    return line, " ".join(dots)


def sparkline_shape(values: Sequence[int | None]) -> tuple[str, str, str]:
    """(line path, dot path, label) for the moods of the last days, oldest first."""
    line, dots = line_paths(values, lambda day: day * STEP, _y)
    return line, dots, sparkline_label(values)


def sparkline_label(values: Sequence[int | None]) -> str:
    """In words what the line shows: "Mood over 14 days: 2 to 4 (low 1, high 4), 9 of 14 days
    recorded"; the first and the last mood recorded, and the lowest and highest between."""
    known = [v for v in values if v is not None]
    days = len(values)
    if not known:
        return f"Mood over {days} days: no check-ins"
    recorded = f"{len(known)} of {days} days recorded"
    low, high = min(known), max(known)
    if low == high:
        return f"Mood over {days} days: {low} each time, {recorded}"
    return f"Mood over {days} days: {known[0]} to {known[-1]} (low {low}, high {high}), {recorded}"


def sparkline(line: rx.Var, dots: rx.Var, label: rx.Var, days: int = 14) -> rx.Component:
    """The drawing: a role="img" SVG whose name is the label (its shapes are decoration)."""
    width = (days - 1) * STEP
    stroke = {"fill": "none", "stroke": "currentColor", "strokeLinecap": "round"}
    return rx.el.svg(
        rx.el.svg.path(
            d=line, custom_attrs={**stroke, "strokeWidth": "2", "strokeLinejoin": "round"}
        ),
        rx.el.svg.path(d=dots, custom_attrs={**stroke, "strokeWidth": "5"}),
        view_box=f"-3 0 {width + 6} {HEIGHT}",
        width="100",
        height="26",
        role="img",
        aria_label=label,
        class_name="kj-sparkline",
        color=rx.color("indigo", 11),
        flex_shrink="0",
        overflow="visible",
    )
