"""The check-in service and its page handlers: one entry per local day, idempotent replays, late
entries, drafts, bad input at its field with the typed text kept, and who may call what."""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.errors import AccessDenied, NotFound, ValidationFailed
from kapjourney.domain.models import CheckIn, ClinicProtocol, SubmissionReceipt, User
from kapjourney.services import checkins
from kapjourney.services.uow import unit_of_work
from tests.conftest import run_async
from tests.support import audit_events, count

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly

from reflex.istate.data import RouterData
from reflex.state import State

from kapjourney.ui.pages.checkin import CheckInState

MORNING = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # Saturday 09:00 in New York (EST)
AFTERNOON = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)  # Saturday 14:00 in New York
TODAY = date(2026, 11, 21)
YESTERDAY = date(2026, 11, 20)
HOSTILE = "<script>alert(1)</script> & <b>Ada</b>'); DROP TABLE checkin; --"


def run(fn, actor, **kwargs):
    with unit_of_work() as s:
        return fn(session=s, actor=actor, **kwargs)


def submit(actor, sid="submission-0001", day="today", mood=3, anxiety=2, sleep=4, **kwargs):
    return run(
        checkins.submit_checkin,
        actor,
        submission_id=sid,
        day=day,
        mood=mood,
        anxiety=anxiety,
        sleep=sleep,
        **kwargs,
    )


def draft(actor, field, value, day="today"):
    return run(checkins.save_checkin_draft, actor, day=day, field=field, value=value)


def rows(engine, client_id: int) -> list[CheckIn]:
    with db.session_scope(engine) as s:
        return list(
            s.exec(
                select(CheckIn).where(CheckIn.client_id == client_id).order_by(CheckIn.local_date)
            ).all()
        )


def set_grace(engine, clinic_id: int, hours: int) -> None:
    with db.session_scope(engine) as s:
        protocol = s.get(ClinicProtocol, clinic_id)
        protocol.checkin_grace_hours = hours
        s.add(protocol)


def set_timezone(engine, user_id: int, zone: str) -> None:
    with db.session_scope(engine) as s:
        user = s.get(User, user_id)
        user.timezone = zone
        s.add(user)


@pytest.fixture
def ada(personas):
    return personas.actor("client")


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


# --- Reading ------------------------------------------------------------------------------------


def test_a_new_day_shows_empty_scales_with_their_words(engine, ada, morning):
    view = run(checkins.get_checkin, ada)
    assert (view.day, view.local_date, view.date_label, view.status) == (
        "today",
        "2026-11-21",
        "Saturday 21 November",
        "new",
    )
    assert (view.mood, view.anxiety, view.sleep, view.energy, view.note) == (
        None,
        None,
        None,
        None,
        "",
    )
    assert view.note_max == 500 and view.late is False
    assert [s.key for s in view.scales] == ["mood", "anxiety", "sleep", "energy"]
    assert [a.label for a in view.scales[0].anchors][0::4] == ["Very low", "Very good"]
    assert [a.value for a in view.scales[1].anchors] == [1, 2, 3, 4, 5]
    assert view.yesterday_open is True and view.yesterday_until == "noon today"


def test_yesterday_can_be_opened_only_while_its_window_is_open(engine, ada, morning):
    view = run(checkins.get_checkin, ada, day="yesterday")
    assert (view.day, view.local_date, view.late) == (
        "yesterday",
        "2026-11-20",
        True,
    )
    morning.move_to(AFTERNOON)
    assert run(checkins.get_checkin, ada).yesterday_open is False
    with pytest.raises(ValidationFailed) as refused:
        run(checkins.get_checkin, ada, day="yesterday")
    assert "closed" in refused.value.fields["day"]


# --- One per day, idempotent --------------------------------------------------------------------


