"""The check-in's pure rules: scales, which local day an entry is for (and lateness) in several
time zones and across daylight-saving changes, and the checks on answers and notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kapjourney.domain import checkin as rules
from kapjourney.domain.errors import ValidationFailed


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- Scales -------------------------------------------------------------------------------------


def test_every_scale_has_five_word_anchors_and_only_energy_is_optional():
    assert [s.key for s in rules.SCALES] == ["mood", "anxiety", "sleep", "energy"]
    assert rules.REQUIRED == ("mood", "anxiety", "sleep")
    for scale in rules.SCALES:
        assert len(scale.anchors) == 5 and all(w.strip() for w in scale.anchors)
        assert scale.question.endswith("?")
    assert rules.SCALE_BY_KEY["mood"].anchors[0] == "Very low"
    assert rules.SCALE_BY_KEY["mood"].anchors[4] == "Very good"
    assert rules.SCALE_BY_KEY["anxiety"].anchors[0] == "Calm"
    assert rules.SCALE_BY_KEY["anxiety"].anchors[4] == "Overwhelmed"
    assert rules.SCALE_BY_KEY["sleep"].anchors[0] == "Very poor"
    assert rules.NOTE_MAX == 500


# --- Which day, and late ------------------------------------------------------------------------


def test_today_is_counted_in_the_clients_own_time_zone():
    at = utc(2026, 11, 21, 3, 0)  # 03:00 UTC on the 21st
    assert rules.entry_day(at, "UTC", 12, False) == (date(2026, 11, 21), False)
    assert rules.entry_day(at, "America/New_York", 12, False) == (date(2026, 11, 20), False)
    assert rules.entry_day(at, "America/Los_Angeles", 12, False) == (date(2026, 11, 20), False)
    assert rules.entry_day(at, "Pacific/Auckland", 12, False) == (date(2026, 11, 21), False)
    assert rules.entry_day(utc(2026, 11, 21, 12, 0), "Pacific/Auckland", 12, False) == (
        date(2026, 11, 22),
        False,
    )


@pytest.mark.parametrize(
    ("zone", "morning", "noon"),
    [
        ("America/New_York", utc(2026, 11, 21, 16, 59), utc(2026, 11, 21, 17, 0)),  # EST -5
        ("Asia/Kolkata", utc(2026, 11, 21, 6, 29), utc(2026, 11, 21, 6, 30)),  # +5:30
        ("Pacific/Auckland", utc(2026, 11, 20, 22, 59), utc(2026, 11, 20, 23, 0)),  # NZDT +13
        ("Europe/London", utc(2026, 11, 21, 11, 59), utc(2026, 11, 21, 12, 0)),  # GMT
    ],
)
def test_yesterday_is_accepted_and_late_until_noon_local_then_refused(zone, morning, noon):
    today = rules.entry_day(morning, zone, 12, False)[0]
    assert rules.entry_day(morning, zone, 12, True) == (today - timedelta(days=1), True)
    assert rules.yesterday_open(morning, zone, 12)
    assert not rules.yesterday_open(noon, zone, 12)
    with pytest.raises(ValidationFailed) as refused:
        rules.entry_day(noon, zone, 12, True)
    assert "closed" in refused.value.fields["day"]
    assert rules.entry_day(noon, zone, 12, False) == (today, False)


def test_the_window_is_wall_clock_noon_on_the_day_clocks_go_back():
    # New York, Sunday 1 Nov 2026: 02:00 EDT became 01:00 EST, so noon is 13 hours after midnight.
    zone = "America/New_York"
    half_past_eleven = utc(2026, 11, 1, 16, 30)  # 11:30 EST, 12.5 hours after midnight
    assert rules.entry_day(half_past_eleven, zone, 12, True) == (date(2026, 10, 31), True)
    with pytest.raises(ValidationFailed):
        rules.entry_day(utc(2026, 11, 1, 17, 0), zone, 12, True)  # 12:00 EST


def test_the_window_is_wall_clock_noon_on_the_day_clocks_go_forward():
    # London, Sunday 29 Mar 2026: 01:00 GMT became 02:00 BST, so noon is 11 hours after midnight.
    zone = "Europe/London"
    assert rules.entry_day(utc(2026, 3, 29, 10, 59), zone, 12, True) == (date(2026, 3, 28), True)
    with pytest.raises(ValidationFailed):
        rules.entry_day(utc(2026, 3, 29, 11, 0), zone, 12, True)  # 12:00 BST, 11 h elapsed


def test_a_grace_of_zero_means_today_only_and_24_means_all_of_today():
    at = utc(2026, 11, 21, 5, 0)  # 00:00 EST on the 21st
    with pytest.raises(ValidationFailed) as refused:
        rules.entry_day(at, "America/New_York", 0, True)
    assert refused.value.fields["day"] == "Check-ins can be entered for today only."
    assert not rules.yesterday_open(at, "America/New_York", 0)
    late_evening = utc(2026, 11, 22, 4, 59)  # 23:59 EST on the 21st
    assert rules.entry_day(late_evening, "America/New_York", 24, True) == (
        date(2026, 11, 20),
        True,
    )
    assert rules.yesterday_open(utc(2026, 11, 22, 5, 0), "America/New_York", 24)  # 00:00 next day


def test_no_back_filling_beyond_yesterday_even_inside_the_window():
    at = utc(2026, 11, 21, 14, 0)  # 09:00 EST
    captured = utc(2026, 11, 20, 14, 0)  # yesterday; "yesterday" from there is two days ago
    with pytest.raises(ValidationFailed):
        rules.entry_day(at, "America/New_York", 24, True, captured_utc=captured)


def test_an_entry_captured_yesterday_evening_and_synced_this_morning_is_for_yesterday_and_late():
    at = utc(2026, 11, 21, 14, 0)  # 09:00 EST on the 21st
    captured = utc(2026, 11, 21, 2, 0)  # 21:00 EST on the 20th
    assert rules.entry_day(at, "America/New_York", 12, False, captured_utc=captured) == (
        date(2026, 11, 20),
        True,
    )


def test_just_after_midnight_today_is_the_new_day():
    at = utc(2026, 11, 21, 5, 1)  # 00:01 EST on the 21st
    assert rules.entry_day(at, "America/New_York", 12, False) == (date(2026, 11, 21), False)
    assert rules.entry_day(at, "America/New_York", 12, True) == (date(2026, 11, 20), True)


@pytest.mark.parametrize("value", ["today", "Today", " yesterday "])
def test_day_names_are_read_loosely(value):
    assert rules.parse_day(value) is (value.strip().lower() == "yesterday")


@pytest.mark.parametrize("value", ["tomorrow", "", None, 1, ["today"], "x" * 100_000])
def test_other_day_names_are_a_field_problem(value):
    with pytest.raises(ValidationFailed) as refused:
        rules.parse_day(value)
    assert set(refused.value.fields) == {"day"}


# --- Answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (5, 5), ("3", 3), (" 4 ", 4)])
def test_answers_one_to_five_are_accepted(value, expected):
    assert rules.score_problem("mood", value) == (expected, "")


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_empty_answer_is_no_answer(value):
    assert rules.score_problem("energy", value) == (None, "")


@pytest.mark.parametrize(
    "value", [0, 6, -1, 99, "0", "6", "abc", "²", "3.0", 3.0, True, "9" * 5000, [3], {"v": 3}]
)
def test_anything_else_is_refused_with_the_words_of_the_scale(value):
    number, message = rules.score_problem("anxiety", value)
    assert number is None
    assert message == "Choose one of the five answers, from 1 (Calm) to 5 (Overwhelmed)."


def test_missing_required_answers_are_named_each_at_its_own_field():
    with pytest.raises(ValidationFailed) as refused:
        rules.check_answers({"mood": 3}, "")
    assert refused.value.fields == {
        "anxiety": "Choose how anxious you feel.",
        "sleep": "Choose how you slept.",
    }


def test_a_complete_answer_set_passes_and_energy_may_be_left_out():
    answers = rules.check_answers({"mood": 2, "anxiety": "4", "sleep": 3}, "ok")
    assert (answers.mood, answers.anxiety, answers.sleep, answers.energy, answers.note) == (
        2,
        4,
        3,
        None,
        "ok",
    )


def test_a_note_is_allowed_up_to_the_limit_and_the_message_says_by_how_much_it_is_over():
    assert rules.note_problem("x" * 500) == ""
    assert rules.note_problem("x" * 501) == (
        "Notes can be up to 500 characters. Please shorten it by 1 character."
    )
    assert rules.note_problem("x" * 1_000_000).endswith("by 999,500 characters.")
    with pytest.raises(ValidationFailed) as refused:
        rules.check_answers({"mood": 6, "anxiety": 1, "sleep": 1}, "x" * 600)
    assert set(refused.value.fields) == {"mood", "note"}
