"""Per-session outcomes (domain.outcomes): the scores either side of each dosing session, with
response and remission against the first score. Hand-computed examples, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kapjourney.domain.outcomes import Change, ScoreAt, SessionAt, session_outcomes

D0 = datetime(2030, 3, 1, 15, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return D0 + timedelta(days=n)


def s(number: int, at: float, status: str = "completed") -> SessionAt:
    return SessionAt(number, day(at), status)


def q(instrument: str, score: int, at: float) -> ScoreAt:
    return ScoreAt(instrument, score, day(at))


NOW = day(40)


def outcomes(sessions, scores, now=NOW, instruments=("phq9", "gad7", "pcl5")):
    return session_outcomes(sessions, scores, now=now, instruments=instruments)


def test_no_sessions_no_outcomes():
    assert outcomes([], [q("phq9", 20, 0)]) == []


def test_no_scores_at_all_gives_empty_changes():
    [only] = outcomes([s(1, 7)], [])
    assert only.number == 1 and only.at == day(7) and only.status == "completed"
    assert only.changes == (
        Change("phq9", None, None),
        Change("gad7", None, None),
        Change("pcl5", None, None),
    )


def test_no_score_before_the_session():
    # The first PHQ-9 arrives after session 1: it is the baseline, so no marker even at 4.
    [one] = outcomes([s(1, 7)], [q("phq9", 4, 9)], instruments=("phq9",))
    assert one.change("phq9") == Change("phq9", None, 4, response=False, remission=False)


def test_no_score_after_the_session():
    [one, two] = outcomes([s(1, 7), s(2, 14)], [q("phq9", 20, 0), q("phq9", 12, 10)])
    assert one.change("phq9") == Change("phq9", 20, 12)  # 12 > 10: not yet a response
    assert two.change("phq9") == Change("phq9", 12, None)  # nothing since session 2


def test_baseline_only():
    [one] = outcomes([s(1, 7)], [q("gad7", 12, 0)], instruments=("gad7",))
    assert one.change("gad7") == Change("gad7", 12, None)


def test_response_without_remission():
    # GAD-7 12 -> 6 is exactly half: a response. PHQ-9 20 -> 9: response, but 9 is not below 5.
    scores = [q("phq9", 20, 0), q("gad7", 12, 0), q("phq9", 9, 9), q("gad7", 6, 9)]
    [one] = outcomes([s(1, 7)], scores)
    assert one.change("phq9") == Change("phq9", 20, 9, response=True, remission=False)
    assert one.change("gad7") == Change("gad7", 12, 6, response=True, remission=False)


def test_just_short_of_half_is_no_response():
    [one] = outcomes([s(1, 7)], [q("gad7", 12, 0), q("gad7", 7, 9)], instruments=("gad7",))
    assert one.change("gad7") == Change("gad7", 12, 7)


def test_remission_and_the_newest_score_in_the_window_wins():
    scores = [q("phq9", 14, 0), q("phq9", 8, 8), q("phq9", 4, 12), q("phq9", 3, 16)]
    [one, two] = outcomes([s(1, 7), s(2, 14)], scores)
    # Session 1: before 14 (day 0); after: the newest in (day 7, day 14] is 4 (day 12).
    assert one.change("phq9") == Change("phq9", 14, 4, response=True, remission=True)
    # Session 2: before 4 (day 12); after 3 (day 16).
    assert two.change("phq9") == Change("phq9", 4, 3, response=True, remission=True)


def test_remission_without_response_from_a_low_baseline():
    # Baseline 6 -> 4: below 5 (remission) but not half of 6 (a response needs 3 or less).
    [one] = outcomes([s(1, 7)], [q("phq9", 6, 0), q("phq9", 4, 9)], instruments=("phq9",))
    assert one.change("phq9") == Change("phq9", 6, 4, response=False, remission=True)


def test_a_score_at_the_session_time_counts_as_before():
    [one] = outcomes([s(1, 7)], [q("phq9", 20, 0), q("phq9", 10, 7)], instruments=("phq9",))
    assert one.change("phq9") == Change("phq9", 10, None)


def test_a_cancelled_session_is_skipped_and_does_not_split_windows():
    sessions = [s(1, 7), s(2, 10, "cancelled"), s(3, 14)]
    scores = [q("phq9", 20, 0), q("phq9", 8, 12)]
    one, three = outcomes(sessions, scores)
    assert (one.number, three.number) == (1, 3)
    # Without the cancelled session, day 12 falls in session 1's window (up to day 14).
    assert one.change("phq9") == Change("phq9", 20, 8, response=True, remission=False)
    assert three.change("phq9") == Change("phq9", 8, None)


def test_pcl5_has_a_response_but_no_remission_rule():
    [one] = outcomes([s(1, 7)], [q("pcl5", 40, 0), q("pcl5", 2, 9)], instruments=("pcl5",))
    assert one.change("pcl5") == Change("pcl5", 40, 2, response=True, remission=False)


def test_a_session_still_ahead_has_a_before_but_no_after():
    scores = [q("phq9", 20, 0), q("phq9", 8, 12)]
    [one, two] = outcomes([s(1, 7), s(2, 45, "scheduled")], scores)  # NOW is day 40
    assert one.change("phq9") == Change("phq9", 20, 8, response=True)
    assert two.change("phq9") == Change("phq9", 8, None)


def test_the_last_window_runs_up_to_now_only():
    scores = [q("phq9", 20, 0), q("phq9", 4, 30), q("phq9", 3, 50)]  # day 50 is after NOW
    [one] = outcomes([s(1, 7)], scores, instruments=("phq9",))
    assert one.change("phq9") == Change("phq9", 20, 4, response=True, remission=True)


def test_sessions_and_scores_are_ordered_by_time_whatever_order_they_come_in():
    sessions = [s(2, 14), s(1, 7)]
    scores = [q("phq9", 8, 12), q("phq9", 20, 0)]
    one, two = outcomes(sessions, scores, instruments=("phq9",))
    assert (one.number, two.number) == (1, 2)
    assert one.change("phq9") == Change("phq9", 20, 8, response=True)