def test_three_answers_submit_todays_check_in(engine, personas, ada, morning):
    view = submit(ada)
    assert (view.status, view.mood, view.anxiety, view.sleep, view.late) == (
        "submitted",
        3,
        2,
        4,
        False,
    )
    assert view.saved_at == "9:00 am" and view.replayed is False
    [row] = rows(engine, personas.client.id)
    assert (row.local_date, row.status, row.late) == (TODAY, "submitted", False)
    assert row.clinic_id == personas.client.clinic_id


def test_a_second_submission_the_same_day_updates_the_same_entry(engine, personas, ada, morning):
    first = submit(ada, sid="submission-0001")
    morning.shift(timedelta(hours=3))
    second = submit(ada, sid="submission-0002", mood=5, energy=4, note="Walked by the river")
    [row] = rows(engine, personas.client.id)
    assert (row.mood, row.energy, row.note) == (5, 4, "Walked by the river")
    assert second.saved_at == "12:00 pm" and first.saved_at == "9:00 am"
    assert count(engine, SubmissionReceipt) == 2
    assert len(audit_events(engine, "checkin_submitted")) == 2


def test_a_replayed_submission_returns_the_stored_result_and_changes_nothing(
    engine, personas, ada, morning
):
    submit(ada, sid="offline-abc-123", mood=2)
    [before] = rows(engine, personas.client.id)
    morning.shift(timedelta(minutes=5))
    replay = submit(ada, sid="offline-abc-123", mood=5, note="different")
    assert replay.replayed is True and (replay.mood, replay.note) == (2, "")
    [after] = rows(engine, personas.client.id)
    assert (after.mood, after.note, after.submitted_at, after.updated_at) == (
        before.mood,
        before.note,
        before.submitted_at,
        before.updated_at,
    )
    assert count(engine, SubmissionReceipt) == 1
    assert len(audit_events(engine, "checkin_submitted")) == 1


def test_a_replay_is_accepted_even_after_the_window_and_with_bad_values(
    engine, personas, ada, morning
):
    """A retry may arrive late or garbled; its id alone says it was already applied."""
    submit(ada, sid="late-retry-01", day="yesterday")
    morning.move_to(AFTERNOON)
    replay = submit(ada, sid="late-retry-01", day="yesterday", mood=99)
    assert replay.replayed and replay.local_date == "2026-11-20" and replay.late


def test_the_same_submission_sent_at_once_from_several_threads_applies_once(
    engine, personas, ada, morning
):
    barrier = threading.Barrier(4)

    def send(mood: int):
        barrier.wait()
        return submit(ada, sid="racing-submission", mood=mood)

    with ThreadPoolExecutor(max_workers=4) as pool:
        views = list(pool.map(send, [1, 2, 3, 4]))
    [row] = rows(engine, personas.client.id)
    assert [v.replayed for v in views].count(False) == 1
    assert {v.mood for v in views} == {row.mood}
    assert count(engine, SubmissionReceipt) == 1


def test_first_taps_from_several_threads_make_one_row(engine, personas, ada, morning):
    barrier = threading.Barrier(3)

    def tap(field: str):
        barrier.wait()
        return draft(ada, field, 2)

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(tap, ["mood", "anxiety", "sleep"]))
    [row] = rows(engine, personas.client.id)
    assert (row.status, row.mood, row.anxiety, row.sleep) == ("draft", 2, 2, 2)


def test_submission_ids_are_per_client(engine, personas, ada, morning):
    submit(ada, sid="shared-id-0001")
    otto = submit(personas.actor("other_client"), sid="shared-id-0001", mood=1)
    assert otto.replayed is False and otto.mood == 1
    assert len(rows(engine, personas.other_client.id)) == 1


@pytest.mark.parametrize(
    "sid", ["short", "x" * 65, "has space 123", "semi;colon-1", "ünïcode-123", None, 12345678, ""]
)
def test_a_submission_without_a_valid_id_is_refused(engine, personas, ada, morning, sid):
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, sid=sid)
    assert set(refused.value.fields) == {"submission_id"}
    assert rows(engine, personas.client.id) == []


