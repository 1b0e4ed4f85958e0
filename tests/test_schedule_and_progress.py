"""Pure rules: which questionnaires are due, when the C-SSRS is owed, the forgiving streak,
response and remission, band labels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kapjourney.domain.progress import (
    MOOD_ANCHORS,
    Streak,
    band_label,
    checked_in_of_last,
    forgiving_streak,
    is_remission,
    is_response,
    streak_message,
)
from kapjourney.domain.schedule import (
    Due,
    Intervals,
    cssrs_owed,
    due_now,
    periodic_due,
    pre_session_due,
    purpose_at,
)

NY = "America/New_York"
# Tuesday 2026-11-17, 10:00 in New York.
AT = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
DEFAULTS = Intervals()


def _due(**overrides) -> list[Due]:
    args = {
        "at": AT,
        "tz": NY,
        "last": {},
        "next_session_at": None,
        "intervals": DEFAULTS,
        "pcl5_enabled": False,
        "active": True,
        "owes_cssrs": False,
    }
    return due_now(**(args | overrides))


def _keys(due: list[Due]) -> list[tuple[str, str]]:
    return [(d.instrument, d.purpose) for d in due]


def _ago(days: float = 0, hours: float = 0) -> datetime:
    return AT - timedelta(days=days, hours=hours)


# --- Weekly ----------------------------------------------------------------------------------


def test_nothing_answered_yet_makes_phq9_and_gad7_due():
    assert _keys(_due()) == [("phq9", "weekly"), ("gad7", "weekly")]


def test_answered_six_days_ago_is_not_due_yet():
    assert _due(last={"phq9": _ago(6), "gad7": _ago(6)}) == []


def test_weekly_counts_local_days_so_last_tuesday_evening_is_due_this_tuesday_morning():
    # Tuesday 10 Nov, 21:00 in New York = 02:00 UTC on the 11th: seven local days ago.
    last_tuesday_evening = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    assert AT - last_tuesday_evening < timedelta(days=7)
    assert _keys(_due(last={"phq9": last_tuesday_evening, "gad7": _ago(1)})) == [("phq9", "weekly")]


def test_the_clinic_interval_is_honoured():
    longer = Intervals(phq9_days=14, gad7_days=10)
    assert _due(last={"phq9": _ago(9), "gad7": _ago(9)}, intervals=longer) == []
    assert _keys(_due(last={"phq9": _ago(14), "gad7": _ago(10)}, intervals=longer)) == [
        ("phq9", "weekly"),
        ("gad7", "weekly"),
    ]


def test_pcl5_is_due_only_when_enabled_and_every_two_weeks():
    recent = {"phq9": _ago(1), "gad7": _ago(1)}
    assert _due(last=recent | {"pcl5": _ago(30)}) == []
    assert _keys(_due(last=recent | {"pcl5": _ago(13)}, pcl5_enabled=True)) == []
    assert _keys(_due(last=recent | {"pcl5": _ago(14)}, pcl5_enabled=True)) == [("pcl5", "weekly")]


def test_an_inactive_course_has_nothing_scheduled():
    assert _due(active=False) == []


@pytest.mark.parametrize("days", [0, 1, 6])
def test_periodic_due_is_false_inside_the_interval(days):
    assert not periodic_due(_ago(days), AT, 7, ZoneInfo(NY))


# --- Before a session ------------------------------------------------------------------------


def test_phq9_is_due_in_the_72_hours_before_a_session_even_if_answered_last_week():
    session_at = AT + timedelta(hours=48)
    due = _due(last={"phq9": _ago(3), "gad7": _ago(3)}, next_session_at=session_at)
    assert _keys(due) == [("phq9", "pre_session")]


def test_a_phq9_answered_inside_the_window_covers_the_session():
    session_at = AT + timedelta(hours=48)
    assert _due(last={"phq9": _ago(hours=2), "gad7": _ago(1)}, next_session_at=session_at) == []


def test_the_window_opens_exactly_72_hours_before_and_closes_at_the_start():
    start = AT + timedelta(hours=72)
    assert pre_session_due(None, AT, start, 72)
    assert not pre_session_due(None, AT - timedelta(seconds=1), start, 72)
    assert not pre_session_due(None, start, start, 72)
    assert not pre_session_due(None, AT, None, 72)


def test_purpose_is_pre_session_inside_the_window_and_weekly_outside():
    soon = AT + timedelta(hours=24)
    far = AT + timedelta(days=6)
    assert purpose_at("phq9", at=AT, next_session_at=soon, intervals=DEFAULTS) == "pre_session"
    assert purpose_at("phq9", at=AT, next_session_at=far, intervals=DEFAULTS) == "weekly"
    assert purpose_at("gad7", at=AT, next_session_at=soon, intervals=DEFAULTS) == "weekly"
    assert purpose_at("cssrs", at=AT, next_session_at=None, intervals=DEFAULTS) == "cssrs"


# --- C-SSRS ----------------------------------------------------------------------------------


def test_phq9_item9_above_zero_owes_a_cssrs_until_one_is_submitted_after_it():
    phq9 = (_ago(1), 1)
    assert cssrs_owed(newest_phq9=phq9, newest_report=None, last_cssrs=None)
    assert cssrs_owed(newest_phq9=phq9, newest_report=None, last_cssrs=_ago(2))
    assert not cssrs_owed(newest_phq9=phq9, newest_report=None, last_cssrs=_ago(0.5))


def test_item9_at_zero_on_the_newest_phq9_owes_nothing():
    assert not cssrs_owed(newest_phq9=(_ago(1), 0), newest_report=None, last_cssrs=None)


def test_self_harm_in_the_newest_symptom_report_owes_a_cssrs():
    report = (_ago(hours=3), 2)
    assert cssrs_owed(newest_phq9=(_ago(3), 0), newest_report=report, last_cssrs=_ago(1))
    assert not cssrs_owed(newest_phq9=None, newest_report=(_ago(1), 0), last_cssrs=None)


def test_an_owed_cssrs_comes_first_is_urgent_and_is_due_even_outside_an_active_course():
    due = _due(owes_cssrs=True)
    assert (due[0].instrument, due[0].purpose, due[0].urgent) == ("cssrs", "cssrs", True)
    assert _keys(_due(owes_cssrs=True, active=False)) == [("cssrs", "cssrs")]


# --- Forgiving streak ------------------------------------------------------------------------

TODAY = date(2026, 11, 21)


def _days(*back: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in back]


def test_a_run_of_consecutive_days_counts_each_day():
    assert forgiving_streak(_days(0, 1, 2, 3, 4), TODAY) == Streak(5, TODAY - timedelta(days=4))


def test_today_not_yet_done_never_breaks_the_run():
    assert forgiving_streak(_days(1, 2, 3), TODAY).checkins == 3


def test_one_missed_day_is_a_grace_day():
    assert forgiving_streak(_days(0, 2, 3, 5, 6), TODAY).checkins == 5


def test_two_missed_days_in_a_row_end_the_run():
    assert forgiving_streak(_days(0, 1, 4, 5, 6), TODAY) == Streak(2, TODAY - timedelta(days=1))


def test_yesterday_missed_and_today_open_keeps_the_run():
    assert forgiving_streak(_days(2, 3), TODAY).checkins == 2


def test_two_days_missed_before_today_leaves_no_run():
    assert forgiving_streak(_days(3, 4, 5), TODAY) == Streak(0, None)


def test_no_checkins_and_future_dates_give_no_run():
    assert forgiving_streak([], TODAY) == Streak(0, None)
    assert forgiving_streak([TODAY + timedelta(days=1)], TODAY) == Streak(0, None)


def test_checked_in_of_the_last_seven_does_not_count_an_open_today_against_anyone():
    assert checked_in_of_last(_days(1, 2, 3, 4, 5, 6, 7), TODAY, 7) == 7
    assert checked_in_of_last(_days(0, 1, 2, 3, 4, 5, 6, 7), TODAY, 7) == 7
    assert checked_in_of_last(_days(0, 2, 4, 9), TODAY, 7) == 3


def test_the_streak_copy_is_kind():
    assert streak_message(Streak(0, None), 0).startswith("Check in whenever you're ready")
    assert streak_message(Streak(5, TODAY), 5) == (
        "You've checked in 5 of the last 7 days. Your current run: 5 check-ins. "
        "A missed day doesn't break it."
    )
    for text in (streak_message(Streak(0, None), 0), streak_message(Streak(1, TODAY), 1)):
        for unkind in ("missed", "fail", "only", "broke", "lost"):
            assert unkind not in text.lower()


# --- Response, remission, bands --------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "score", "response"),
    [(16, 8, True), (16, 9, False), (15, 7, True), (15, 8, False), (0, 0, False), (None, 3, False)],
)
def test_response_is_a_drop_of_half_or_more_from_baseline(baseline, score, response):
    assert is_response(baseline, score) is response


@pytest.mark.parametrize(("score", "remission"), [(4, True), (0, True), (5, False), (None, False)])
def test_remission_is_a_phq9_below_five(score, remission):
    assert is_remission("phq9", score) is remission


def test_remission_is_defined_only_for_phq9():
    assert not is_remission("gad7", 0)


@pytest.mark.parametrize(
    ("instrument", "score", "label"),
    [
        ("phq9", 4, "Minimal"),
        ("phq9", 5, "Mild"),
        ("phq9", 19, "Moderately severe"),
        ("gad7", 15, "Severe"),
        ("pcl5", 33, "At or above 33"),
        ("phq9", None, ""),
        ("nope", 3, ""),
    ],
)
def test_band_labels_follow_the_published_bands(instrument, score, label):
    assert band_label(instrument, score) == label


def test_mood_has_an_anchor_word_for_every_point():
    assert sorted(MOOD_ANCHORS) == [1, 2, 3, 4, 5]
