"""Reminder scheduling with frozen time: the daily check-in at the client's local time in five
time zones and across daylight-saving changes, quiet hours, preparation 48 h and 24 h before a
session, post-session follow-ups, exercises, the care team's alert reminder in the report's own
transaction, a two-day sweep that sends every due reminder exactly once, and racing planners."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import as_utc
from kapjourney.domain import reminders as r
from kapjourney.domain.enums import CourseStatus
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    Alert,
    ChecklistItem,
    Course,
    DosingSession,
    ExerciseAssignment,
    Notification,
    SymptomReport,
    User,
)
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.notifications import planner
from kapjourney.notifications.dispatch import Dispatcher
from kapjourney.notifications.worker import tick
from kapjourney.services import (
    checkins,
    checklists,
    exercises,
    inbox,
    outbox,
    plan,
    symptoms,
)
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, NEW_YORK, schedule, values_for
from tests.push_fakes import RecordingTransport
from tests.reminder_support import (
    add_client,
    endpoints,
    new_device,
    notifications,
    sends_by_reminder,
    set_times,
    store_preference,
)
from tests.support import count

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")
AUCKLAND = ZoneInfo("Pacific/Auckland")
SEVEN_PM = time(19, 0)
DEFAULT_QUIET = r.Quiet(time(22, 0), time(8, 0))
CALM = {key: 0 for key, _ in SYMPTOM_ITEMS}

# The 2030 daylight-saving changes: (zone, local date, hours in that local day).
DST_DAYS = [
    (LOS_ANGELES, date(2030, 3, 10), 23),  # springs forward 02:00 -> 03:00
    (LOS_ANGELES, date(2030, 11, 3), 25),  # falls back 02:00 -> 01:00
    (LONDON, date(2030, 3, 31), 23),  # 01:00 -> 02:00
    (LONDON, date(2030, 10, 27), 25),  # 02:00 -> 01:00
    (SYDNEY, date(2030, 4, 7), 25),  # 03:00 -> 02:00 (autumn in the south)
    (SYDNEY, date(2030, 10, 6), 23),  # 02:00 -> 03:00
    (AUCKLAND, date(2030, 4, 7), 25),  # 03:00 -> 02:00
    (AUCKLAND, date(2030, 9, 29), 23),  # 02:00 -> 03:00
    (KOLKATA, date(2030, 3, 10), 24),  # no daylight saving at all
]


def local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time that exists once (no gap, no repeat)."""
    instant = datetime.combine(day, clock, tzinfo=zone)
    assert instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == instant.replace(
        tzinfo=None
    ), "choose a local time outside the daylight-saving change"
    return instant.astimezone(UTC)


def frozen(at: datetime):
    return time_machine.travel(at, tick=False)


def call(fn, actor: Actor, **kwargs):
    with unit_of_work() as s:
        return fn(session=s, actor=actor, **kwargs)


def run_plan(at: datetime) -> int:
    with frozen(at), db.session_scope() as s:
        return planner.plan(s, at)


def client_in(engine, personas, zone: ZoneInfo, name: str = "Cora", **kwargs) -> User:
    with db.session_scope(engine) as s:
        return add_client(
            s, clinic_id=personas.client.clinic_id, zone=str(zone), name=name, **kwargs
        )


def subscribe(engine, user: User) -> str:
    with db.session_scope(engine) as s:
        return new_device(user, s)


def check_in(user: User, at: datetime, sid: str = "checkin-0001") -> None:
    with frozen(at):
        call(
            checkins.submit_checkin,
            Actor.from_user(user),
            submission_id=sid,
            day="today",
            mood=3,
            anxiety=2,
            sleep=4,
        )


def dispatcher(transport: RecordingTransport, worker: str = "worker-a") -> Dispatcher:
    return Dispatcher(transport, worker=worker, lease=timedelta(minutes=2), max_attempts=3)


# --- Pure timing ------------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "day", "hours"), DST_DAYS, ids=lambda v: str(v))
def test_seven_pm_stays_seven_pm_on_the_days_around_a_clock_change(zone, day, hours):
    for d in (day - timedelta(days=1), day, day + timedelta(days=1)):
        due = r.checkin_due_at(d, zone, SEVEN_PM, DEFAULT_QUIET)
        assert due.tzinfo == UTC
        assert due.astimezone(zone).replace(tzinfo=None) == datetime.combine(d, SEVEN_PM)
    before = r.checkin_due_at(day - timedelta(days=1), zone, SEVEN_PM, DEFAULT_QUIET)
    on = r.checkin_due_at(day, zone, SEVEN_PM, DEFAULT_QUIET)
    assert on - before == timedelta(hours=hours)  # the clock change falls between the two
    assert r.end_of_day(day, zone) - r.end_of_day(day - timedelta(days=1), zone) == timedelta(
        hours=hours
    )