def test_a_draft_then_a_submission_make_one_entry(engine, personas, ada, morning):
    assert draft(ada, "mood", "4").status == "draft"
    draft(ada, "note", "Slept with the window open")
    view = run(checkins.get_checkin, ada)
    assert (view.status, view.mood, view.note) == ("draft", 4, "Slept with the window open")
    submit(ada, mood=4, note=view.note)
    [row] = rows(engine, personas.client.id)
    assert (row.status, row.note) == ("submitted", "Slept with the window open")


# --- Late entries -------------------------------------------------------------------------------


def test_yesterday_is_entered_late_until_noon_then_refused(engine, personas, ada, morning):
    view = submit(ada, sid="yesterday-0001", day="yesterday")
    assert (view.local_date, view.late, view.day) == ("2026-11-20", True, "yesterday")
    assert audit_events(engine, "checkin_submitted")[-1].detail == "late"
    morning.move_to(AFTERNOON)
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, sid="yesterday-0002", day="yesterday", mood=1)
    assert set(refused.value.fields) == {"day"}
    with pytest.raises(ValidationFailed):
        draft(ada, "mood", 1, day="yesterday")
    [row] = rows(engine, personas.client.id)
    assert (row.local_date, row.late, row.mood) == (YESTERDAY, True, 3)


def test_an_on_time_entry_stays_on_time_when_viewed_the_next_morning(engine, ada, morning):
    morning.move_to(MORNING - timedelta(hours=12))  # Friday 21:00
    submit(ada, sid="friday-evening")
    morning.move_to(MORNING)
    view = run(checkins.get_checkin, ada, day="yesterday")
    assert (view.local_date, view.status, view.late) == ("2026-11-20", "submitted", False)
    assert view.saved_at == "9:00 pm yesterday"
    assert run(checkins.get_checkin, ada).late is False


def test_the_window_is_described_in_words(engine, personas, ada, morning):
    set_grace(engine, personas.client.clinic_id, 10)
    assert run(checkins.get_checkin, ada).yesterday_until == "10:00 am today"
    set_grace(engine, personas.client.clinic_id, 24)
    assert run(checkins.get_checkin, ada).yesterday_until == "midnight tonight"
    set_grace(engine, personas.client.clinic_id, 9)
    assert run(checkins.get_checkin, ada).yesterday_until == ""  # it is 09:00: just closed


def test_a_clinic_with_no_grace_takes_today_only(engine, personas, ada, morning):
    set_grace(engine, personas.client.clinic_id, 0)
    assert run(checkins.get_checkin, ada).yesterday_open is False
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, day="yesterday")
    assert refused.value.fields["day"] == "Check-ins can be entered for today only."


@pytest.mark.parametrize(
    ("zone", "at", "today", "yesterday_open"),
    [
        ("America/New_York", MORNING, TODAY, True),  # 09:00 Saturday
        ("America/Los_Angeles", MORNING, TODAY, True),  # 06:00 Saturday
        ("Asia/Kolkata", MORNING, TODAY, False),  # 19:30 Saturday
        ("Pacific/Auckland", MORNING, date(2026, 11, 22), True),  # 03:00 Sunday
        (
            "Pacific/Kiritimati",
            datetime(2026, 11, 21, 10, 30, tzinfo=UTC),
            date(2026, 11, 22),
            True,
        ),
    ],
)
def test_the_day_and_the_window_follow_the_clients_time_zone(
    engine, personas, ada, zone, at, today, yesterday_open
):
    set_timezone(engine, personas.client.id, zone)
    with time_machine.travel(at, tick=False):
        view = submit(ada)
        assert view.local_date == today.isoformat()
        assert view.yesterday_open is yesterday_open


