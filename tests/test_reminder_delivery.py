"""Reminder delivery: every phone once, each attempt logged, and each fate a push service can
deal (410/404 expire the device, 429 waits out Retry-After, 5xx and timeouts back off and then
give up), quiet hours at send time, payloads without health data, two workers racing over the
same outbox, workers killed mid-send, and the whole path against the real test push service."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import as_utc
from kapjourney.domain import reminders as r
from kapjourney.domain.models import DosingSession, Notification, PushSubscription, User
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor
from kapjourney.notifications import messages, planner, worker
from kapjourney.notifications.dispatch import Dispatcher, backoff, topic_for
from kapjourney.notifications.endpoints import Allowlist
from kapjourney.notifications.transport import SendResult, WebPushTransport
from kapjourney.notifications.vapid import load_keys
from kapjourney.services import exercises, outbox, plan, reminders, symptoms
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings, ensure_local_secrets
from tests.journey_support import BASE, NEW_YORK, schedule
from tests.push_fakes import RecordingTransport
from tests.push_service import make_subscription, running_push_service
from tests.reminder_support import (
    FORBIDDEN,
    PAYLOAD_KEYS,
    add_client,
    attempts,
    device,
    new_device,
    notifications,
    sends_by_reminder,
    set_times,
)

AT = datetime(2030, 1, 8, 20, 0, tzinfo=UTC)  # 15:00 in New York: outside quiet hours
DAY = "2030-01-08"
LEASE = timedelta(minutes=2)
GONE = {410: SendResult("gone", 410, permanent=True), 404: SendResult("gone", 404, permanent=True)}
CALM = {key: 0 for key, _ in SYMPTOM_ITEMS}


class Killed(BaseException):
    """The worker process being killed: not an Exception, so nothing on the way up handles it."""


class KillingTransport(RecordingTransport):
    """Dies on the given sends (counted from 1): before the push service has the message, or
    after it accepted it (the phone rings) but before the worker could write that down."""

    def __init__(self, *, before: set[int] = frozenset(), after: set[int] = frozenset()):
        super().__init__()
        self.calls = 0
        self.before, self.after = before, after

    def send(self, target, payload, *, ttl, urgency, topic):
        self.calls += 1
        if self.calls in self.before:
            raise Killed
        result = super().send(target, payload, ttl=ttl, urgency=urgency, topic=topic)
        if self.calls in self.after:
            raise Killed
        return result


def frozen(at: datetime):
    return time_machine.travel(at, tick=False)


def dispatcher(transport, name: str = "worker-a", **kwargs) -> Dispatcher:
    kwargs.setdefault("lease", LEASE)
    kwargs.setdefault("max_attempts", 3)
    return Dispatcher(transport, worker=name, **kwargs)


def run(d: Dispatcher, at: datetime):
    with frozen(at):
        return d.run_once()


def phones(engine, user: User, n: int) -> list[str]:
    with db.session_scope(engine) as s:
        return [new_device(user, s) for _ in range(n)]


def reminder(
    engine,
    user_id: int,
    *,
    slot: str = DAY,
    due: datetime = AT,
    expires: datetime = AT + timedelta(hours=4),
) -> Notification:
    """A check-in reminder for ``slot``, written as the planner writes it."""
    with frozen(due), db.session_scope(engine) as s:
        assert outbox.enqueue(
            s,
            user_id=user_id,
            kind=r.CHECKIN_DUE,
            slot=slot,
            due_at=due,
            expires_at=expires,
            url="/checkin",
        )
    [row] = notifications(engine, user_id=user_id, slot=slot)
    return row


def reload(engine, row: Notification) -> Notification:
    with db.session_scope(engine) as s:
        return s.get(Notification, row.id)


def fate(engine, row: Notification) -> tuple[str, str, int]:
    fresh = reload(engine, row)
    return fresh.status, fresh.outcome, fresh.attempts


# --- Sent once, to every phone ----------------------------------------------------------------


def test_a_reminder_reaches_every_phone_once_and_each_attempt_is_logged(engine, personas):
    ada = personas.client
    first, second = phones(engine, ada, 2)
    row = reminder(engine, ada.id)
    transport = RecordingTransport()

    stats = run(dispatcher(transport), AT)
    again = run(dispatcher(transport, "worker-b"), AT + timedelta(minutes=5))

    assert (stats.claimed, stats.sent, stats.attempts, again.claimed) == (1, 1, 2, 0)
    assert [s.target.endpoint for s in transport.sends] == [first, second]
    for sent in transport.sends:
        assert sent.payload == {
            "title": "Time for your daily check-in",
            "body": "It takes less than a minute.",
            "url": "/checkin",
            "tag": "kj-checkin",
            "id": row.public_id,
        }
        # At most the message's TTL, and never past the reminder's own end.
        assert (sent.ttl, sent.urgency, sent.topic) == (
            4 * 3600,
            "normal",
            topic_for(row.public_id),
        )
    assert re.fullmatch(r"[0-9a-f]{32}", row.public_id)
    fresh = reload(engine, row)
    assert (fresh.status, fresh.outcome, fresh.attempts, fresh.claimed_by) == (
        "sent",
        "sent",
        0,
        "worker-a",
    )
    assert (as_utc(fresh.sent_at), fresh.lease_until) == (AT, None)
    logged = attempts(engine, row.id)
    assert [(a.outcome, a.status_code, a.worker, as_utc(a.attempted_at)) for a in logged] == [
        ("sent", 201, "worker-a", AT),
        ("sent", 201, "worker-a", AT),
    ]
    for endpoint in (first, second):
        phone = device(engine, endpoint)
        assert (phone.status, phone.last_outcome, as_utc(phone.last_success_at)) == (
            "active",
            "sent",
            AT,
        )


def test_a_reminder_is_not_sent_before_it_is_due(engine, personas):
    phones(engine, personas.client, 1)
    row = reminder(engine, personas.client.id, due=AT + timedelta(minutes=10))
    transport = RecordingTransport()
    assert run(dispatcher(transport), AT + timedelta(minutes=9, seconds=59)).claimed == 0
    assert run(dispatcher(transport), AT + timedelta(minutes=10)).sent == 1
    assert len(transport.sends) == 1 and fate(engine, row)[0] == "sent"


def test_the_message_never_outlives_the_reminder(engine, personas):
    phones(engine, personas.client, 1)
    reminder(engine, personas.client.id, expires=AT + timedelta(seconds=30))
    reminder(engine, personas.client.id, slot="2030-01-09", expires=AT + timedelta(days=3))
    transport = RecordingTransport()
    run(dispatcher(transport), AT)
    # The time left before the reminder lapses, but at least the dispatcher's one-minute floor
    # and at most a check-in's twelve hours.
    assert sorted(s.ttl for s in transport.sends) == [60, 12 * 3600]


# --- What a push service may answer ---------------------------------------------------------


@pytest.mark.parametrize("status", [410, 404])
def test_a_phone_whose_subscription_ended_is_expired_and_not_used_again(engine, personas, status):
    ada = personas.client
    ended, live = phones(engine, ada, 2)
    transport = RecordingTransport()
    transport.script_for(ended, GONE[status])
    first = reminder(engine, ada.id)

    run(dispatcher(transport), AT)
    assert fate(engine, first) == ("sent", "sent", 0)  # the other phone took it
    gone = device(engine, ended)
    assert (gone.status, gone.last_outcome, as_utc(gone.disabled_at)) == ("expired", "gone", AT)
    assert [(a.outcome, a.status_code) for a in attempts(engine, first.id)] == [
        ("gone", status),
        ("sent", 201),
    ]

    second = reminder(engine, ada.id, slot="2030-01-09", due=AT + timedelta(hours=1))
    run(dispatcher(transport), AT + timedelta(hours=1))
    assert [s.target.endpoint for s in transport.sends] == [ended, live, live]
    assert fate(engine, second)[0] == "sent"


def test_a_reminder_whose_only_phone_is_gone_fails_for_good(engine, personas):
    [ended] = phones(engine, personas.client, 1)
    transport = RecordingTransport(default=GONE[410])
    row = reminder(engine, personas.client.id)
    run(dispatcher(transport), AT)
    assert fate(engine, row) == ("failed", "gone", 1)
    assert run(dispatcher(transport), AT + timedelta(hours=1)).claimed == 0
    assert len(transport.sends) == 1 and device(engine, ended).status == "expired"


def test_a_message_the_push_service_rejects_is_not_retried_but_the_phone_is_kept(engine, personas):
    [endpoint] = phones(engine, personas.client, 1)
    transport = RecordingTransport([SendResult("rejected", 403, permanent=True)])
    row = reminder(engine, personas.client.id)
    run(dispatcher(transport), AT)
    run(dispatcher(transport), AT + timedelta(hours=1))
    assert fate(engine, row) == ("failed", "undeliverable", 1)
    assert len(transport.sends) == 1
    phone = device(engine, endpoint)
    assert (phone.status, phone.last_outcome, as_utc(phone.last_failure_at)) == (
        "active",
        "rejected",
        AT,
    )


def test_rate_limiting_is_retried_not_before_retry_after(engine, personas):
    phones(engine, personas.client, 1)
    transport = RecordingTransport([SendResult("rate_limited", 429, retry_after=600.0)])
    row = reminder(engine, personas.client.id)

    run(dispatcher(transport), AT)
    waiting = reload(engine, row)
    assert (waiting.status, waiting.outcome, waiting.attempts) == ("pending", "rate_limited", 1)
    assert as_utc(waiting.next_attempt_at) == AT + timedelta(seconds=600)
    assert [(a.outcome, a.status_code, a.retry_after) for a in attempts(engine, row.id)] == [
        ("rate_limited", 429, 600)
    ]

    assert run(dispatcher(transport, "worker-b"), AT + timedelta(seconds=599)).claimed == 0
    assert len(transport.sends) == 1
    assert run(dispatcher(transport, "worker-b"), AT + timedelta(seconds=600)).sent == 1
    assert len(transport.sends) == 2 and fate(engine, row) == ("sent", "sent", 1)


@pytest.mark.parametrize(
    "failure",
    [SendResult("server_error", 503), SendResult("timeout"), SendResult("error")],
    ids=["5xx", "timeout", "network"],
)
def test_transient_failures_back_off_then_give_up_after_max_attempts(engine, personas, failure):
    phones(engine, personas.client, 1)
    transport = RecordingTransport(default=failure)
    row = reminder(engine, personas.client.id, expires=AT + timedelta(hours=6))
    worker_a = dispatcher(transport, max_attempts=3)

    at = AT
    waits = []
    for attempt in (1, 2):
        run(worker_a, at)
        waiting = reload(engine, row)
        assert (waiting.status, waiting.outcome, waiting.attempts) == (
            "pending",
            failure.outcome,
            attempt,
        )
        retry = as_utc(waiting.next_attempt_at)
        waits.append(retry - at)
        assert run(worker_a, retry - timedelta(seconds=1)).claimed == 0  # not before the backoff
        at = retry
    run(worker_a, at)

    # 30 s then 60 s, each give or take 20 %, so that retries from many workers do not align.
    assert timedelta(seconds=24) <= waits[0] <= timedelta(seconds=36)
    assert timedelta(seconds=48) <= waits[1] <= timedelta(seconds=72)
    assert fate(engine, row) == ("failed", "gave_up", 3)
    assert [a.outcome for a in attempts(engine, row.id)] == [failure.outcome] * 3
    assert len(transport.sends) == 3
    assert run(worker_a, at + timedelta(hours=1)).claimed == 0


def test_a_transient_failure_then_success_is_sent_once(engine, personas):
    phones(engine, personas.client, 1)
    transport = RecordingTransport([SendResult("server_error", 502)])
    row = reminder(engine, personas.client.id)
    run(dispatcher(transport), AT)
    run(dispatcher(transport), AT + timedelta(minutes=1))
    assert fate(engine, row) == ("sent", "sent", 1)
    assert [a.outcome for a in attempts(engine, row.id)] == ["server_error", "sent"]
    assert len({s.topic for s in transport.sends}) == 1  # the retry replaces, never adds


def test_no_retry_is_planned_past_the_reminders_end(engine, personas):
    phones(engine, personas.client, 1)
    transport = RecordingTransport([SendResult("server_error", 503)])
    row = reminder(engine, personas.client.id, expires=AT + timedelta(seconds=20))
    run(dispatcher(transport), AT)
    assert fate(engine, row) == ("failed", "gave_up", 1)


def test_backoff_doubles_from_half_a_minute_up_to_half_an_hour():
    for attempt, base in [(1, 30), (2, 60), (3, 120), (6, 960), (7, 1800), (40, 1800)]:
        for _ in range(20):
            assert base * 0.8 <= backoff(attempt).total_seconds() <= base * 1.2


def test_a_person_without_a_phone_is_skipped(engine, personas):
    row = reminder(engine, personas.client.id)
    transport = RecordingTransport()
    stats = run(dispatcher(transport), AT)
    assert (fate(engine, row), stats.skipped, transport.sends) == (
        ("skipped", "no_device", 0),
        1,
        [],
    )


def test_a_phone_turned_off_is_not_sent_to(engine, personas):
    [endpoint] = phones(engine, personas.client, 1)
    with db.session_scope(engine) as s:
        assert reminders.forget_device(session=s, actor=personas.actor("client"), endpoint=endpoint)
    row = reminder(engine, personas.client.id)
    transport = RecordingTransport()
    run(dispatcher(transport), AT)
    assert (fate(engine, row), transport.sends) == (("skipped", "no_device", 0), [])


def test_a_reminder_past_its_end_is_skipped_unsent(engine, personas):
    phones(engine, personas.client, 1)
    row = reminder(engine, personas.client.id, expires=AT + timedelta(hours=1))
    transport = RecordingTransport()
    run(dispatcher(transport), AT + timedelta(hours=1))
    assert (fate(engine, row), transport.sends) == (("skipped", "expired", 0), [])


# --- Quiet hours at send time ------------------------------------------------------------------


def test_a_follow_up_due_in_quiet_hours_waits_for_their_end(engine, personas):
    """A session at 20:30: its two-hour report falls due at 22:30, inside Ada's quiet hours."""
    phones(engine, personas.client, 1)
    cleo = personas.actor("clinician")
    with frozen(BASE):  # 10:00 in New York
        dosing = schedule(cleo, personas.client.id, 10.5 / 24)
    with db.session_scope() as s:
        dosed = as_utc(s.get(DosingSession, dosing).scheduled_at)
    with frozen(dosed + timedelta(minutes=1)), unit_of_work() as s:
        plan.complete_session(session=s, actor=cleo, dosing_session_id=dosing)
    transport = RecordingTransport()
    d = dispatcher(transport)
    due = dosed + timedelta(hours=2)
    morning = datetime(2030, 1, 9, 13, 0, tzinfo=UTC)  # 08:00 in New York

    with frozen(due):
        result = worker.tick(d)
    assert (result.planned, result.stats.claimed, transport.sends) == (2, 2, [])
    # The day's check-in, missed by a worker that only now came up, would ring after 22:00 and
    # lapses at midnight, before the quiet hours end: dropped.
    [checkin] = notifications(engine, kind="checkin_due")
    assert (checkin.status, checkin.outcome) == ("skipped", "quiet_hours")
    [row] = notifications(engine, kind="followup_due")
    assert (row.status, row.outcome, row.attempts) == ("pending", "quiet_hours", 0)
    assert as_utc(row.next_attempt_at) == morning

    assert run(d, morning - timedelta(minutes=1)).claimed == 0
    assert run(d, morning).sent == 1
    assert [s.payload["url"] for s in transport.sends] == [f"/report/{dosing}/120"]
    assert fate(engine, row) == ("sent", "sent", 0)