@pytest.mark.parametrize(
    ("zone", "day", "wall", "lands"),
    [
        ("America/Los_Angeles", date(2030, 3, 10), time(2, 30), "2030-03-10T03:30:00-07:00"),
        ("America/Los_Angeles", date(2030, 3, 10), time(2, 0), "2030-03-10T03:00:00-07:00"),
        ("Europe/London", date(2030, 3, 31), time(1, 15), "2030-03-31T02:15:00+01:00"),
        ("Australia/Sydney", date(2030, 10, 6), time(2, 45), "2030-10-06T03:45:00+11:00"),
        # Lord Howe Island moves its clocks by half an hour.
        ("Australia/Lord_Howe", date(2030, 10, 6), time(2, 15), "2030-10-06T02:45:00+11:00"),
    ],
)
def test_a_time_the_clock_skips_comes_as_late_as_the_clock_jumped(zone, day, wall, lands):
    tz = ZoneInfo(zone)
    assert r.local_instant(day, wall, tz).astimezone(tz).isoformat() == lands


@pytest.mark.parametrize(
    ("zone", "day"),
    [(LOS_ANGELES, date(2030, 11, 3)), (LONDON, date(2030, 10, 27))],
)
def test_a_time_the_clock_repeats_is_its_first_occurrence(zone, day):
    once = datetime.combine(day, time(1, 30), tzinfo=zone)  # fold=0: before the change
    assert r.local_instant(day, time(1, 30), zone) == once.astimezone(UTC)
    assert r.local_instant(day, time(1, 30), zone).astimezone(zone).dst() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("quiet", "wall", "released"),
    [
        (("22:00", "08:00"), "21:59", "2030-01-08T21:59"),
        (("22:00", "08:00"), "22:00", "2030-01-09T08:00"),
        (("22:00", "08:00"), "23:30", "2030-01-09T08:00"),
        (("22:00", "08:00"), "03:00", "2030-01-08T08:00"),
        (("22:00", "08:00"), "08:00", "2030-01-08T08:00"),
        (("13:00", "15:00"), "14:10", "2030-01-08T15:00"),
        (("13:00", "15:00"), "15:00", "2030-01-08T15:00"),
        (("09:00", "09:00"), "09:00", "2030-01-08T09:00"),  # equal ends: no quiet hours
    ],
)
def test_quiet_hours_hold_a_reminder_to_their_end(quiet, wall, released):
    hours = r.Quiet(r.parse_hhmm(quiet[0], "q"), r.parse_hhmm(quiet[1], "q"))
    at = local(date(2030, 1, 8), r.parse_hhmm(wall, "w"), NEW_YORK)
    out = r.release_from_quiet(at, NEW_YORK, hours)
    assert out.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M") == released


def test_quiet_hours_ending_on_a_spring_forward_morning_end_by_the_new_clock():
    hours = r.Quiet(time(22, 0), time(8, 0))
    at = local(date(2030, 3, 9), time(23, 0), LOS_ANGELES)
    out = r.release_from_quiet(at, LOS_ANGELES, hours)
    assert out.astimezone(LOS_ANGELES).isoformat() == "2030-03-10T08:00:00-07:00"
    assert out - at == timedelta(hours=8)  # nine wall-clock hours, one of them skipped


@pytest.mark.parametrize("value", ["7pm", "24:00", "19:60", "9:00", " ", None, 1900, "19:00:00"])
def test_a_time_that_is_not_hours_and_minutes_is_refused(value):
    with pytest.raises(ValidationFailed) as refused:
        r.parse_hhmm(value, "checkin_time")
    assert refused.value.fields == {
        "checkin_time": "Choose a time as hours and minutes, like 19:00."
    }