def test_on_the_day_clocks_go_back_yesterday_stays_open_until_wall_clock_noon(
    engine, personas, ada
):
    # Sunday 1 Nov 2026 in New York: 11:30 EST is 12.5 hours after midnight.
    with time_machine.travel(datetime(2026, 11, 1, 16, 30, tzinfo=UTC), tick=False):
        view = submit(ada, sid="dst-change-01", day="yesterday")
    assert (view.local_date, view.late) == ("2026-10-31", True)
    noon = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    with time_machine.travel(noon, tick=False), pytest.raises(ValidationFailed):
        submit(ada, sid="dst-change-02", day="yesterday")


def test_on_the_day_clocks_go_forward_the_window_closes_at_wall_clock_noon(engine, personas, ada):
    set_timezone(engine, personas.client.id, "Europe/London")
    with time_machine.travel(datetime(2026, 3, 29, 10, 59, tzinfo=UTC), tick=False):  # 11:59 BST
        assert submit(ada, sid="dst-spring-1", day="yesterday").local_date == "2026-03-28"
    noon = datetime(2026, 3, 29, 11, 0, tzinfo=UTC)  # 12:00 BST
    with time_machine.travel(noon, tick=False), pytest.raises(ValidationFailed):
        submit(ada, sid="dst-spring-2", day="yesterday")


# --- The phone's capture time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("captured", "kept"),
    [
        ("2026-11-21T13:55:00+00:00", True),  # five minutes ago
        ("2026-11-21T08:55:00-05:00", True),  # the same, as the phone writes it
        ("2026-11-21T14:05:00+00:00", False),  # in the future: a fast phone clock
        ("2026-11-01T14:00:00+00:00", False),  # weeks old: the phone's clock is wrong
        ("2026-11-21T13:55:00", False),  # no zone
        ("yesterday-ish", False),
        ("9" * 10_000, False),
        (12345, False),
    ],
)
def test_the_capture_time_is_kept_only_when_plausible(
    engine, personas, ada, morning, captured, kept
):
    submit(ada, captured_at=captured)
    [row] = rows(engine, personas.client.id)
    stored = (
        row.captured_at.replace(tzinfo=UTC) if row.captured_at.tzinfo is None else row.captured_at
    )
    assert (stored != MORNING) is kept
    assert row.local_date == TODAY


def test_an_entry_captured_yesterday_evening_and_synced_this_morning_is_yesterdays_and_late(
    engine, personas, ada, morning
):
    view = submit(ada, captured_at="2026-11-20T21:30:00-05:00")
    assert (view.local_date, view.late) == ("2026-11-20", True)


def test_an_entry_captured_on_a_closed_day_is_refused_at_day_not_moved_to_today(
    engine, personas, ada, morning
):
    """Two days late (a phone that stayed offline): its answers belong to Thursday, whose
    window has closed; it is refused with a message naming the day, and nothing is stored."""
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, captured_at="2026-11-19T20:00:00-05:00")
    assert set(refused.value.fields) == {"day"}
    assert "Thu 19 Nov" in refused.value.fields["day"]
    assert rows(engine, personas.client.id) == []


def test_an_older_offline_entry_replayed_after_a_newer_one_changes_nothing(
    engine, personas, ada, morning
):
    """Last capture wins, not last arrival: a queued entry from earlier this morning that
    arrives after one made later keeps the later answers."""
    submit(ada, sid="newer-entry-1", mood=5, captured_at="2026-11-21T13:50:00+00:00")
    submit(ada, sid="older-entry-1", mood=1, captured_at="2026-11-21T12:00:00+00:00")
    [row] = rows(engine, personas.client.id)
    assert row.mood == 5
    assert row.captured_at.replace(tzinfo=UTC) == datetime(2026, 11, 21, 13, 50, tzinfo=UTC)