def test_a_retry_that_runs_into_quiet_hours_is_dropped_with_its_day(engine, personas):
    phones(engine, personas.client, 1)
    late = datetime(2030, 1, 9, 2, 50, tzinfo=UTC)  # 21:50 in New York
    midnight = datetime(2030, 1, 9, 5, 0, tzinfo=UTC)
    row = reminder(engine, personas.client.id, due=late, expires=midnight)
    transport = RecordingTransport([SendResult("server_error", 503)])
    run(dispatcher(transport), late)
    retry = as_utc(reload(engine, row).next_attempt_at)
    run(dispatcher(transport), retry + timedelta(minutes=10))  # after 22:00
    # Quiet hours last until after the day's check-in has lapsed: never rung at night.
    assert fate(engine, row) == ("skipped", "quiet_hours", 1)
    assert len(transport.sends) == 1


# --- No health data on the lock screen --------------------------------------------------------


def test_every_kind_of_reminder_carries_only_a_generic_text_a_link_and_an_opaque_id(
    engine, personas, caplog
):
    ada, cleo = personas.client, personas.actor("clinician")
    [ada_phone] = phones(engine, ada, 1)
    [cleo_phone] = phones(engine, personas.clinician, 1)
    with frozen(BASE):  # Tuesday 10:00 in New York
        done = schedule(cleo, ada.id, 2 / 24)  # 12:00 today, then marked done
        upcoming = schedule(cleo, ada.id, 30 / 24)  # tomorrow 16:00: preparation is open
        with unit_of_work() as s:
            exercises.assign_exercise(
                session=s,
                actor=cleo,
                client_id=ada.id,
                exercise="values",
                due_date=BASE.astimezone(NEW_YORK).date().isoformat(),
            )
    with frozen(BASE + timedelta(hours=2, minutes=1)), unit_of_work() as s:
        plan.complete_session(session=s, actor=cleo, dosing_session_id=done)

    transport = RecordingTransport()
    d = dispatcher(transport)
    caplog.set_level(logging.DEBUG)
    for hour in (14, 19):  # follow-up, preparation, exercise; then check-in and preparation
        with frozen(datetime(2030, 1, 8, 5, 0, tzinfo=UTC) + timedelta(hours=hour)):
            worker.tick(d)
    with frozen(datetime(2030, 1, 9, 0, 30, tzinfo=UTC)):  # 19:30: a frightening report
        with unit_of_work() as s:
            symptoms.submit_report(
                session=s,
                actor=personas.actor("client"),
                dosing_session_id=done,
                offset_minutes=120,
                submission_id="report-frightening",
                answers=CALM | {"chest_pain": 3, "self_harm": 1},
                note="After the ketamine dose my chest hurts and my mood score is low",
            )
        worker.tick(d)

    rows = {n.public_id: n for n in notifications(engine)}
    kinds = Counter(rows[s.payload["id"]].kind for s in transport.sends)
    assert kinds == Counter(
        {"followup_due": 1, "prep_open": 2, "exercise_due": 1, "checkin_due": 1, "alert_raised": 1}
    )  # preparation at the 48 h mark (passed when it was booked) and at the 24 h mark
    for sent in transport.sends:
        payload = sent.payload
        row = rows[payload["id"]]
        message = messages.MESSAGES[row.kind]
        assert set(payload) == PAYLOAD_KEYS
        assert all(isinstance(value, str) for value in payload.values())
        assert (payload["title"], payload["body"], payload["tag"]) == (
            message.title,
            message.body,
            message.tag,
        )
        assert payload["url"] == row.url and re.fullmatch(r"/[a-z/0-9-]*", row.url)
        text = " ".join(payload.values()).lower()
        assert [word for word in FORBIDDEN if word in text] == []
        expected_phone = cleo_phone if row.kind == "alert_raised" else ada_phone
        assert sent.target.endpoint == expected_phone
    assert {rows[s.payload["id"]].url for s in transport.sends} == {
        f"/report/{done}/120",
        f"/prepare/{upcoming}",
        "/journal/1",
        "/checkin",
        f"/clinician/client/{ada.id}",
    }
    # Every attempt is logged, by kind and outcome: never an endpoint, a key or health data.
    logs = caplog.text.lower()
    assert logs.count("push attempt") == 6
    for secret in (ada_phone, cleo_phone, "ketamine", "chest", "self_harm", "score"):
        assert secret.lower() not in logs