# --- The daily check-in -----------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "day", "hours"), DST_DAYS, ids=lambda v: str(v))
def test_the_checkin_reminder_is_written_at_seven_local_time_and_not_before(
    engine, personas, zone, day, hours
):
    cora = client_in(engine, personas, zone)
    seven = local(day, SEVEN_PM, zone)

    assert run_plan(seven - timedelta(minutes=1)) == 0
    assert run_plan(seven) == 1
    assert run_plan(seven + timedelta(minutes=10)) == 0  # a second tick writes nothing new

    [row] = notifications(engine)
    assert (row.user_id, row.kind, row.slot, row.url) == (
        cora.id,
        "checkin_due",
        str(day),
        "/checkin",
    )
    assert as_utc(row.due_at) == seven
    assert as_utc(row.expires_at) == local(day + timedelta(days=1), time(0, 0), zone)
    assert (row.status, row.attempts) == ("pending", 0)


def test_the_reminder_comes_at_the_time_the_client_chose(engine, personas):
    cora = client_in(engine, personas, KOLKATA)
    with db.session_scope(engine) as s:
        set_times(s, cora, checkin="07:45", quiet=("23:00", "07:00"))
    day = date(2030, 1, 8)
    assert run_plan(local(day, time(7, 44), KOLKATA)) == 0
    assert run_plan(local(day, time(7, 45), KOLKATA)) == 1
    assert run_plan(local(day, SEVEN_PM, KOLKATA)) == 0  # not the default time as well
    [row] = notifications(engine)
    assert as_utc(row.due_at) == local(day, time(7, 45), KOLKATA)


def test_quiet_hours_hold_the_checkin_reminder_until_they_end(engine, personas):
    """A time saved before the quiet hours were widened (the settings page would refuse it
    now) still never rings inside them: the reminder comes when they end."""
    cora = client_in(engine, personas, SYDNEY)
    with db.session_scope(engine) as s:
        store_preference(s, cora.id, checkin_time="07:30", quiet_start="22:00", quiet_end="08:00")
    day = date(2030, 1, 8)
    assert run_plan(local(day, time(7, 30), SYDNEY)) == 0
    assert run_plan(local(day, time(7, 59), SYDNEY)) == 0
    assert run_plan(local(day, time(8, 0), SYDNEY)) == 1
    [row] = notifications(engine)
    assert as_utc(row.due_at) == local(day, time(8, 0), SYDNEY)


def test_the_settings_page_refuses_a_reminder_time_inside_the_quiet_hours(engine, personas):
    cora = client_in(engine, personas, LONDON)
    with pytest.raises(ValidationFailed) as refused, db.session_scope(engine) as s:
        set_times(s, cora, checkin="23:15", quiet=("22:00", "08:00"))
    assert set(refused.value.fields) == {"checkin_time"}


def test_a_checkin_already_made_means_no_reminder(engine, personas):
    cora = client_in(engine, personas, AUCKLAND)
    day = date(2030, 1, 8)
    check_in(cora, local(day, time(12, 0), AUCKLAND))
    assert run_plan(local(day, SEVEN_PM, AUCKLAND)) == 0
    assert run_plan(local(day, time(23, 50), AUCKLAND)) == 0
    # The next day has no check-in yet, so it has its reminder.
    assert run_plan(local(day + timedelta(days=1), SEVEN_PM, AUCKLAND)) == 1
    assert [n.slot for n in notifications(engine)] == [str(day + timedelta(days=1))]


def test_a_draft_checkin_still_gets_its_reminder(engine, personas):
    cora = client_in(engine, personas, LONDON)
    day = date(2030, 1, 8)
    with frozen(local(day, time(12, 0), LONDON)):
        call(checkins.save_checkin_draft, Actor.from_user(cora), day="today", field="mood", value=3)
    assert run_plan(local(day, SEVEN_PM, LONDON)) == 1


def test_a_checkin_made_after_the_reminder_was_written_cancels_it(engine, personas):
    cora = client_in(engine, personas, LOS_ANGELES)
    day = date(2030, 1, 8)
    seven = local(day, SEVEN_PM, LOS_ANGELES)
    assert run_plan(seven) == 1
    check_in(cora, seven + timedelta(minutes=1))
    transport = RecordingTransport()
    with frozen(seven + timedelta(minutes=2)):
        stats = dispatcher(transport).run_once()
    assert transport.sends == []
    [row] = notifications(engine)
    assert (row.status, row.outcome, stats.skipped) == ("skipped", "not_needed", 1)