# --- Bad input at its field ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 6, -3, "seven", "²", 2.5, True, "9" * 5000, [1], {"x": 1}])
def test_out_of_range_answers_are_refused_at_their_field(engine, personas, ada, morning, bad):
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, mood=bad, energy=bad)
    assert set(refused.value.fields) == {"mood", "energy"}
    assert "from 1 (Very low) to 5 (Very good)" in refused.value.fields["mood"]
    with pytest.raises(ValidationFailed) as refused:
        draft(ada, "sleep", bad)
    assert set(refused.value.fields) == {"sleep"}
    assert rows(engine, personas.client.id) == []


def test_missing_required_answers_are_each_named(engine, ada, morning):
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, mood=None, anxiety="", sleep=None, note="just a note")
    assert refused.value.fields == {
        "mood": "Choose how your mood is.",
        "anxiety": "Choose how anxious you feel.",
        "sleep": "Choose how you slept.",
    }


def test_a_long_note_is_kept_in_the_draft_but_refused_on_submit(engine, personas, ada, morning):
    text = "I felt " + "very " * 118 + "calm."  # 602 characters
    view = draft(ada, "note", text)
    assert view.note == text
    assert view.problems == {
        "note": "Notes can be up to 500 characters. Please shorten it by 102 characters."
    }
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, note=text)
    assert set(refused.value.fields) == {"note"}
    [row] = rows(engine, personas.client.id)
    assert (row.note, row.status) == (text, "draft")  # nothing typed was lost
    assert "note" in run(checkins.get_checkin, ada).problems  # still pointed out on return
    assert draft(ada, "note", text[:500]).problems == {}


def test_a_megabyte_note_is_refused_with_a_message_and_its_start_is_kept(
    engine, personas, ada, morning
):
    huge = "a" * 1_000_000
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, note=huge)
    assert refused.value.fields["note"].startswith("Notes can be up to 500 characters.")
    view = draft(ada, "note", huge)
    assert len(view.note) == 10_000 and "note" in view.problems


def test_script_in_a_note_is_kept_as_plain_text(engine, personas, ada, morning):
    view = submit(ada, note=HOSTILE)
    assert view.note == HOSTILE
    [row] = rows(engine, personas.client.id)
    assert row.note == HOSTILE


def test_control_characters_are_dropped_and_a_non_text_note_is_refused(engine, ada, morning):
    assert submit(ada, note="  calm\x00\x07 day \n").note == "calm day"
    with pytest.raises(ValidationFailed) as refused:
        submit(ada, sid="submission-0002", note=["not", "text"])
    assert set(refused.value.fields) == {"note"}
    with pytest.raises(ValidationFailed) as refused:
        draft(ada, "note", 42)
    assert set(refused.value.fields) == {"note"}


@pytest.mark.parametrize("field", ["status", "late", "client_id", "", None, 3, "note " * 1000])
def test_unknown_fields_cannot_be_written(engine, personas, ada, morning, field):
    with pytest.raises(ValidationFailed) as refused:
        draft(ada, field, "submitted")
    assert set(refused.value.fields) == {"form"}
    assert rows(engine, personas.client.id) == []


@pytest.mark.parametrize("day", ["tomorrow", "2026-11-19", None, 0, "x" * 100_000])
def test_other_days_are_refused_at_the_day(engine, ada, morning, day):
    for call in (
        lambda: submit(ada, day=day),
        lambda: draft(ada, "mood", 3, day=day),
        lambda: run(checkins.get_checkin, ada, day=day),
    ):
        with pytest.raises(ValidationFailed) as refused:
            call()
        assert "day" in refused.value.fields


def test_the_audit_row_holds_no_answers(engine, ada, morning):
    submit(ada, mood=1, note="private words")
    [event] = audit_events(engine, "checkin_submitted")
    assert event.detail == "" and event.target.startswith("checkin:")
    assert "private" not in f"{event.detail}{event.target}"


# --- Today and recent ---------------------------------------------------------------------------