# --- Two workers racing -----------------------------------------------------------------------


def _own_engine(engine):
    return db.make_engine(engine.url.render_as_string(hide_password=False))


def _in_threads(*jobs) -> list[object]:
    """Run each job in its own thread from a common start; re-raise the first failure."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    failures: list[BaseException] = []

    def runner(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except BaseException as failure:  # surfaced below
            failures.append(failure)

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    if failures:
        raise failures[0]
    return results


class SlowTransport(RecordingTransport):
    """A push service a few milliseconds away, so the two workers interleave."""

    def __init__(self, delay: float = 0.002) -> None:
        super().__init__()
        self.delay = delay

    def send(self, target, payload, *, ttl, urgency, topic):
        time.sleep(self.delay)
        return super().send(target, payload, ttl=ttl, urgency=urgency, topic=topic)


@pytest.mark.parametrize("concurrency", [1, 4], ids=["one-sender", "pooled-senders"])
def test_two_workers_racing_send_each_of_200_reminders_exactly_once(engine, personas, concurrency):
    with db.session_scope(engine) as s:
        clients = [
            add_client(s, clinic_id=personas.client.clinic_id, zone="Europe/London", name=f"R{i}")
            for i in range(20)
        ]
        for client in clients:  # ten days of check-in reminders each, all due now
            for day in range(1, 11):
                outbox.enqueue(
                    s,
                    user_id=client.id,
                    kind=r.CHECKIN_DUE,
                    slot=f"2030-01-{day:02d}",
                    due_at=AT,
                    expires_at=AT + timedelta(hours=4),
                    url="/checkin",
                )
    # Pooled, a worker writes between sends only now and then: a slower push service keeps
    # the race long enough that both workers take a share (SQLite's busy wait is not fair).
    transport = SlowTransport(0.002 if concurrency == 1 else 0.01)

    def work(name):
        own = _own_engine(engine)
        try:
            return Dispatcher(
                transport, engine=own, worker=name, lease=LEASE, concurrency=concurrency
            ).run_once(AT)
        finally:
            own.dispose()

    stats_a, stats_b = _in_threads(lambda: work("worker-a"), lambda: work("worker-b"))

    rows = notifications(engine)
    assert len(rows) == 200 and {n.status for n in rows} == {"sent"}
    assert stats_a.claimed + stats_b.claimed == 200 == stats_a.sent + stats_b.sent
    assert stats_a.claimed > 0 and stats_b.claimed > 0  # a real race: both took a share
    sends = sends_by_reminder(engine, transport.sends)
    assert len(sends) == 200 and set(sends.values()) == {1}
    # No reminder was claimed by both: each has one attempt, by the worker that holds it.
    by_row = {n.id: n.claimed_by for n in rows}
    logged = attempts(engine)
    assert len(logged) == 200
    assert all(a.worker == by_row[a.notification_id] for a in logged)
    assert Counter(by_row.values()) == {"worker-a": stats_a.claimed, "worker-b": stats_b.claimed}


def test_pooled_senders_write_every_outcome_for_one_phone_several_phones_and_a_gone_phone(
    engine, personas
):
    """The pooled path: one thread plans and writes, the pool only sends. Every phone gets its
    message once, every attempt and device outcome is written, every reminder is settled."""
    with db.session_scope(engine) as s:
        ones = [
            add_client(
                s, clinic_id=personas.client.clinic_id, zone="America/New_York", name=f"P{i}"
            )
            for i in range(9)
        ]
        two = add_client(
            s, clinic_id=personas.client.clinic_id, zone="America/New_York", name="Two"
        )
    [extra] = phones(engine, two, 1)
    rows = [reminder(engine, c.id) for c in [*ones, two]]
    transport = RecordingTransport()
    gone = device_of(engine, ones[0])
    transport.script_for(gone.endpoint, GONE[410])

    stats = run(dispatcher(transport, concurrency=4), AT)

    assert (stats.claimed, stats.sent, stats.failed, stats.attempts) == (10, 9, 1, 11)
    assert sorted(Counter(s.target.endpoint for s in transport.sends).values()) == [1] * 11
    assert fate(engine, rows[0]) == ("failed", "gone", 1)
    assert {fate(engine, row) for row in rows[1:]} == {("sent", "sent", 0)}
    assert device(engine, gone.endpoint).status == "expired"
    assert device(engine, extra).last_outcome == "sent"
    logged = attempts(engine)
    assert len(logged) == 11 and {a.worker for a in logged} == {"worker-a"}
    assert run(dispatcher(transport, "worker-b", concurrency=4), AT + LEASE * 2).claimed == 0


def test_a_pooled_worker_killed_mid_send_loses_no_reminder(engine, personas):
    """A kill while the pool has sends in flight: the rows it held stay claimed until the lease
    runs out, then another worker sends what is left; nothing is lost, and the kill rings each
    phone at most once more."""
    with db.session_scope(engine) as s:
        clients = [
            add_client(
                s, clinic_id=personas.client.clinic_id, zone="America/New_York", name=f"K{i}"
            )
            for i in range(12)
        ]
    rows = [reminder(engine, c.id) for c in clients]
    killing = KillingTransport(after={5})

    with pytest.raises(Killed):
        run(dispatcher(killing, "worker-a", concurrency=4), AT)
    held = [reload(engine, row) for row in rows]
    assert any(row.status == "sending" for row in held)  # the kill left work in flight

    rescue = run(dispatcher(killing, "worker-b", concurrency=4), AT + LEASE + timedelta(seconds=1))
    assert rescue.claimed > 0
    assert {fate(engine, row)[:2] for row in rows} == {("sent", "sent")}
    per_phone = Counter(s.target.endpoint for s in killing.sends)
    assert len(per_phone) == 12 and set(per_phone.values()) <= {1, 2}
    # At most what the worker held unwritten at the kill: the pool's worth being sent and the
    # next pool's worth claimed (2 x 4).
    assert sum(per_phone.values()) - 12 <= 8
    assert len(attempts(engine)) == 12  # one written attempt per reminder: the one that stood


def device_of(engine, user: User) -> PushSubscription:
    with db.session_scope(engine) as s:
        return s.exec(select(PushSubscription).where(PushSubscription.user_id == user.id)).one()


def test_two_workers_each_planning_and_sending_over_a_day_send_once(engine, personas):
    zones = ["America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Australia/Sydney"]
    with db.session_scope(engine) as s:
        for i, zone in enumerate(zones * 3):
            add_client(s, clinic_id=personas.client.clinic_id, zone=zone, name=f"T{i}")
    transport = RecordingTransport()
    start = datetime(2030, 1, 9, 0, 30, tzinfo=UTC)  # before 19:00 in all four: none late
    ticks = [start + timedelta(minutes=15 * i) for i in range(24 * 4)]
    # Real workers share one wall clock: keep the two simulated clocks in step, tick by tick
    # (without this, one thread could run hours "ahead", see the other's lease as expired and
    # take over a reminder mid-send, which no shared clock allows).
    in_step = threading.Barrier(2, timeout=60)

    def work(name):
        own = _own_engine(engine)
        d = Dispatcher(transport, engine=own, worker=name, lease=LEASE)
        try:
            for at in ticks:
                in_step.wait()
                with db.session_scope(own) as s:
                    planner.plan(s, at)
                d.run_once(at)
        finally:
            own.dispose()

    _in_threads(lambda: work("worker-a"), lambda: work("worker-b"))
    rows = notifications(engine)
    assert len(rows) == 12 and {n.status for n in rows} == {"sent"}  # one check-in each
    sends = sends_by_reminder(engine, transport.sends)
    assert len(sends) == 12 and set(sends.values()) == {1}


# --- A worker killed mid-send -------------------------------------------------------------------


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_worker_killed_mid_send_leaves_the_reminder_for_another_after_the_lease(
    engine, personas, when
):
    [phone] = phones(engine, personas.client, 1)
    row = reminder(engine, personas.client.id)
    killing = KillingTransport(**{when: {1}})

    with pytest.raises(Killed):
        run(dispatcher(killing, "worker-a"), AT)
    held = reload(engine, row)
    assert (held.status, held.claimed_by, as_utc(held.lease_until)) == (
        "sending",
        "worker-a",
        AT + LEASE,
    )
    assert attempts(engine, row.id) == []  # the worker died before it could write anything

    rescue = dispatcher(killing, "worker-b")
    assert run(rescue, AT + LEASE).claimed == 0  # the lease still holds
    assert run(rescue, AT + LEASE + timedelta(seconds=1)).sent == 1

    fresh = reload(engine, row)
    assert (fresh.status, fresh.claimed_by, fresh.attempts) == ("sent", "worker-b", 0)
    assert [(a.outcome, a.worker) for a in attempts(engine, row.id)] == [("sent", "worker-b")]
    # Nothing lost; a kill after the push service took the message rings the phone once more.
    assert len(killing.sent_to(phone)) == (2 if when == "after" else 1)
    assert len({s.topic for s in killing.sends}) == 1  # a duplicate still queued collapses


def test_each_kill_adds_at_most_one_duplicate(engine, personas):
    [phone] = phones(engine, personas.client, 1)
    row = reminder(engine, personas.client.id, expires=AT + timedelta(hours=1))
    killing = KillingTransport(after={1, 2, 3})
    at = AT
    for name in ("worker-a", "worker-b", "worker-c"):
        with pytest.raises(Killed):
            run(dispatcher(killing, name), at)
        at += LEASE + timedelta(seconds=1)
    run(dispatcher(killing, "worker-d"), at)
    assert fate(engine, row) == ("sent", "sent", 0)
    assert len(killing.sent_to(phone)) == 4  # the message, plus one for each of three kills


def test_a_phone_that_already_took_the_message_is_not_sent_it_again(engine, personas):
    ada = personas.client
    took_it, missed_it = phones(engine, ada, 2)
    row = reminder(engine, ada.id)
    killing = KillingTransport(before={2})  # dies on the second phone

    with pytest.raises(Killed):
        run(dispatcher(killing, "worker-a"), AT)
    assert [(a.outcome, a.subscription_id) for a in attempts(engine, row.id)] == [
        ("sent", device(engine, took_it).id)
    ]
    run(dispatcher(killing, "worker-b"), AT + LEASE + timedelta(seconds=1))

    assert (len(killing.sent_to(took_it)), len(killing.sent_to(missed_it))) == (1, 1)
    assert fate(engine, row) == ("sent", "sent", 0)


def test_a_retry_after_a_kill_sends_nothing_when_every_phone_already_took_it(
    engine, personas, monkeypatch
):
    ada = personas.client
    phones(engine, ada, 2)
    row = reminder(engine, ada.id)
    transport = RecordingTransport()

    def killed_before_marking_it_sent(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "finish", killed_before_marking_it_sent)
        with pytest.raises(Killed):
            run(dispatcher(transport, "worker-a"), AT)
    assert [a.outcome for a in attempts(engine, row.id)] == ["sent", "sent"]
    assert reload(engine, row).status == "sending"

    run(dispatcher(transport, "worker-b"), AT + LEASE + timedelta(seconds=1))
    assert len(transport.sends) == 2  # both phones once, no duplicates
    fresh = reload(engine, row)
    assert (fresh.status, fresh.outcome, fresh.claimed_by) == ("sent", "sent", "worker-b")


def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_new_holders_result(engine, personas):
    [phone] = phones(engine, personas.client, 1)
    row = reminder(engine, personas.client.id)
    late = AT + LEASE + timedelta(seconds=1)
    rescued = []

    class Stalled(RecordingTransport):
        """A push service that answers worker A only after A's lease has run out and worker B
        has taken and delivered the reminder."""

        def send(self, target, payload, *, ttl, urgency, topic):
            if not rescued:
                rescued.append(run(dispatcher(RecordingTransport(), "worker-b"), late))
            return SendResult("server_error", 503)

    run(dispatcher(Stalled(), "worker-a"), AT)
    assert rescued[0].sent == 1
    fresh = reload(engine, row)
    # A's late "try again" does not undo B's delivery.
    assert (fresh.status, fresh.outcome, fresh.claimed_by) == ("sent", "sent", "worker-b")
    assert sorted((a.worker, a.outcome) for a in attempts(engine, row.id)) == [
        ("worker-a", "server_error"),
        ("worker-b", "sent"),
    ]
    assert device(engine, phone).status == "active"


def test_the_database_is_free_while_a_push_is_in_flight(engine, personas):
    """A push can take up to its 10 s timeout; the app must keep writing meanwhile (on SQLite,
    a transaction held across the send would hold the one write lock)."""
    phones(engine, personas.client, 1)
    reminder(engine, personas.client.id)
    waited = []

    class Busy(RecordingTransport):
        def send(self, target, payload, *, ttl, urgency, topic):
            started = time.monotonic()
            other = _own_engine(engine)
            try:
                with db.session_scope(other) as s:
                    outbox.enqueue(
                        s,
                        user_id=personas.clinician.id,
                        kind=r.ALERT_RAISED,
                        slot="1:urgent",
                        due_at=AT,
                        expires_at=AT + timedelta(hours=1),
                        url="/clinician",
                    )
            finally:
                other.dispose()
            waited.append(time.monotonic() - started)
            return super().send(target, payload, ttl=ttl, urgency=urgency, topic=topic)

    run(dispatcher(Busy()), AT)
    assert waited and waited[0] < 2.0


# --- The real test push service -------------------------------------------------------------


@pytest.fixture(scope="module")
def push_setup(tmp_path_factory):
    """The server's own VAPID key (from its data directory) and a push service that checks it,
    on the allowlist as an exact origin, as the operator's setting would put it."""
    data = tmp_path_factory.mktemp("push") / "data"
    first = Settings(data_dir=data)
    ensure_local_secrets(first)
    key = load_keys(first).public_key
    with running_push_service(expected_key=key) as service:
        settings = Settings(data_dir=data, push_allowed=f"fcm.googleapis.com,{service.origin}")
        yield settings, service