def test_a_worker_that_was_down_sends_todays_reminder_late_but_never_yesterdays(engine, personas):
    client_in(engine, personas, LONDON)
    day = date(2030, 1, 8)
    assert run_plan(local(day + timedelta(days=1), time(0, 5), LONDON)) == 0  # yesterday is over
    assert run_plan(local(day + timedelta(days=1), time(21, 0), LONDON)) == 1  # today, late
    [row] = notifications(engine)
    assert row.slot == str(day + timedelta(days=1))
    assert as_utc(row.due_at) == local(day + timedelta(days=1), SEVEN_PM, LONDON)


def test_no_checkin_reminder_for_whom_it_cannot_reach_or_who_turned_it_off(engine, personas):
    client_in(engine, personas, LONDON, name="Nell", devices=0)  # never turned reminders on
    turned_off = client_in(engine, personas, LONDON, name="Otis")
    left = client_in(engine, personas, LONDON, name="Lena")
    finished = client_in(engine, personas, LONDON, name="Finn")
    with db.session_scope(engine) as s:
        set_times(s, turned_off, enabled=False)
        s.get(User, left.id).is_active = False
        course = s.exec(select(Course).where(Course.client_id == finished.id)).one()
        course.status = CourseStatus.COMPLETED
        s.add(course)
    assert run_plan(local(date(2030, 1, 8), time(20, 0), LONDON)) == 0
    assert notifications(engine) == []


# --- Two days of ticks --------------------------------------------------------------------------

# Each sweep starts at 00:05 in Los Angeles, when every client below is still before that day's
# reminder, and runs 48 hours over daylight-saving changes: spring and autumn, north and south.
SWEEPS = {
    "los_angeles_springs_forward": datetime(2030, 3, 9, 8, 5, tzinfo=UTC),
    "sydney_and_auckland_fall_back": datetime(2030, 4, 5, 7, 5, tzinfo=UTC),
    "sydney_springs_forward": datetime(2030, 10, 5, 7, 5, tzinfo=UTC),
    "london_falls_back": datetime(2030, 10, 26, 7, 5, tzinfo=UTC),
}  # the other changes of 2030 are checked around 19:00 with DST_DAYS above
# name: (zone, the local time the reminder is due, how it is set, phones)
SWEEP_CLIENTS = {
    "Lou": (LOS_ANGELES, SEVEN_PM, None, 1),
    "Lia": (LOS_ANGELES, time(8, 0), ("stored", "07:30"), 1),  # held by quiet hours to 08:00
    "Liz": (LONDON, SEVEN_PM, None, 1),
    "Len": (LONDON, SEVEN_PM, None, 1),  # checks in at noon on the first day
    "Kai": (KOLKATA, SEVEN_PM, None, 1),
    "Syd": (SYDNEY, time(20, 30), ("settings", "20:30"), 1),
    "Ava": (AUCKLAND, time(21, 30), ("settings", "21:30"), 2),
    "Otis": (LONDON, None, ("off", "19:00"), 1),  # reminders turned off
}


def _sweep_clients(engine, personas) -> dict[str, User]:
    people = {}
    with db.session_scope(engine) as s:
        for name, (zone, _, how, phones) in SWEEP_CLIENTS.items():
            user = add_client(
                s, clinic_id=personas.client.clinic_id, zone=str(zone), name=name, devices=phones
            )
            if how is not None and how[0] == "stored":
                store_preference(s, user.id, checkin_time=how[1])
            elif how is not None:
                set_times(s, user, checkin=how[1], enabled=how[0] != "off")
            people[name] = user
    return people


@pytest.mark.parametrize("start", list(SWEEPS.values()), ids=list(SWEEPS))
def test_two_days_of_ticks_send_every_due_reminder_exactly_once(engine, personas, start):
    people = _sweep_clients(engine, personas)
    len_noon = local(start.astimezone(LONDON).date(), time(12, 0), LONDON)
    transport = RecordingTransport()
    worker = dispatcher(transport)
    rng = random.Random(start.timestamp())
    ticks = []
    len_checked_in = False
    with time_machine.travel(start, tick=False) as traveller:
        at = start
        while at <= start + timedelta(hours=48):
            traveller.move_to(at)
            if at >= len_noon and not len_checked_in:
                call(
                    checkins.submit_checkin,
                    Actor.from_user(people["Len"]),
                    submission_id="len-day-one",
                    day="today",
                    mood=4,
                    anxiety=1,
                    sleep=4,
                )
                len_checked_in = True
            tick(worker)
            ticks.append(at)
            at += timedelta(seconds=rng.randint(300, 900))

    expected = {}
    for name, (zone, due_time, _, _) in SWEEP_CLIENTS.items():
        if due_time is None:
            continue
        first = start.astimezone(zone).date()
        for day in (first, first + timedelta(days=1)):
            if name == "Len" and day == first:
                continue
            expected[(people[name].id, "checkin_due", str(day))] = local(day, due_time, zone)
    rows = notifications(engine)
    assert {(n.user_id, n.kind, n.slot): as_utc(n.due_at) for n in rows} == expected
    assert len(rows) == len(expected)
    for row in rows:
        due = as_utc(row.due_at)
        assert (row.status, row.outcome, row.attempts) == ("sent", "sent", 0)
        first_tick = min(t for t in ticks if t >= due)
        assert as_utc(row.sent_at) == first_tick < due + timedelta(minutes=15)

    assert sends_by_reminder(engine, transport.sends) == Counter(
        {
            (uid, kind, slot, endpoint): 1
            for uid, kind, slot in expected
            for endpoint in endpoints(engine, uid)
        }
    )  # each reminder reached each of the client's phones exactly once (Ava has two)