def test_today_lists_the_check_in_until_it_is_done(engine, personas, ada, morning):
    with db.session_scope(engine) as s:
        item = checkins.todo(s, s.get(User, personas.client.id), MORNING)
    assert (item.key, item.title, item.href, item.done) == (
        "checkin",
        "Daily check-in",
        "/checkin",
        False,
    )
    assert item.detail == "Takes about 20 seconds"
    draft(ada, "mood", 2)
    with db.session_scope(engine) as s:
        assert checkins.todo(s, s.get(User, personas.client.id), MORNING).done is False
    submit(ada)
    with db.session_scope(engine) as s:
        item = checkins.todo(s, s.get(User, personas.client.id), MORNING)
        assert checkins.todo(s, s.get(User, personas.clinician.id), MORNING) is None
    assert item.done and item.detail == "Done for today: you can still change it"


def test_recent_checkins_are_the_submitted_days_in_the_window(engine, personas, ada, morning):
    submit(ada, sid="yesterday-0001", day="yesterday", mood=2)
    submit(ada, sid="today-000001", mood=4)
    morning.shift(timedelta(days=1))  # Sunday: a draft only
    draft(ada, "mood", 5)
    with db.session_scope(engine) as s:
        recent = checkins.recent_checkins(s, personas.client.id, 7, MORNING + timedelta(days=1))
        assert [(r.local_date, r.mood, r.late) for r in recent] == [
            (YESTERDAY, 2, True),
            (TODAY, 4, False),
        ]
        assert [
            r.local_date for r in checkins.recent_checkins(s, personas.client.id, 1, MORNING)
        ] == [TODAY]
        assert checkins.recent_checkins(s, personas.client.id, 0, MORNING) == []
        assert checkins.recent_checkins(s, 987_654, 7, MORNING) == []


# --- Who may call -------------------------------------------------------------------------------

STAFF = ["clinician", "other_clinician", "admin", "foreign_admin"]
SERVICES = {
    "checkin_viewed": lambda a: run(checkins.get_checkin, a),
    "checkin_draft": lambda a: draft(a, "mood", 3),
    "checkin_submitted": lambda a: submit(a),
}


@pytest.mark.parametrize("purpose", list(SERVICES))
@pytest.mark.parametrize("who", STAFF)
def test_staff_have_no_check_in_of_their_own_and_are_refused_and_audited(
    engine, personas, morning, purpose, who
):
    actor = personas.actor(who)
    with pytest.raises(AccessDenied) as refused:
        SERVICES[purpose](actor)
    assert isinstance(refused.value, NotFound)
    [event] = audit_events(engine, "access_denied")
    assert (event.actor_id, event.subject_client_id, event.target, event.outcome) == (
        actor.user_id,
        None,
        purpose,
        "denied",
    )
    assert count(engine, CheckIn) == 0


def test_each_client_sees_and_changes_only_her_own_day(engine, personas, ada, morning):
    submit(ada, mood=1, note="Ada's words")
    otto = personas.actor("other_client")
    view = run(checkins.get_checkin, otto)
    assert (view.status, view.mood, view.note) == ("new", None, "")
    submit(otto, sid="otto-submission", mood=5)
    [mine] = rows(engine, personas.client.id)
    assert (mine.mood, mine.note) == (1, "Ada's words")
    # Otto replaying Ada's submission id makes a fresh entry of his own, never a view of hers.
    assert submit(otto, sid="submission-0001", mood=4).note == ""
    assert audit_events(engine, "access_denied") == []


# --- Page handlers ------------------------------------------------------------------------------


def _state(cookie: str = "") -> CheckInState:
    root = State()
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "ip": "10.0.0.9"}
    )
    return root.get_substate(CheckInState.get_full_name().split(".")[1:])


def _cookie_for(engine, user: User) -> str:
    with db.session_scope(engine) as s:
        token = sessions.create_session(s, user=s.get(User, user.id))
    return f"kj_session={token}"


def _redirect_path(spec) -> str | None:
    args = {k._js_expr: getattr(v, "_var_value", None) for k, v in spec.args}
    return args.get("path")