def _subscribe(engine, user: User, service, behaviour="ok") -> dict:
    sub = make_subscription(service, behaviour)
    with db.session_scope(engine) as s:
        reminders.save_device(
            session=s,
            actor=Actor.from_user(user),
            device=reminders.NewDevice(sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"]),
        )
    return sub


def _due_now(engine, user: User) -> None:
    """Ada's daily reminder at 15:00, when the tests freeze the clock (AT)."""
    with db.session_scope(engine) as s:
        set_times(s, s.get(User, user.id), checkin="15:00")


@pytest.fixture
def real_dispatcher(push_setup):
    """The worker's own dispatcher (settings, VAPID key, allowlist, pywebpush transport)."""
    d = worker.make_dispatcher(push_setup[0])
    yield d
    d.transport.close()


def test_end_to_end_the_push_service_decrypts_the_reminder_intact(
    engine, personas, push_setup, real_dispatcher
):
    settings, service = push_setup
    sub = _subscribe(engine, personas.client, service)
    _due_now(engine, personas.client)

    with frozen(AT):
        result = worker.tick(real_dispatcher)
        again = worker.tick(real_dispatcher)

    assert (result.planned, result.stats.sent, again.planned, again.stats.claimed) == (1, 1, 0, 0)
    [row] = notifications(engine)
    [delivery] = service.deliveries_for(sub)
    assert delivery.payload == {
        "title": "Time for your daily check-in",
        "body": "It takes less than a minute.",
        "url": "/checkin",
        "tag": "kj-checkin",
        "id": row.public_id,
    }
    text = delivery.raw.decode("utf-8").lower()
    assert [word for word in FORBIDDEN if word in text] == []
    # Nine hours to the end of Ada's day; urgency and topic as sent; a token for this service.
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (
        9 * 3600,
        "normal",
        topic_for(row.public_id),
    )
    assert (delivery.claims["aud"], delivery.claims["sub"]) == (
        service.origin,
        settings.push_subject,
    )
    assert AT.timestamp() < delivery.claims["exp"] <= AT.timestamp() + 24 * 3600
    assert [(a.outcome, a.status_code) for a in attempts(engine, row.id)] == [("sent", 201)]
    assert device(engine, sub["endpoint"]).last_outcome == "sent"


@pytest.mark.parametrize("behaviour", ["gone", "not_found"])
def test_end_to_end_an_ended_subscription_expires_the_device(
    engine, personas, push_setup, real_dispatcher, behaviour
):
    service = push_setup[1]
    sub = _subscribe(engine, personas.client, service, behaviour)
    _due_now(engine, personas.client)
    with frozen(AT):
        worker.tick(real_dispatcher)
    [row] = notifications(engine)
    assert fate(engine, row) == ("failed", "gone", 1)
    assert device(engine, sub["endpoint"]).status == "expired"
    assert service.deliveries_for(sub) == []


@pytest.mark.parametrize(
    ("behaviour", "outcome", "status", "wait"),
    [("rate_limited:1:120", "rate_limited", 429, 120), ("error:1", "server_error", 503, 24)],
)
def test_end_to_end_a_busy_push_service_gets_the_reminder_on_a_later_try(
    engine, personas, push_setup, real_dispatcher, behaviour, outcome, status, wait
):
    service = push_setup[1]
    sub = _subscribe(engine, personas.client, service, behaviour)
    _due_now(engine, personas.client)
    with frozen(AT):
        worker.tick(real_dispatcher)
    [row] = notifications(engine)
    waiting = reload(engine, row)
    assert (waiting.status, waiting.outcome) == ("pending", outcome)
    retry = as_utc(waiting.next_attempt_at)
    assert retry >= AT + timedelta(seconds=wait)
    assert run(real_dispatcher, retry - timedelta(seconds=1)).claimed == 0
    assert run(real_dispatcher, retry).sent == 1
    assert [(a.outcome, a.status_code) for a in attempts(engine, row.id)] == [
        (outcome, status),
        ("sent", 201),
    ]
    assert [h.status for h in service.hits_for(sub)] == [status, 201]
    assert len(service.deliveries_for(sub)) == 1


def test_end_to_end_a_push_service_that_never_answers_is_given_up(engine, personas, push_setup):
    settings, service = push_setup
    sub = _subscribe(engine, personas.client, service, "slow:2")
    _due_now(engine, personas.client)
    transport = WebPushTransport(
        vapid_private_key=load_keys(settings).vapid,
        subject=settings.push_subject,
        allowlist=Allowlist.parse(settings.push_allowed),
        timeout=0.3,
    )
    d = Dispatcher(transport, lease=LEASE, max_attempts=2)
    try:
        with frozen(AT):
            worker.tick(d)
        [row] = notifications(engine)
        assert fate(engine, row)[:2] == ("pending", "timeout")
        run(d, as_utc(reload(engine, row).next_attempt_at))
    finally:
        transport.close()
    assert fate(engine, row) == ("failed", "gave_up", 2)
    assert [a.outcome for a in attempts(engine, row.id)] == ["timeout", "timeout"]
    assert service.deliveries_for(sub) == []