# --- Preparation before a session -----------------------------------------------------------


def _ada_with_phone(engine, personas) -> User:
    subscribe(engine, personas.client)
    return personas.client


def _book(personas, hours_ahead: float, setting: str = "in_clinic") -> tuple[int, datetime]:
    """Book Ada's session ``hours_ahead`` after BASE (as her clinician does, at BASE)."""
    with frozen(BASE):
        dosing = schedule(
            personas.actor("clinician"), personas.client.id, hours_ahead / 24, setting=setting
        )
    with db.session_scope() as s:
        return dosing, as_utc(s.get(DosingSession, dosing).scheduled_at)


def _prep_rows(engine) -> list[tuple[str, datetime]]:
    return [(n.slot, as_utc(n.due_at)) for n in notifications(engine, kind="prep_open")]


def _ahead_items(dosing: int) -> list[ChecklistItem]:
    with db.session_scope() as s:
        return list(
            s.exec(
                select(ChecklistItem).where(
                    ChecklistItem.dosing_session_id == dosing,
                    ChecklistItem.due_minutes_before >= r.PREP_AHEAD_MINUTES,
                )
            ).all()
        )


def _tick_hourly(transport, start: datetime, until: datetime) -> None:
    worker = dispatcher(transport)
    with time_machine.travel(start, tick=False) as traveller:
        at = start
        while at < until:
            traveller.move_to(at)
            tick(worker)
            at += timedelta(hours=1)


@pytest.mark.parametrize(
    ("hours_ahead", "marks"),
    [(96, ["48h", "24h"]), (30, ["48h", "24h"]), (10, ["24h"]), (2, ["24h"])],
)
def test_preparation_reminders_come_48_and_24_hours_before(engine, personas, hours_ahead, marks):
    """A session booked inside 24 h gets only the 24 h reminder (at once); one booked between
    48 and 24 h ahead gets its 48 h reminder at once; a mark already passed is never sent late."""
    ada = _ada_with_phone(engine, personas)
    dosing, start = _book(personas, hours_ahead)
    transport = RecordingTransport()
    _tick_hourly(transport, BASE, start + timedelta(hours=1))

    due = {"48h": start - timedelta(hours=48), "24h": start - timedelta(hours=24)}
    assert _prep_rows(engine) == [(f"{dosing}:{mark}", due[mark]) for mark in marks]
    for row in notifications(engine, kind="prep_open"):
        assert (row.status, row.url, as_utc(row.expires_at)) == (
            "sent",
            f"/prepare/{dosing}",
            start,
        )
        # Sent at the mark, or at the first tick after booking when the mark had passed.
        assert as_utc(row.sent_at) == max(as_utc(row.due_at), BASE)
    counts = sends_by_reminder(engine, transport.sends)
    assert [n for (uid, kind, _, _), n in counts.items() if kind == "prep_open"] == [1] * len(marks)
    assert all(uid == ada.id for uid, *_ in counts)


