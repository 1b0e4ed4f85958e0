"""The clinician's charts of one client (issue 6, item 3): ranges, gaps, session markers, the
per-session outcome table, the words for screen readers, and who may see them."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.enums import DosingRoute, DosingSetting, DosingStatus
from kapjourney.domain.errors import AccessDenied
from kapjourney.domain.models import CheckIn, Course, DosingSession, QuestionnaireResponse, User
from kapjourney.services.charts import client_charts, range_days
from kapjourney.services.uow import unit_of_work
from kapjourney.ui.pages.client_detail.charts_panel import ChartsPanelState
from tests.conftest import run_async
from tests.support import audit_events

NOW = datetime(2030, 1, 31, 15, 0, tzinfo=UTC)  # 10:00 on Jan 31 in New York (Ada's zone)


def at(d: date, hour: int = 15) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)  # 15:00 UTC: the same NY day


def _checkin(client: User, d: date, mood, anxiety, sleep, status="submitted") -> CheckIn:
    return CheckIn(
        client_id=client.id,
        clinic_id=client.clinic_id,
        local_date=d,
        status=status,
        mood=mood,
        anxiety=anxiety,
        sleep=sleep,
        note="<b>private</b>",
        submitted_at=at(d),
    )


def _score(client: User, instrument: str, score, d: date, status="submitted", band=""):
    return QuestionnaireResponse(
        client_id=client.id,
        clinic_id=client.clinic_id,
        instrument=instrument,
        instrument_version="1",
        purpose="weekly",
        status=status,
        answers="{}",
        score=score,
        band=band,
        submitted_at=at(d),
    )


def _dosing(course: Course, number: int, d: date, status: DosingStatus) -> DosingSession:
    return DosingSession(
        course_id=course.id,
        client_id=course.client_id,
        number=number,
        scheduled_at=at(d),
        route=DosingRoute.SUBLINGUAL_LOZENGE,
        setting=DosingSetting.IN_CLINIC,
        status=status,
    )


@pytest.fixture
def history(engine, personas):
    """Ada: check-ins (one a draft), PHQ-9 / GAD-7 / PCL-5 scores, sessions S1 and S2 done,
    S3 cancelled, S4 ahead. Otto has a check-in of his own that must never show."""
    with db.session_scope(engine) as s:
        ada = s.get(User, personas.client.id)
        otto = s.get(User, personas.other_client.id)
        course = s.exec(select(Course).where(Course.client_id == ada.id)).one()
        s.add_all(
            [
                _dosing(course, 1, date(2030, 1, 10), DosingStatus.COMPLETED),
                _dosing(course, 2, date(2030, 1, 24), DosingStatus.COMPLETED),
                _dosing(course, 3, date(2030, 1, 20), DosingStatus.CANCELLED),
                _dosing(course, 4, date(2030, 2, 7), DosingStatus.SCHEDULED),
                _checkin(ada, date(2028, 12, 1), 1, 1, 1),  # outside every range
                _checkin(ada, date(2029, 6, 1), 2, 2, 2),  # in the year only
                _checkin(ada, date(2029, 11, 15), 3, 3, 3),  # in 90 days and the year
                _checkin(ada, date(2030, 1, 5), 2, 4, 3),
                _checkin(ada, date(2030, 1, 12), 4, 2, None),
                _checkin(ada, date(2030, 1, 20), 5, 5, 5, status="draft"),
                _checkin(ada, date(2030, 1, 30), 5, 1, 4),
                _checkin(otto, date(2030, 1, 6), 1, 5, 1),
                _score(ada, "pcl5", 40, date(2029, 12, 1)),
                _score(ada, "phq9", 20, date(2030, 1, 3), band="Severe"),
                _score(ada, "gad7", 12, date(2030, 1, 3)),
                _score(ada, "phq9", 9, date(2030, 1, 14)),
                _score(ada, "gad7", 8, date(2030, 1, 14)),
                _score(ada, "phq9", 4, date(2030, 1, 27)),
                _score(ada, "pcl5", 18, date(2030, 1, 27)),
                _score(ada, "phq9", 1, date(2030, 1, 29), status="draft"),
                _score(ada, "cssrs", None, date(2030, 1, 29)),
            ]
        )
    return personas


def charts(personas, who="clinician", days=30, target="client"):
    with time_machine.travel(NOW, tick=False), unit_of_work() as s:
        return client_charts(
            session=s,
            actor=personas.actor(who),
            client_id=getattr(personas, target).id,
            days=days,
        )


# --- Ranges and gaps -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["90", 7, 0, -30, None, True, 10**9, 30.0, [30]])
def test_a_range_other_than_30_90_or_365_days_is_90(bad):
    assert range_days(bad) == 90
    assert [range_days(d) for d in (30, 90, 365)] == [30, 90, 365]


def test_30_days_end_today_with_gaps_as_none(engine, history):
    view = charts(history)
    assert (view.days, view.first_day, view.last_day) == (30, "2030-01-02", "2030-01-31")
    assert len(view.points) == len(view.score_days) == 30
    assert (view.points[0].label, view.points[-1].label) == ("Jan 2", "Jan 31")
    days = {p.date: (p.mood, p.anxiety, p.sleep) for p in view.points}
    assert days["2030-01-05"] == (2, 4, 3)
    assert days["2030-01-12"] == (4, 2, None)  # sleep not given: a gap, not a zero
    assert days["2030-01-20"] == (None, None, None)  # a draft is not a check-in
    assert days["2030-01-06"] == (None, None, None)  # Otto's, not Ada's
    assert sum(1 for v in days.values() if v != (None, None, None)) == 3


def test_longer_ranges_reach_further_back(engine, history):
    quarter = charts(history, days=90)
    year = charts(history, days=365)
    assert (len(quarter.points), quarter.first_day) == (90, "2029-11-03")
    assert (len(year.points), year.first_day) == (365, "2029-02-01")
    moods = {p.date: p.mood for p in year.points if p.mood is not None}
    assert "2029-06-01" in moods and "2028-12-01" not in moods
    assert "2029-06-01" not in {p.date for p in quarter.points if p.mood is not None}
    assert [p.score for p in quarter.series[2].points] == [40, 18]  # PCL-5 since December


def test_scores_per_instrument_with_bands(engine, history):
    phq9, gad7, pcl5 = charts(history).series
    assert (phq9.title, gad7.title, pcl5.title) == ("PHQ-9", "GAD-7", "PCL-5")
    assert [(p.label, p.score, p.band) for p in phq9.points] == [
        ("Jan 3", 20, "Severe"),
        ("Jan 14", 9, "Mild"),  # no stored band: the published one
        ("Jan 27", 4, "Minimal"),
    ]
    assert [p.score for p in gad7.points] == [12, 8]
    assert [p.score for p in pcl5.points] == [18]  # December's 40 is before these 30 days


def test_score_days_share_the_check_in_days(engine, history):
    view = charts(history)
    by_label = {d.label: d for d in view.score_days}
    assert [d.label for d in view.score_days] == [p.label for p in view.points]
    assert (by_label["Jan 3"].phq9, by_label["Jan 3"].gad7, by_label["Jan 3"].pcl5) == (
        20,
        12,
        None,
    )
    assert (by_label["Jan 27"].phq9, by_label["Jan 27"].pcl5) == (4, 18)
    assert by_label["Jan 29"].phq9 is None  # the draft
    assert sum(1 for d in view.score_days if (d.phq9, d.gad7, d.pcl5) != (None,) * 3) == 3


def test_markers_are_the_sessions_in_range_not_cancelled(engine, history):
    view = charts(history)
    assert [(m.name, m.label, m.status) for m in view.markers] == [
        ("S1", "Jan 10", "completed"),
        ("S2", "Jan 24", "completed"),
    ]
    assert all(m.label in {p.label for p in view.points} for m in view.markers)


def test_outcomes_before_and_after_each_session(engine, history):
    view = charts(history)
    rows = view.outcomes
    assert view.outcome_titles == ["PHQ-9", "GAD-7", "PCL-5"]
    assert [(r.name, r.when, r.status_label) for r in rows] == [
        ("S1", "Thu 10 Jan 2030", "Done"),
        ("S2", "Thu 24 Jan 2030", "Done"),
        ("S4", "Thu 7 Feb 2030", "Scheduled"),  # S3 was cancelled
    ]
    cells = [[(c.title, c.text, c.response, c.remission) for c in r.cells] for r in rows]
    assert cells == [
        [("PHQ-9", "20 → 9", True, False), ("GAD-7", "12 → 8", False, False),
         ("PCL-5", "40 → –", False, False)],
        [("PHQ-9", "9 → 4", True, True), ("GAD-7", "8 → –", False, False),
         ("PCL-5", "40 → 18", True, False)],
        [("PHQ-9", "4 → –", False, False), ("GAD-7", "8 → –", False, False),
         ("PCL-5", "18 → –", False, False)],
    ]  # fmt: skip


def test_pcl5_joins_the_outcome_table_only_once_the_client_has_a_score(engine, personas):
    with db.session_scope(engine) as s:
        ada = s.get(User, personas.client.id)
        course = s.exec(select(Course).where(Course.client_id == ada.id)).one()
        s.add(_dosing(course, 1, date(2030, 1, 10), DosingStatus.COMPLETED))
        s.add(_score(ada, "phq9", 12, date(2030, 1, 3)))
    view = charts(personas)
    assert view.outcome_titles == ["PHQ-9", "GAD-7"]
    assert [[c.title for c in r.cells] for r in view.outcomes] == [["PHQ-9", "GAD-7"]]
    with db.session_scope(engine) as s:
        s.add(_score(s.get(User, personas.client.id), "pcl5", 30, date(2029, 6, 1)))
    view = charts(personas)
    assert view.outcome_titles == ["PHQ-9", "GAD-7", "PCL-5"]
    assert [c.text for c in view.outcomes[0].cells] == ["12 → –", "– → –", "30 → –"]


def test_the_charts_in_words(engine, history):
    view = charts(history)
    assert view.checkin_summary == (
        "Check-ins on 3 of 30 days, Jan 2 to Jan 31. Mood averaged 3.7 of 5 (low 2, high 5)."
        " Anxiety averaged 2.3 of 5 (low 1, high 4). Sleep averaged 3.5 of 5 (low 3, high 4)."
        " Dosing sessions: S1 on Jan 10, S2 on Jan 24."
    )
    assert view.score_summary == (
        "PHQ-9: 3 scores, first 20 of 27 (Severe) on Jan 3, latest 4 (Minimal) on Jan 27."
        " GAD-7: 2 scores, first 12 of 21 (Moderate) on Jan 3, latest 8 (Mild) on Jan 14."
        " PCL-5: 1 score, first 18 of 80 (Below the provisional cut-off) on Jan 27."
        " Dosing sessions: S1 on Jan 10, S2 on Jan 24."
    )


def test_a_client_without_history_gets_empty_charts_and_kind_words(engine, personas):
    view = charts(personas)
    assert all(p.mood is None for p in view.points) and view.markers == []
    assert view.outcomes == [] and all(s.points == [] for s in view.series)
    assert (
        view.checkin_summary
        == "No check-ins from Jan 2 to Jan 31. No dosing sessions in this range."
    )
    assert view.score_summary.startswith("PHQ-9: no scores in this range.")


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_the_care_team_sees_the_charts_and_is_audited(engine, history, who):
    assert charts(history, who).client_id == history.client.id
    events = audit_events(engine, "charts_viewed")
    assert [(e.actor_id, e.subject_client_id) for e in events] == [
        (getattr(history, who).id, history.client.id)
    ]


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("other_clinician", "client"),
        ("foreign_admin", "client"),
        ("client", "client"),  # her own Progress page is hers; the care team's charts are not
        ("other_client", "client"),
        ("clinician", "other_client"),
    ],
)
def test_anyone_else_is_denied_like_a_missing_client_and_audited(engine, history, who, target):
    with pytest.raises(AccessDenied):
        charts(history, who, target=target)
    assert audit_events(engine, "charts_viewed") == []
    denied = audit_events(engine, "access_denied")
    assert [(d.actor_id, d.target, d.outcome) for d in denied] == [
        (getattr(history, who).id, "charts_viewed", "denied")
    ]


@pytest.mark.parametrize("bad", [999_999, "1", None, -1, 10**30])
def test_unknown_or_malformed_ids_are_denied(engine, personas, bad):
    with pytest.raises(AccessDenied), unit_of_work() as s:
        client_charts(session=s, actor=personas.actor("clinician"), client_id=bad, days=30)


# --- A year of history ----------------------------------------------------------------------------


def test_a_year_of_history_reads_quickly(engine, personas):
    """365 daily check-ins, weekly PHQ-9 and GAD-7, six sessions: the year's charts in well
    under a second (measured: see the report of issue 6, item 3)."""
    first = date(2029, 2, 1)
    with db.session_scope(engine) as s:
        ada = s.get(User, personas.client.id)
        course = s.exec(select(Course).where(Course.client_id == ada.id)).one()
        for n in range(365):
            d = first + timedelta(days=n)
            s.add(_checkin(ada, d, 1 + n % 5, 1 + (n + 2) % 5, 1 + (n + 4) % 5))
            if n % 7 == 0:
                s.add(_score(ada, "phq9", max(0, 20 - n // 20), d))
                s.add(_score(ada, "gad7", max(0, 15 - n // 25), d))
        for k in range(6):
            s.add(_dosing(course, k + 1, first + timedelta(days=200 + 14 * k), "completed"))
    started = time.perf_counter()
    view = charts(personas, days=365)
    elapsed = time.perf_counter() - started
    assert sum(1 for p in view.points if p.mood is not None) == 365
    assert len(view.markers) == len(view.outcomes) == 6
    assert len(view.series[0].points) == 53
    assert elapsed < 2.0, f"a year of charts took {elapsed:.2f} s"


# --- The panel's handler -------------------------------------------------------------------------


def _panel(engine, personas, who: str):
    from tests.test_handlers import _cookie_for, _state  # builds the app: only these tests

    state = _state(ChartsPanelState, _cookie_for(engine, getattr(personas, who)))
    state._client_id = personas.client.id  # as the page's load leaves it
    return state


def test_the_range_buttons_reload_the_charts(engine, history):
    with time_machine.travel(NOW, tick=False):  # the sign-in too, or it has expired by then
        state = _panel(engine, history, "clinician")
        run_async(state.set_range(30))
        assert (state.days, len(state.points), len(state.score_days)) == (30, 30, 30)
        assert [m.name for m in state.markers] == ["S1", "S2"]
        assert [r.name for r in state.outcomes] == ["S1", "S2", "S4"]
        assert state.has_pcl5 is True and state.checkin_summary.startswith("Check-ins on 3 of 30")
        run_async(state.set_range("365; DROP TABLE user"))
        assert (state.days, len(state.points)) == (90, 90)


def test_an_unassigned_clinician_changing_range_sees_not_found(engine, history):
    state = _panel(engine, history, "other_clinician")
    result = run_async(state.set_range(30))
    assert "not found" in str(result).lower()
    assert state.points == [] and state.outcomes == [] and state.checkin_summary == ""
    denied = audit_events(engine, "access_denied")
    assert [(d.actor_id, d.target) for d in denied] == [
        (history.other_clinician.id, "charts_viewed")
    ]


def test_the_client_herself_cannot_call_the_panel(engine, history):
    state = _panel(engine, history, "client")
    result = run_async(state.set_range(30))
    assert "/today" in str(result)
    assert state.points == [] and audit_events(engine, "charts_viewed") == []
