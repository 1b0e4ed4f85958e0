"""The caseload dashboard: adherence, recency, scores and attention computed by hand; the summary
row kept up to date in the writing transaction; who sees which rows; search, filter and paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import passwords
from kapjourney.domain import adherence as a
from kapjourney.domain.adherence import Adherence, AttentionFacts, ScoreFacts
from kapjourney.domain.enums import AlertSeverity, DosingRoute, DosingSetting, Role
from kapjourney.domain.errors import AccessDenied
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ClientSummary,
    ClinicianAssignment,
    Course,
    DosingSession,
    PushSubscription,
    QuestionnaireResponse,
    ReminderPreference,
    User,
)
from kapjourney.domain.progress import is_remission, is_response
from kapjourney.domain.schemas import Actor
from kapjourney.seed import seed_demo
from kapjourney.services import alerts, checkins, dashboard, inbox, reminders
from kapjourney.services.uow import unit_of_work
from tests.support import audit_events

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # Saturday 21 Nov, noon in New York
TODAY = date(2026, 11, 21)
HOSTILE = "<script>alert(1)</script> 100% _Ada_"


def frozen(at: datetime):
    return time_machine.travel(at, tick=False)


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


# --- Pure figures, by hand ---------------------------------------------------------------------


def test_a_client_who_joined_mid_window_is_counted_only_from_joining():
    # Joined Thu 19; on time on the 19th, late for the 20th; today (21st) still open.
    got = a.adherence({d(19): False, d(20): True}, TODAY, 7, enrolled=d(19))
    assert got == Adherence(on_time=1, late=1, days=2)
    assert got.missed == 0


def test_days_before_the_first_checkin_count_as_missed_only_after_enrolment():
    done = {d(19): False}
    week = a.adherence(done, TODAY, 7, enrolled=d(10))  # 14..20 Nov
    assert (week.on_time, week.late, week.days, week.missed) == (1, 0, 7, 6)
    month = a.adherence(done, TODAY, 30, enrolled=d(10))  # 22 Oct..20 Nov, from the 10th
    assert (month.on_time, month.days, month.missed) == (1, 11, 10)


def test_today_counts_once_done_and_an_open_day_never_counts_against():
    assert a.adherence({TODAY: False}, TODAY, 7, enrolled=d(1)) == Adherence(1, 0, 7)  # 15..21
    assert a.adherence({}, TODAY, 7, enrolled=d(1)) == Adherence(0, 0, 7)  # 14..20
    assert a.adherence({}, TODAY, 7, enrolled=TODAY) == Adherence(0, 0, 0)
    assert a.adherence({TODAY: False}, TODAY, 7, enrolled=TODAY) == Adherence(1, 0, 1)


def test_windows_cross_a_month_boundary():
    today = d(2, 12)
    done = {d(25): False, d(26): False, d(30): True, d(1, 12): False, d(2, 12): False}
    assert a.adherence(done, today, 7, enrolled=d(1, 10)) == Adherence(3, 1, 7)  # 26 Nov..2 Dec
    assert a.adherence(done, today, 30, enrolled=d(1, 10)) == Adherence(4, 1, 30)  # 3 Nov..2 Dec


def test_enrolment_starts_at_the_later_of_course_start_and_account_creation():
    assert a.enrolment_start(d(1), d(5)) == d(5)
    assert a.enrolment_start(d(9), d(5)) == d(9)
    assert a.enrolment_start(None, d(5)) == d(5)


@pytest.mark.parametrize(
    ("days_ago", "tier"),
    [(0, "2d"), (2, "2d"), (3, "7d"), (7, "7d"), (8, "older"), (400, "older"), (None, "never")],
)
def test_recency_tiers_at_their_boundaries(days_ago, tier):
    last = None if days_ago is None else TODAY - timedelta(days=days_ago)
    assert a.recency(last, TODAY) == tier
    assert tier in a.RECENCY_LABELS


def test_the_mood_sparkline_is_fourteen_days_oldest_first_with_gaps():
    moods = {TODAY - timedelta(days=14): 5, TODAY - timedelta(days=13): 2, d(19): 4, d(20): None}
    series = a.mood_series(moods, TODAY)
    assert len(series) == 14
    assert series[0] == 2  # 8 Nov; the 7th is outside the fourteen days
    assert series[11:] == [4, None, None]  # the 19th, the 20th (no mood), today (not done)
    assert series.count(None) == 12
    assert a.last_mood(moods) == 4  # the 20th's check-in carried no mood


def test_response_and_remission_rules():
    assert is_response(18, 9) and not is_response(18, 10)
    assert not is_response(0, 0) and not is_response(None, 3)
    assert is_remission("phq9", 4) and not is_remission("phq9", 5)
    assert not is_remission("gad7", 0)  # no remission rule for GAD-7


@pytest.mark.parametrize(
    ("facts", "response", "remission", "text"),
    [
        (ScoreFacts(12, "Moderate", 18), False, False, "12 · Moderate · −6 from 18"),
        (ScoreFacts(9, "Mild", 18), True, False, "9 · Mild · −9 from 18 · response"),
        (ScoreFacts(4, "Minimal", 18), True, True, "4 · Minimal · −14 from 18 · remission"),
        (ScoreFacts(14, "Moderate", 9), False, False, "14 · Moderate · +5 from 9"),
        (ScoreFacts(9, "Mild", 9), False, False, "9 · Mild · no change from 9"),
        (
            ScoreFacts(18, "Moderately severe", None),
            False,
            False,
            "18 · Moderately severe · baseline",
        ),
        (ScoreFacts(None, "", None), False, False, ""),
    ],
)
def test_score_text(facts, response, remission, text):
    assert a.score_text(facts, response=response, remission=remission) == text


ONE_FLAG = {
    "open_emergency": AttentionFacts(emergency=1),
    "open_urgent": AttentionFacts(urgent=2),
    "red_soon": AttentionFacts(readiness="red", session_soon=True, recency="2d"),
    "silent_7d": AttentionFacts(recency="older", enrolled_days=30),
    "open_routine": AttentionFacts(routine=1, recency="2d"),
    "score_worse": AttentionFacts(score_worse=True, recency="2d"),
    "reminders_failing": AttentionFacts(reminders="expired", recency="2d"),
    "amber_soon": AttentionFacts(readiness="amber", session_soon=True, recency="2d"),
    "recency_7d": AttentionFacts(recency="7d"),
}


def test_attention_orders_by_the_gravest_flag_as_documented():
    for name, facts in ONE_FLAG.items():
        assert a.attention_flags(facts) == [name]
    ranked = sorted(ONE_FLAG, key=lambda n: a.attention(ONE_FLAG[n]), reverse=True)
    assert ranked == list(a.ATTENTION)
    # Each flag outranks every lesser flag together.
    weights = list(a.ATTENTION.values())
    assert all(w > sum(weights[i + 1 :]) for i, w in enumerate(weights))
    everything_but = AttentionFacts(
        urgent=1, readiness="red", session_soon=True, recency="never", enrolled_days=9,
        routine=3, score_worse=True, reminders="failing",
    )  # fmt: skip
    assert a.attention(ONE_FLAG["open_emergency"]) > a.attention(everything_but)


def test_no_attention_for_a_quiet_client_or_a_newcomer_not_yet_a_week_in():
    assert a.attention(AttentionFacts(recency="2d", readiness="green", session_soon=True)) == 0
    assert a.attention(AttentionFacts(recency="never", enrolled_days=6)) == 0
    assert a.attention(AttentionFacts(readiness="red", session_soon=False, recency="2d")) == 0


# --- Helpers for the database tests -----------------------------------------------------------


def enrol(engine, client_id: int, *, created: date, course_start: date) -> None:
    with db.session_scope(engine) as s:
        client = s.get(User, client_id)
        client.created_at = datetime.combine(created, time(9), tzinfo=NY)
        s.add(client)
        for course in s.exec(select(Course).where(Course.client_id == client_id)).all():
            course.start_date = course_start
            s.add(course)


def add_checkins(engine, client: User, days: dict[date, tuple[int | None, bool]]) -> None:
    with db.session_scope(engine) as s:
        for day, (mood, late) in days.items():
            at = datetime.combine(day, time(19), tzinfo=NY)
            s.add(
                CheckIn(
                    client_id=client.id,
                    clinic_id=client.clinic_id,
                    local_date=day,
                    status="submitted",
                    mood=mood,
                    anxiety=2,
                    sleep=3,
                    late=late,
                    captured_at=at,
                    submitted_at=at,
                )
            )


def add_score(s, client: User, instrument: str, score: int, band: str, at: datetime) -> None:
    s.add(
        QuestionnaireResponse(
            client_id=client.id,
            clinic_id=client.clinic_id,
            instrument=instrument,
            instrument_version="1",
            status="submitted",
            score=score,
            band=band,
            started_at=at,
            updated_at=at,
            submitted_at=at,
        )
    )


def add_alert(s, client: User, severity: str, status: str = "open", source_id: int = 1) -> None:
    s.add(
        Alert(
            clinic_id=client.clinic_id,
            client_id=client.id,
            severity=severity,
            status=status,
            reason_code="chest_pain",
            source_kind="symptom_report",
            source_id=source_id,
        )
    )


def summary(engine, client_id: int) -> ClientSummary | None:
    with db.session_scope(engine) as s:
        return s.get(ClientSummary, client_id)


def view(actor, at: datetime = AT, **kwargs):
    with frozen(at), unit_of_work() as s:
        return dashboard.caseload(s, actor, **kwargs)


def names(result) -> list[str]:
    return [row.name for row in result.rows]


EMAILS = count(1)


def new_client(s, personas, name: str, *, clinician=None, created: date = d(1)) -> User:
    client = User(
        clinic_id=personas.client.clinic_id,
        role=Role.CLIENT,
        email=f"client{next(EMAILS)}@test.example",
        display_name=name,
        timezone="America/New_York",
        created_at=datetime.combine(created, time(9), tzinfo=NY),
    )
    s.add(client)
    s.flush()
    s.add(Course(client_id=client.id, clinic_id=client.clinic_id, start_date=created))
    s.add(
        ClinicianAssignment(clinician_id=(clinician or personas.clinician).id, client_id=client.id)
    )
    return client


# --- The summary row ---------------------------------------------------------------------------


def test_the_row_holds_every_figure_computed_from_the_records(engine, personas):
    ada = personas.client
    enrol(engine, ada.id, created=d(10), course_start=d(1))  # enrolled from the 10th
    with frozen(AT):
        add_checkins(engine, ada, {d(12): (2, False), d(15): (3, True), d(19): (4, False)})
        add_checkins(engine, ada, {d(20): (5, False)})
        with db.session_scope(engine) as s:
            add_score(s, ada, "phq9", 22, "Severe", datetime(2026, 10, 20, 15, tzinfo=UTC))
            add_score(
                s, ada, "phq9", 18, "Moderately severe", datetime(2026, 11, 2, 15, tzinfo=UTC)
            )
            add_score(s, ada, "gad7", 10, "Moderate", datetime(2026, 11, 2, 15, tzinfo=UTC))
            add_score(s, ada, "phq9", 4, "Minimal", datetime(2026, 11, 16, 15, tzinfo=UTC))
            add_alert(s, ada, "urgent", source_id=1)
            add_alert(s, ada, "emergency", status="acknowledged", source_id=2)
            add_alert(s, ada, "routine", status="resolved", source_id=3)
            course = s.exec(select(Course).where(Course.client_id == ada.id)).one()
            s.add(
                DosingSession(
                    course_id=course.id,
                    client_id=ada.id,
                    number=1,
                    scheduled_at=datetime(2026, 11, 22, 15, tzinfo=UTC),  # tomorrow 10:00
                    route=DosingRoute.SUBLINGUAL_LOZENGE,
                    setting=DosingSetting.IN_CLINIC,
                )
            )
    row = summary(engine, ada.id)
    assert row is not None and row.computed_for == TODAY and row.clinic_id == ada.clinic_id
    # 7 days: 14..20 Nov; 30 days: 22 Oct..20 Nov, counted from the 10th (11 days).
    assert (row.on_time_7, row.late_7, row.days_7) == (2, 1, 7)
    assert (row.on_time_30, row.late_30, row.days_30) == (3, 1, 11)
    assert (row.last_checkin_date, row.recency) == (d(20), "2d")
    assert row.streak == 2  # the 20th and 19th; the 18th and 17th missed end the run
    assert row.last_mood == 5
    assert (
        row.mood_14d == "[null, null, null, null, 2, null, null, 3, null, null, null, 4, 5, null]"
    )
    # The baseline is the course's first score (2 Nov), not the one before the course began.
    assert (row.phq9_score, row.phq9_band, row.phq9_baseline) == (4, "Minimal", 18)
    assert (row.gad7_score, row.gad7_baseline) == (10, None)  # the only score: the baseline
    assert (row.alerts_emergency, row.alerts_urgent, row.alerts_routine) == (1, 1, 0)
    assert row.next_session_at == datetime(2026, 11, 22, 15, tzinfo=UTC)
    assert row.readiness == "red"  # an open urgent alert holds the session
    assert row.reminders == "never"
    w = a.ATTENTION
    assert row.attention == w["open_emergency"] + w["open_urgent"] + w["red_soon"]

    (shown,) = view(personas.actor("clinician")).rows
    assert shown.phq9 == "4 · Minimal · −14 from 18 · remission"
    assert shown.gad7 == "10 · Moderate · baseline"
    assert shown.next_session == "Tomorrow, 10:00 am"
    assert shown.mood_14d[4] == 2 and shown.mood_14d[-1] is None and len(shown.mood_14d) == 14
    assert (shown.recency, shown.recency_label) == ("2d", "Within 2 days")
    assert (shown.reminders, shown.stage) == ("Never turned on", "Preparation")
    assert shown.href == f"/clinician/client/{ada.id}"

    with frozen(AT), db.session_scope(engine) as s:  # the hook's row equals a fresh computation
        again = dashboard.refresh_summary(s, ada.id).model_dump()
    assert again == row.model_dump()


def test_local_days_follow_the_client_across_a_dst_change_and_a_month_end(engine, personas):
    ada = personas.client
    enrol(engine, ada.id, created=d(1, 10), course_start=d(1, 10))
    # 04:30 UTC on 2 Nov is 23:30 on Sunday 1 Nov in New York (clocks went back that morning).
    late_sunday = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    with frozen(late_sunday):
        add_checkins(
            engine,
            ada,
            {d(25, 10): (3, False), d(26, 10): (3, False), d(31, 10): (4, True), d(1): (4, False)},
        )
    row = summary(engine, ada.id)
    assert row.computed_for == d(1)
    assert (row.on_time_7, row.late_7, row.days_7) == (2, 1, 7)  # 26 Oct..1 Nov
    assert (row.on_time_30, row.late_30, row.days_30) == (3, 1, 30)  # 3 Oct..1 Nov
    assert row.streak == 2  # 1 Nov and 31 Oct; the 30th and 29th missed
    # An hour later it is Monday there: the row is recomputed when read, and today is still open.
    (shown,) = view(personas.actor("clinician"), at=late_sunday + timedelta(hours=1)).rows
    assert summary(engine, ada.id).computed_for == d(2)
    assert (shown.on_time_7, shown.late_7, shown.days_7) == (2, 1, 7)  # 26 Oct..1 Nov still
    assert (shown.days_30, shown.recency) == (30, "2d")


def test_a_row_from_an_earlier_day_is_recomputed_when_read(engine, personas):
    ada = personas.client
    enrol(engine, ada.id, created=d(1), course_start=d(1))
    with frozen(datetime(2026, 11, 8, 17, tzinfo=UTC)):
        add_checkins(engine, ada, {d(1): (3, False)})
    assert (summary(engine, ada.id).recency, summary(engine, ada.id).computed_for) == ("7d", d(8))
    result = view(personas.actor("clinician"), at=datetime(2026, 11, 9, 17, tzinfo=UTC))
    assert result.rows[0].recency == "older"
    row = summary(engine, ada.id)
    assert (row.recency, row.computed_for) == ("older", d(9))
    assert row.attention == a.ATTENTION["silent_7d"]


# --- Kept up to date as records are written ----------------------------------------------------


def submit(actor, sid: str, mood: int):
    with unit_of_work() as s:
        return checkins.submit_checkin(
            session=s, actor=actor, submission_id=sid, day="today", mood=mood, anxiety=2, sleep=3
        )


def test_a_submitted_checkin_updates_the_row_in_its_own_transaction(engine, personas):
    ada = personas.client
    enrol(engine, ada.id, created=d(1), course_start=d(1))
    with frozen(AT):
        submit(personas.actor("client"), "submission-0001", mood=4)
    row = summary(engine, ada.id)
    assert (row.last_checkin_date, row.on_time_7, row.days_7, row.last_mood) == (TODAY, 1, 7, 4)
    assert row.computed_at == AT and row.recency == "2d"

    class Abandon(Exception):
        pass

    tomorrow = AT + timedelta(days=1)
    with frozen(tomorrow), pytest.raises(Abandon), unit_of_work() as s:
        checkins.submit_checkin(
            session=s,
            actor=personas.actor("client"),
            submission_id="submission-0002",
            day="today",
            mood=1,
            anxiety=5,
            sleep=1,
        )
        raise Abandon
    after = summary(engine, ada.id)
    assert after.model_dump() == row.model_dump()  # the rolled-back check-in left no trace
    with db.session_scope(engine) as s:
        assert s.exec(select(CheckIn).where(CheckIn.local_date == TODAY + timedelta(1))).all() == []


def test_a_draft_saved_answer_by_answer_leaves_the_row_alone(engine, personas):
    before = summary(engine, personas.client.id)
    with frozen(AT), unit_of_work() as s:
        checkins.save_checkin_draft(
            session=s, actor=personas.actor("client"), day="today", field="mood", value=2
        )
    assert summary(engine, personas.client.id).model_dump() == before.model_dump()
    with frozen(AT):
        submit(personas.actor("client"), "submission-0003", mood=2)
    assert summary(engine, personas.client.id).last_mood == 2


def test_alerts_raised_and_resolved_through_the_services_move_the_counts(engine, personas):
    ada = personas.client
    enrol(engine, ada.id, created=d(20), course_start=d(1))
    with frozen(AT), unit_of_work() as s:
        alert = alerts.raise_alert(
            s,
            client=s.get(User, ada.id),
            severity=AlertSeverity.EMERGENCY,
            reason_code="chest_pain",
            source_kind="symptom_report",
            source_id=7,
        )
        alert_id = alert.id
    row = summary(engine, ada.id)
    assert row.alerts_emergency == 1 and row.attention >= a.ATTENTION["open_emergency"]
    with frozen(AT), unit_of_work() as s:
        inbox.resolve(
            session=s,
            actor=personas.actor("clinician"),
            alert_id=alert_id,
            note="Called her.",
            outcome="contacted_client",
        )
    row = summary(engine, ada.id)
    assert row.alerts_emergency == 0 and row.attention < a.ATTENTION["open_routine"]


def _device(s, user: User, n: int, status: str, ok: datetime | None, bad: datetime | None):
    s.add(
        PushSubscription(
            user_id=user.id,
            endpoint=f"https://push.example/{n}",
            endpoint_hash=reminders.endpoint_hash(f"https://push.example/{n}"),
            p256dh="k",
            auth="a",
            status=status,
            last_success_at=ok,
            last_failure_at=bad,
        )
    )


DAY_AGO, WEEK_AGO = AT - timedelta(days=1), AT - timedelta(days=9)
REMINDER_CASES = {
    "never": [],
    "reaching": [("active", DAY_AGO, WEEK_AGO)],
    "failing": [("active", WEEK_AGO, DAY_AGO)],
    "expired": [("expired", WEEK_AGO, DAY_AGO)],
    "off": [("unsubscribed", WEEK_AGO, None)],
    "waiting": [("active", None, None)],
    "revoked": [("active", WEEK_AGO, None), "denied"],
}


@pytest.mark.parametrize("state", sorted(REMINDER_CASES))
def test_reminder_state_agrees_with_delivery_health(engine, personas, state):
    ada = personas.client
    with frozen(AT), db.session_scope(engine) as s:
        for n, case in enumerate(REMINDER_CASES[state]):
            if case == "denied":
                s.add(ReminderPreference(user_id=ada.id, permission="denied", permission_at=AT))
            else:
                _device(s, ada, n, *case)
    with frozen(AT), unit_of_work() as s:
        dashboard.refresh_summary(s, ada.id)
        health = reminders.delivery_health(
            session=s, actor=personas.actor("clinician"), client_id=ada.id
        )
    assert summary(engine, ada.id).reminders == state == health.state
    (row,) = view(personas.actor("clinician")).rows
    assert row.reminders == health.label and row.reminders_state == state


def test_a_push_attempt_recomputes_the_row_only_when_the_delivery_word_moves(engine, personas):
    """The reminder worker touches a device row on every send; the summary follows the word
    (reaching -> failing -> reaching) without a full recomputation for each unchanged send."""
    ada = personas.client
    with frozen(AT), db.session_scope(engine) as s:
        _device(s, ada, 1, "active", DAY_AGO, WEEK_AGO)
    first = summary(engine, ada.id)
    assert first.reminders == "reaching"

    def attempt(at: datetime, outcome: str) -> None:
        with frozen(at), db.session_scope(engine) as s:
            device = s.exec(
                select(PushSubscription).where(PushSubscription.user_id == ada.id)
            ).one()
            if outcome == "sent":
                device.last_success_at = at
            else:
                device.last_failure_at = at
            device.last_outcome = outcome
            s.add(device)

    attempt(AT + timedelta(minutes=1), "sent")  # still reaching: the row is left as it was
    assert summary(engine, ada.id).computed_at == first.computed_at
    attempt(AT + timedelta(minutes=2), "error")
    failing = summary(engine, ada.id)
    assert failing.reminders == "failing" and failing.computed_at > first.computed_at
    attempt(AT + timedelta(minutes=3), "sent")
    assert summary(engine, ada.id).reminders == "reaching"


# --- Reading the caseload ----------------------------------------------------------------------


def test_each_staff_member_sees_only_their_caseload(engine, personas):
    assert names(view(personas.actor("clinician"))) == ["Ada Client"]
    assert names(view(personas.actor("other_clinician"))) == ["Otto Other"]
    assert names(view(personas.actor("admin"))) == ["Ada Client", "Otto Other"]
    assert view(personas.actor("foreign_admin")).rows == []
    events = audit_events(engine, "caseload_viewed")
    assert len(events) == 4  # one per call, not one per client
    assert all(e.subject_client_id is None for e in events)
    assert events[2].actor_id == personas.admin.id and events[2].detail == "rows=2 total=2"


def test_an_unassigned_clinician_finds_none_of_a_clients_rows(engine, personas):
    result = view(personas.actor("other_clinician"), query="Ada")
    assert (result.rows, result.total) == ([], 0)


@pytest.mark.parametrize("who", ["client", "other_client"])
def test_a_client_is_refused_as_not_found_and_the_denial_is_audited(engine, personas, who):
    with pytest.raises(AccessDenied):
        view(personas.actor(who))
    (denied,) = audit_events(engine, "access_denied")
    assert (denied.actor_id, denied.target) == (getattr(personas, who).id, "caseload_viewed")
    assert audit_events(engine, "caseload_viewed") == []


def test_search_filter_and_paging(engine, personas):
    with frozen(AT), db.session_scope(engine) as s:
        made = [new_client(s, personas, f"Client {n:02d}") for n in range(1, 23)]
        new_client(s, personas, HOSTILE)
    with frozen(AT):
        add_checkins(engine, made[4], {TODAY: (4, False)})  # Client 05 checked in today
    clinician = personas.actor("clinician")
    first = view(clinician, per_page=10)
    assert (first.total, first.pages, first.page, len(first.rows)) == (24, 3, 1, 10)
    last = view(clinician, per_page=10, page=3)
    assert len(last.rows) == 4
    assert {r.client_id for r in first.rows}.isdisjoint({r.client_id for r in last.rows})
    assert view(clinician, per_page=10, page=99).page == 3  # past the end: the last page
    for bad in ("2", -1, True, None):
        assert view(clinician, page=bad, per_page=10).page == 1
    found = view(clinician, query="  CLIENT 1")
    assert names(found) == [f"Client {n}" for n in range(10, 20)] and found.query == "CLIENT 1"
    assert names(view(clinician, query="%")) == [HOSTILE]  # wildcards are text
    assert names(view(clinician, query="_ada_")) == [HOSTILE]
    recent = view(clinician, recency="2d")
    assert (names(recent), recent.recency) == (["Client 05"], "2d")
    assert view(clinician, recency="'; DROP TABLE user; --").recency == ""
    assert view(clinician, recency="never").total == 23


def test_the_neediest_come_first_then_by_name(engine, personas):
    with frozen(AT), db.session_scope(engine) as s:
        new_client(s, personas, "Abe Silent", created=d(1))
        quiet = new_client(s, personas, "Bea Quiet", created=d(1))
        routine = new_client(s, personas, "Cal Routine", created=d(1))
        add_alert(s, s.get(User, personas.other_client.id), "emergency", source_id=1)
        add_alert(s, s.get(User, personas.client.id), "urgent", source_id=2)
        add_alert(s, routine, "routine", source_id=3)
    with frozen(AT):
        for client in (quiet, routine, personas.client, personas.other_client):
            add_checkins(engine, client, {TODAY: (4, False)})
    result = view(personas.actor("admin"))
    assert names(result) == ["Otto Other", "Ada Client", "Abe Silent", "Cal Routine", "Bea Quiet"]
    assert [r.attention for r in result.rows] == sorted(
        (r.attention for r in result.rows), reverse=True
    )
    assert result.rows[0].alerts_emergency == 1 and result.rows[1].alerts_urgent == 1


def test_hostile_names_come_back_as_the_same_text(engine, personas):
    with frozen(AT), db.session_scope(engine) as s:
        new_client(s, personas, HOSTILE)
    (row,) = view(personas.actor("clinician"), query="script").rows
    assert row.name == HOSTILE


def test_a_client_without_a_row_gets_one_on_read(engine, personas):
    with db.session_scope(engine) as s:
        s.delete(s.get(ClientSummary, personas.client.id))
    assert summary(engine, personas.client.id) is None
    assert names(view(personas.actor("clinician"))) == ["Ada Client"]
    assert summary(engine, personas.client.id) is not None


def test_the_demo_seed_builds_every_summary_and_puts_an_urgent_alert_first(engine, monkeypatch):
    monkeypatch.setattr(passwords, "hash_password", lambda _pw: "not-a-real-hash")
    with frozen(AT), db.session_scope(engine) as s:
        seed_demo(s)
    with db.session_scope(engine) as s:
        clients = s.exec(select(User).where(User.role == Role.CLIENT)).all()
        rows = {r.client_id: r for r in s.exec(select(ClientSummary)).all()}
        maya = s.exec(select(User).where(User.email == "maya.chen@riverbend.example")).one()
        admin = s.exec(select(User).where(User.role == Role.ADMIN)).one()
    assert {c.id for c in clients} == set(rows)
    assert all(r.computed_for == TODAY for r in rows.values())
    first = view(Actor.from_user(maya)).rows[0]
    assert first.name == "Chris Nguyen" and first.alerts_urgent + first.alerts_emergency > 0
    everyone = view(Actor.from_user(admin))
    assert everyone.total == len(clients)
    assert any(r.days_30 == 30 and r.on_time_30 > 0 for r in everyone.rows)