HANDLER_CALLS = {
    "load": lambda s: s.load(),
    "choose_day": lambda s: s.choose_day("yesterday"),
    "tap": lambda s: s.tap("mood", "3"),
    "type_note": lambda s: s.type_note("hello"),
    "save": lambda s: s.save(),
}


@pytest.mark.parametrize("handler", list(HANDLER_CALLS))
def test_signed_out_handlers_send_to_sign_in_and_save_nothing(engine, personas, handler):
    state = _state()
    assert _redirect_path(run_async(HANDLER_CALLS[handler](state))) == "/signin"
    assert count(engine, CheckIn) == 0 and state.loaded is False


@pytest.mark.parametrize("handler", list(HANDLER_CALLS))
@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_staff_calling_check_in_handlers_are_sent_home_and_audited(engine, personas, handler, who):
    state = _state(_cookie_for(engine, getattr(personas, who)))
    assert _redirect_path(run_async(HANDLER_CALLS[handler](state))) == "/clinician"
    assert count(engine, CheckIn) == 0
    [event] = audit_events(engine, "access_denied")
    assert event.actor_id == getattr(personas, who).id


def test_three_taps_submit_and_a_later_change_updates_the_same_day(engine, personas):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    assert state.loaded and state.status == "new"
    run_async(state.tap("mood", "4"))
    run_async(state.tap("anxiety", "2"))
    assert state.status == "draft" or state.status == "new"
    run_async(state.tap("sleep", "3"))
    assert state.status == "submitted" and re.fullmatch(r"\d{1,2}:\d\d [ap]m", state.saved_at)
    run_async(state.tap("mood", "2"))
    run_async(state.type_note("A slower day"))
    run_async(state.save())
    [row] = rows(engine, personas.client.id)
    assert (row.status, row.mood, row.anxiety, row.sleep, row.note) == (
        "submitted",
        2,
        2,
        3,
        "A slower day",
    )
    assert len(audit_events(engine, "checkin_submitted")) == 3


def test_a_long_note_shows_its_message_and_keeps_every_character(engine, personas):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    text = "x" * 600 + "   "
    run_async(state.type_note(text))
    assert state.note == text  # as typed, trailing spaces too
    assert "shorten it by 100 characters" in state.problems["note"]
    for key in ("mood", "anxiety", "sleep"):
        run_async(state.tap(key, "3"))
    assert state.status != "submitted" and state.problems["note"]
    assert state.note == text
    [row] = rows(engine, personas.client.id)
    assert (row.status, row.note) == ("draft", "x" * 600)


@pytest.mark.parametrize(
    ("key", "value"),
    [("status", "3"), ("mood", "<script>"), ("mood", None), (["mood"], "3"), ("mood", 3)],
)
def test_hostile_tap_arguments_are_ignored(engine, personas, key, value):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    run_async(state.tap(key, value))
    assert count(engine, CheckIn) == 0


def test_an_out_of_range_tap_shows_a_message_at_its_scale(engine, personas):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    run_async(state.tap("mood", "9"))
    assert state.problems["mood"].startswith("Choose one of the five answers")
    assert count(engine, CheckIn) == 0


def test_saving_with_nothing_tapped_names_each_missing_answer(engine, personas):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    run_async(state.save())
    assert state.problems["mood"] == "Choose how your mood is."
    assert state.problems["sleep"] == "Choose how you slept."
    assert state.problems["form"] == ""


def test_hostile_day_and_note_arguments_are_ignored(engine, personas):
    state = _state(_cookie_for(engine, personas.client))
    run_async(state.load())
    run_async(state.choose_day(["yesterday"]))
    run_async(state.choose_day("tomorrow"))
    assert state.day == "today"
    run_async(state.type_note({"note": "x"}))
    assert count(engine, CheckIn) == 0
    run_async(state.type_note("y" * 1_000_000))
    assert len(state.note) == 10_000 and state.problems["note"]