def test_the_48_hour_reminder_is_written_at_the_mark_and_not_before(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, start = _book(personas, 96)
    for hours in (48, 24):
        mark = start - timedelta(hours=hours)
        assert run_plan(mark - timedelta(minutes=1)) == 0
        assert run_plan(mark) == 1
        assert run_plan(mark + timedelta(minutes=30)) == 0
    assert [slot for slot, _ in _prep_rows(engine)] == [f"{dosing}:48h", f"{dosing}:24h"]


def test_no_preparation_reminder_once_the_steps_that_can_be_done_ahead_are_done(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, start = _book(personas, 96)
    ahead = _ahead_items(dosing)
    assert {i.key for i in ahead} == {"ride", "benzodiazepines", "intention"}
    with frozen(BASE):
        for item in ahead:
            call(
                checklists.complete_item,
                personas.actor("client"),
                item_id=item.id,
                values=values_for(item.value_kind),
            )
    # Only the on-the-day steps (no alcohol, fasting, blood pressure) are left: nothing to nag.
    for hours in (48, 24):
        run_plan(start - timedelta(hours=hours))
    assert _prep_rows(engine) == []


def test_steps_done_after_the_reminder_was_written_cancel_it(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, start = _book(personas, 96)
    mark = start - timedelta(hours=48)
    assert run_plan(mark) == 1
    with frozen(mark):
        for item in _ahead_items(dosing):
            call(
                checklists.complete_item,
                personas.actor("client"),
                item_id=item.id,
                values=values_for(item.value_kind),
            )
        transport = RecordingTransport()
        dispatcher(transport).run_once()
    [row] = notifications(engine, kind="prep_open")
    assert (row.status, row.outcome, transport.sends) == ("skipped", "not_needed", [])


def test_a_preparation_mark_inside_quiet_hours_waits_for_the_morning(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, start = _book(personas, 69)  # 07:00 in New York: both marks fall in quiet hours
    assert start.astimezone(NEW_YORK).time() == time(7, 0)
    for hours in (48, 24):
        morning = (start - timedelta(hours=hours)).replace(minute=0) + timedelta(hours=1)
        assert run_plan(start - timedelta(hours=hours)) == 0
        assert run_plan(morning - timedelta(minutes=1)) == 0
        assert run_plan(morning) == 1
    assert [
        (slot, due.astimezone(NEW_YORK).strftime("%a %H:%M")) for slot, due in _prep_rows(engine)
    ] == [(f"{dosing}:48h", "Wed 08:00"), (f"{dosing}:24h", "Thu 08:00")]


def test_a_cancelled_session_has_no_preparation_reminder(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, start = _book(personas, 96)
    assert run_plan(start - timedelta(hours=48)) == 1
    with frozen(start - timedelta(hours=47)):
        call(plan.cancel_session, personas.actor("clinician"), dosing_session_id=dosing)
        transport = RecordingTransport()
        dispatcher(transport).run_once()
    assert run_plan(start - timedelta(hours=24)) == 0
    [row] = notifications(engine, kind="prep_open")
    assert (row.status, row.outcome, transport.sends) == ("skipped", "not_needed", [])


# --- After a session --------------------------------------------------------------------------


def _dosed(engine, personas, hours_ahead: float = 24) -> tuple[int, datetime]:
    """Ada's session, booked at BASE and marked done by her clinician when it began."""
    dosing, start = _book(personas, hours_ahead)
    with frozen(start + timedelta(minutes=1)):
        call(plan.complete_session, personas.actor("clinician"), dosing_session_id=dosing)
    return dosing, start


def test_each_follow_up_report_is_reminded_when_it_falls_due(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, dosed = _dosed(engine, personas)
    offsets = [120, 1440, 4320, 10080]  # the clinic's default follow-ups: 2 h, 1 d, 3 d, 7 d
    for offset in offsets:
        due = dosed + timedelta(minutes=offset)
        assert run_plan(due - timedelta(minutes=1)) == 0
        assert run_plan(due) == 1
        assert run_plan(due + timedelta(minutes=15)) == 0
    rows = notifications(engine, kind="followup_due")
    assert [(n.slot, n.url, as_utc(n.due_at)) for n in rows] == [
        (f"report-{dosing}-{o}", f"/report/{dosing}/{o}", dosed + timedelta(minutes=o))
        for o in offsets
    ]


def test_a_report_sent_before_its_reminder_needs_none(engine, personas):
    _ada_with_phone(engine, personas)
    dosing, dosed = _dosed(engine, personas)
    due = dosed + timedelta(days=1)
    with frozen(due):
        call(
            symptoms.submit_report,
            personas.actor("client"),
            dosing_session_id=dosing,
            offset_minutes=1440,
            submission_id="report-day-one",
            answers=CALM,
        )
    assert run_plan(due + timedelta(minutes=5)) == 0
    assert notifications(engine, kind="followup_due") == []


# --- Integration exercises --------------------------------------------------------------------


def test_an_exercise_is_reminded_on_its_due_date_at_ten_and_not_once_done(engine, personas):
    _ada_with_phone(engine, personas)
    due_day = date(2030, 1, 10)
    with frozen(BASE):
        for kind in ("values", "journal_week"):
            call(
                exercises.assign_exercise,
                personas.actor("clinician"),
                client_id=personas.client.id,
                exercise=kind,
                due_date=due_day.isoformat(),
            )
    with db.session_scope() as s:
        values, journal = [a.id for a in s.exec(select(ExerciseAssignment)).all()]
    with frozen(local(due_day, time(9, 0), NEW_YORK)):
        call(
            exercises.complete_exercise,
            personas.actor("client"),
            assignment_id=journal,
            text="Done early",
        )
    assert run_plan(local(due_day - timedelta(days=1), time(10, 0), NEW_YORK)) == 0
    assert run_plan(local(due_day, time(9, 59), NEW_YORK)) == 0
    assert run_plan(local(due_day, time(10, 0), NEW_YORK)) == 1
    assert run_plan(local(due_day + timedelta(days=1), time(10, 0), NEW_YORK)) == 0
    [row] = notifications(engine, kind="exercise_due")
    assert (row.slot, row.url) == (f"exercise-{values}", f"/journal/{values}")
    assert as_utc(row.due_at) == local(due_day, time(10, 0), NEW_YORK)
    assert as_utc(row.expires_at) == local(due_day + timedelta(days=1), time(0, 0), NEW_YORK)


# --- The care team's alert --------------------------------------------------------------------


def _report(personas, dosing, answers, sid="report-0001", offset=1440):
    return call(
        symptoms.submit_report,
        personas.actor("client"),
        dosing_session_id=dosing,
        offset_minutes=offset,
        submission_id=sid,
        answers=answers,
    )


def test_a_worrying_report_tells_each_assigned_clinician_in_its_own_transaction(engine, personas):
    dosing, dosed = _dosed(engine, personas)
    at = dosed + timedelta(hours=25)
    with frozen(at):
        assert _report(personas, dosing, CALM | {"detached": 1}).tier == "urgent"
    with db.session_scope() as s:
        [alert] = s.exec(select(Alert)).all()
    [row] = notifications(engine)  # Cleo's only: not the unassigned clinician, not the admin
    assert (row.user_id, row.kind, row.slot, row.url) == (
        personas.clinician.id,
        "alert_raised",
        f"{alert.id}:urgent",
        f"/clinician/client/{personas.client.id}",
    )
    assert (as_utc(row.due_at), as_utc(row.expires_at)) == (at, at + timedelta(hours=1))
    assert row.created_at is not None and as_utc(row.created_at) == at


def test_a_report_rolled_back_leaves_no_alert_reminder(engine, personas):
    dosing, dosed = _dosed(engine, personas)
    with frozen(dosed + timedelta(hours=25)), pytest.raises(RuntimeError), unit_of_work() as s:
        symptoms.submit_report(
            session=s,
            actor=personas.actor("client"),
            dosing_session_id=dosing,
            offset_minutes=1440,
            submission_id="report-0001",
            answers=CALM | {"chest_pain": 2},
        )
        raise RuntimeError("the request failed after the report was written")
    assert count(engine, SymptomReport) == count(engine, Alert) == count(engine, Notification) == 0


def test_no_report_is_stored_when_its_alert_reminder_cannot_be_written(
    engine, personas, monkeypatch
):
    dosing, dosed = _dosed(engine, personas)

    def outbox_down(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(outbox, "enqueue", outbox_down)
    with frozen(dosed + timedelta(hours=25)), pytest.raises(RuntimeError):
        _report(personas, dosing, CALM | {"detached": 1})
    assert count(engine, SymptomReport) == count(engine, Alert) == 0


def test_a_routine_alert_waits_for_the_dashboard_and_an_upgrade_is_told_again(engine, personas):
    dosing, dosed = _dosed(engine, personas)
    at = dosed + timedelta(hours=25)

    def save(field, value):
        with frozen(at):
            call(
                symptoms.save_report_answer,
                personas.actor("client"),
                dosing_session_id=dosing,
                offset_minutes=1440,
                field=field,
                value=value,
            )

    save("nausea", "2")  # moderate: a routine alert, no push
    assert notifications(engine) == []
    save("detached", "1")  # urgent
    save("headache", "4")  # still urgent: nothing new
    save("chest_pain", "1")  # emergency
    with db.session_scope() as s:
        [alert] = s.exec(select(Alert)).all()
    assert [(n.user_id, n.slot) for n in notifications(engine)] == [
        (personas.clinician.id, f"{alert.id}:urgent"),
        (personas.clinician.id, f"{alert.id}:emergency"),
    ]


def test_the_alert_reminder_ignores_quiet_hours_and_lapses_once_handled(engine, personas):
    dosing, _ = _dosed(engine, personas)
    subscribe(engine, personas.clinician)
    small_hours = local(date(2030, 1, 11), time(3, 0), NEW_YORK)  # Cleo's quiet hours
    with frozen(small_hours):
        _report(personas, dosing, CALM | {"detached": 1})
        transport = RecordingTransport()
        stats = dispatcher(transport).run_once()
    assert (stats.sent, len(transport.sends)) == (1, 1)
    assert transport.sends[0].urgency == "high"

    with frozen(small_hours + timedelta(minutes=5)):
        _report(personas, dosing, CALM | {"chest_pain": 1}, sid="report-0002", offset=120)
    with frozen(small_hours + timedelta(minutes=6)):  # Cleo saw it on the dashboard first
        with db.session_scope() as s:
            newest = s.exec(select(Alert).order_by(Alert.id.desc())).first()
        call(inbox.acknowledge, personas.actor("clinician"), alert_id=newest.id)
        dispatcher(transport).run_once()
    assert len(transport.sends) == 1
    assert [(n.status, n.outcome) for n in notifications(engine)] == [
        ("sent", "sent"),
        ("skipped", "not_needed"),
    ]


def test_an_upgrade_after_the_first_alert_was_acknowledged_still_reaches_the_clinician(
    engine, personas
):
    """Urgent, acknowledged by Cleo, then the same report turns into an emergency: the
    acknowledgement was for the urgent tier, not for what came after it."""
    dosing, dosed = _dosed(engine, personas)
    subscribe(engine, personas.clinician)
    at = dosed + timedelta(hours=25)
    transport = RecordingTransport()

    def save(field, value, minutes):
        with frozen(at + timedelta(minutes=minutes)):
            call(
                symptoms.save_report_answer,
                personas.actor("client"),
                dosing_session_id=dosing,
                offset_minutes=1440,
                field=field,
                value=value,
            )
            dispatcher(transport).run_once()

    save("detached", "1", 0)  # urgent: pushed
    with db.session_scope() as s:
        [alert] = s.exec(select(Alert)).all()
    with frozen(at + timedelta(minutes=1)):
        call(inbox.acknowledge, personas.actor("clinician"), alert_id=alert.id)
    save("chest_pain", "2", 2)  # emergency: pushed again
    assert [(n.slot, n.status, n.outcome) for n in notifications(engine)] == [
        (f"{alert.id}:urgent", "sent", "sent"),
        (f"{alert.id}:emergency", "sent", "sent"),
    ]
    assert len(transport.sends) == 2


# --- Racing planners --------------------------------------------------------------------------


def _engine_like(engine):
    return db.make_engine(engine.url.render_as_string(hide_password=False))


def test_two_planners_racing_write_each_reminder_once(engine, personas):
    at = datetime(2030, 1, 8, 15, 17, tzinfo=UTC)  # not midnight in any of the zones
    zones = [LOS_ANGELES, LONDON, KOLKATA, SYDNEY, AUCKLAND]
    with db.session_scope(engine) as s:
        clients = [
            add_client(s, clinic_id=personas.client.clinic_id, zone=str(z), name=f"Racer{i}")
            for i, z in enumerate(zones * 8)
        ]
        for client in clients:  # every one of them due now, wherever they are
            set_times(s, client, checkin="00:00", quiet=("00:00", "00:00"))
    made: list[int] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def race():
        own = _engine_like(engine)
        try:
            barrier.wait()
            for _ in range(4):
                with db.session_scope(own) as s:
                    made.append(planner.plan(s, at))
        except BaseException as failure:  # surfaced below
            failures.append(failure)
        finally:
            own.dispose()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    rows = notifications(engine)
    assert len(rows) == len({(n.user_id, n.kind, n.slot) for n in rows}) == len(clients)
    assert sum(made) == len(clients)  # each row counted by the one planner that wrote it
