"""The Progress page's mood chart, drawn on the server (kapjourney/ui/components/mood_chart.py):
where each day and level lands, gaps for days without a check-in, and the dates under it."""

from __future__ import annotations

import re
from types import SimpleNamespace

from kapjourney.ui.components.mood_chart import (
    BOTTOM,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    chart_shape,
    day_x,
    level_y,
)


def point(day: int, mood=None, anxiety=None, sleep=None):
    return SimpleNamespace(day=f"Nov {day}", mood=mood, anxiety=anxiety, sleep=sleep)


def coordinates(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"([\d.]+) ([\d.]+)", path)]


def test_levels_and_days_span_the_plot():
    assert level_y(5) == TOP and level_y(1) == BOTTOM
    assert level_y(3) == (TOP + BOTTOM) / 2
    assert level_y(9) == TOP and level_y(0) == BOTTOM  # out-of-range values stay inside
    assert day_x(0, 30) == LEFT and day_x(29, 30) == WIDTH - RIGHT
    assert LEFT < day_x(0, 1) < WIDTH - RIGHT  # one day sits in the middle


def test_a_missing_day_is_a_gap_never_a_zero_nor_a_join():
    moods = [3, 4, None, 5, None, None, 2, 2]
    shape = chart_shape([point(i + 1, mood=m) for i, m in enumerate(moods)])
    runs = shape["mood_line"].split("M")[1:]
    assert len(runs) == 2  # 3-4 and 2-2; the lone 5 is a dot, not joined to its neighbours
    assert len(coordinates(shape["mood_dots"])) == 5  # one dot per recorded day
    xs = [x for x, _ in coordinates(shape["mood_dots"])]
    assert xs == [round(day_x(i, 8), 1) for i, m in enumerate(moods) if m is not None]
    ys = [y for _, y in coordinates(shape["mood_dots"])]
    assert ys == [level_y(m) for m in moods if m is not None]
    assert all(TOP <= y <= BOTTOM for y in ys)


def test_each_series_is_drawn_from_its_own_answers():
    shape = chart_shape([point(1, mood=4, anxiety=2, sleep=None), point(2, mood=5, anxiety=1)])
    assert coordinates(shape["anxiety_line"])[0][1] == level_y(2)
    assert shape["sleep_line"] == "" and shape["sleep_dots"] == ""
    assert shape["mood_line"] != shape["anxiety_line"]


def test_dates_under_the_chart_are_the_first_middle_and_last_day():
    shape = chart_shape([point(i + 1, mood=3) for i in range(30)])
    assert [t["label"] for t in shape["ticks"]] == ["Nov 1", "Nov 16", "Nov 30"]
    assert [t["anchor"] for t in shape["ticks"]] == ["start", "middle", "end"]
    assert float(shape["ticks"][-1]["x"]) == WIDTH - RIGHT


def test_no_days_draws_nothing_and_does_not_fail():
    shape = chart_shape([])
    assert shape["ticks"] == [] and shape["mood_line"] == "" and shape["mood_dots"] == ""
