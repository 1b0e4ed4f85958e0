"""The demo seed: who and what it creates, and that every demo sign-in works."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from kapjourney import cli, db
from kapjourney.auth import passwords, signin
from kapjourney.clock import as_utc
from kapjourney.domain.enums import AlertSeverity, AlertStatus, CourseStatus, DosingStatus, Role
from kapjourney.domain.models import (
    Alert,
    AuditEvent,
    ClientSummary,
    Clinic,
    ClinicianAssignment,
    Course,
    DeliveryAttempt,
    DosingSession,
    Invite,
    Notification,
    PushSubscription,
    User,
)
from kapjourney.domain.reminders import ALERT_ESCALATED
from kapjourney.domain.schemas import Actor
from kapjourney.notifications.endpoints import Allowlist, check_subscription
from kapjourney.notifications.messages import MESSAGES
from kapjourney.seed import (
    CLIENT_PASSWORD,
    CLINIC_TZ,
    DEMO_LOGINS,
    STAFF_PASSWORD,
    is_empty,
    seed_demo,
)
from kapjourney.seed_history import DEVICES, demo_subscription
from kapjourney.services import audit, clients, dashboard, inbox, reminders, today
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings
from tests.support import count

LA = ZoneInfo(CLINIC_TZ)
# 23:30 in Los Angeles is already the next day in UTC: "tomorrow" must follow the clinic's clock.
LATE_EVENING_LA = datetime(2026, 11, 10, 23, 30, tzinfo=LA)


@pytest.fixture(scope="module")
def demo_hashes() -> dict[str, str]:
    return {pw: passwords.hash_password(pw) for pw in (CLIENT_PASSWORD, STAFF_PASSWORD)}


@pytest.fixture
def seeded(engine, demo_hashes, monkeypatch):
    # Real argon2 hashes of the real demo passwords, computed once for the module instead of
    # twice per test; the CLI tests below still run the seed's own hashing.
    monkeypatch.setattr(passwords, "hash_password", demo_hashes.__getitem__)
    with time_machine.travel(LATE_EVENING_LA, tick=False), db.session_scope(engine) as s:
        assert is_empty(s)
        logins = seed_demo(s)
    return logins


def _actor(user: User) -> Actor:
    return Actor.from_user(user)


def _user(engine, email: str) -> User:
    with db.session_scope(engine) as s:
        return s.exec(select(User).where(User.email == email)).one()


def test_it_seeds_one_clinic_with_its_staff_and_six_clients(engine, seeded):
    assert seeded == DEMO_LOGINS
    assert count(engine, Clinic) == 1
    with db.session_scope(engine) as s:
        roles = Counter(Role(u.role) for u in s.exec(select(User)).all())
        clinic = s.exec(select(Clinic)).one()
        assert {u.clinic_id for u in s.exec(select(User)).all()} == {clinic.id}
    assert roles == {Role.CLINICIAN: 2, Role.ADMIN: 1, Role.CLIENT: 6}
    assert clinic.timezone == CLINIC_TZ


def test_every_client_has_one_course_and_one_clinician(engine, seeded):
    with db.session_scope(engine) as s:
        client_ids = {u.id for u in s.exec(select(User).where(User.role == Role.CLIENT)).all()}
        courses = s.exec(select(Course)).all()
        assignments = s.exec(select(ClinicianAssignment)).all()
    assert sorted(c.client_id for c in courses) == sorted(client_ids)
    assert sorted(a.client_id for a in assignments) == sorted(client_ids)


def test_the_clients_span_at_least_five_course_stages(engine, seeded):
    with db.session_scope(engine) as s:
        statuses = {CourseStatus(c.status) for c in s.exec(select(Course)).all()}
    assert len(statuses) >= 5
    assert {
        CourseStatus.SCREENING,
        CourseStatus.PREPARATION,
        CourseStatus.DOSING,
        CourseStatus.INTEGRATION,
        CourseStatus.COMPLETED,
    } <= statuses


def test_alex_has_two_completed_sessions_and_the_next_one_tomorrow_in_clinic_time(engine, seeded):
    alex = _user(engine, "alex@riverbend.example")
    with db.session_scope(engine) as s:
        rows = s.exec(
            select(DosingSession)
            .where(DosingSession.client_id == alex.id)
            .order_by(DosingSession.number)
        ).all()
    done = [r for r in rows if r.status == DosingStatus.COMPLETED]
    upcoming = [r for r in rows if r.status == DosingStatus.SCHEDULED]
    assert [r.number for r in done] == [1, 2]
    clinic_today = LATE_EVENING_LA.date()
    first = as_utc(upcoming[0].scheduled_at).astimezone(LA)
    assert upcoming[0].number == 3
    assert first.date() == clinic_today + timedelta(days=1)
    assert (first.hour, first.minute) == (10, 0)
    assert all(as_utc(r.scheduled_at).astimezone(LA).date() < clinic_today for r in done)


def test_alex_sees_tomorrows_session_on_today(engine, seeded):
    alex = _user(engine, "alex@riverbend.example")
    actor = _actor(alex)
    with (
        time_machine.travel(LATE_EVENING_LA + timedelta(minutes=5), tick=False),
        db.session_scope(engine) as s,
    ):
        view = today.get_today(session=s, actor=actor)
    assert view.first_name == "Alex" and view.stage == "Dosing sessions"
    assert view.next_session is not None
    assert (view.next_session.number, view.next_session.planned) == (3, 6)
    assert view.next_session.when == "Tomorrow, 10:00 am"
    assert view.clinic_phone == "(555) 010-0199"
    assert view.reminders_on is False  # no phone of Alex's takes reminders: Today offers them


def test_today_knows_when_a_phone_already_takes_reminders(engine, seeded):
    chris = _user(engine, "chris@riverbend.example")
    with db.session_scope(engine) as s:
        view = today.get_today(session=s, actor=_actor(chris))
    assert view.reminders_on is True


@pytest.mark.parametrize("login", DEMO_LOGINS, ids=[d.email for d in DEMO_LOGINS])
def test_every_demo_login_signs_in(engine, seeded, settings, login):
    with db.session_scope(engine) as s:
        outcome = signin.authenticate(
            session=s, email=login.email, password=login.password, settings=settings
        )
    assert outcome.ok, outcome.errors
    assert outcome.role == Role(login.role)


def test_the_screening_client_is_invited_but_cannot_sign_in(engine, seeded, settings):
    bea = _user(engine, "bea@riverbend.example")
    assert bea.password_hash is None
    assert count(engine, Invite, Invite.user_id == bea.id) == 1
    with db.session_scope(engine) as s:
        outcome = signin.authenticate(
            session=s, email=bea.email, password="journey-demo-client", settings=settings
        )
    assert not outcome.ok


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("maya.chen@riverbend.example", {"alex", "bea", "chris", "farah"}),
        ("sam.okafor@riverbend.example", {"dana", "eli"}),
        ("jordan.reyes@riverbend.example", {"alex", "bea", "chris", "dana", "eli", "farah"}),
    ],
)
def test_each_staff_member_sees_the_documented_caseload(engine, seeded, email, expected):
    actor = _actor(_user(engine, email))
    with time_machine.travel(LATE_EVENING_LA, tick=False), unit_of_work() as s:
        rows = clients.list_clients(session=s, actor=actor)
    assert {r.email.split("@")[0] for r in rows} == expected
    if "alex" in expected:
        [alex] = [r for r in rows if r.email.startswith("alex@")]
        assert (alex.sessions_done, alex.sessions_planned, alex.next_session) == (
            2,
            6,
            "Tomorrow, 10:00 am",
        )


def test_the_database_is_no_longer_empty(engine, seeded):
    with db.session_scope(engine) as s:
        assert not is_empty(s)


def test_the_seeded_audit_chain_verifies(engine, seeded):
    with db.session_scope(engine) as s:
        report = audit.verify_chain(s)
        actions = Counter(s.exec(select(AuditEvent.action)).all())
    alerts_raised = count(engine, Alert)
    # The seed's own event, one "alert_raised" per alert its history raised (Chris's and Eli's
    # PHQ-9 answers, the worrying post-session reports), each through the real rules, and the
    # escalation of Eli's alert by the worker's own step.
    assert actions == {"demo_seeded": 1, "alert_raised": alerts_raised, "alert_escalated": 1}
    assert (report.ok, report.checked) == (True, 2 + alerts_raised)
    assert alerts_raised >= 6


def test_the_seed_command_seeds_once_and_then_skips(engine, capsys):
    assert cli.main(["seed"]) == 0
    assert "demo clinic seeded" in capsys.readouterr().out
    assert cli.main(["seed"]) == 0
    assert "already has data" in capsys.readouterr().out
    assert count(engine, Clinic) == 1


def test_the_seed_command_refuses_production(engine, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "get_settings", lambda: Settings(env="production", data_dir=tmp_path))
    assert cli.main(["seed"]) == 2
    assert "refusing" in capsys.readouterr().err
    assert count(engine, Clinic) == 0


def test_the_seed_places_sessions_relative_to_the_day_it_runs(engine):
    later = datetime(2027, 3, 20, 18, 0, tzinfo=UTC)
    with time_machine.travel(later, tick=False), db.session_scope(engine) as s:
        seed_demo(s)
    alex = _user(engine, "alex@riverbend.example")
    with db.session_scope(engine) as s:
        nxt = s.exec(
            select(DosingSession)
            .where(
                DosingSession.client_id == alex.id, DosingSession.status == DosingStatus.SCHEDULED
            )
            .order_by(DosingSession.scheduled_at)
        ).first()
    assert as_utc(nxt.scheduled_at).astimezone(LA).date() == later.astimezone(
        LA
    ).date() + timedelta(days=1)


# --- Reminders (issue 5): the care team's panel shows several states across the demo ---

EXPECTED_HEALTH = {
    "alex": ("never", "Never turned on"),
    "bea": ("never", "Never turned on"),
    "chris": ("reaching", "Reaching them"),
    "dana": ("revoked", "Permission turned off"),
    "eli": ("never", "Never turned on"),
    "farah": ("expired", "Expired"),
}


def _health(engine, email: str):
    admin = _actor(_user(engine, "jordan.reyes@riverbend.example"))
    client = _user(engine, email)
    with time_machine.travel(LATE_EVENING_LA, tick=False), unit_of_work() as s:
        return reminders.delivery_health(session=s, actor=admin, client_id=client.id)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_HEALTH.items()))
def test_the_demo_shows_each_reminder_health_state(engine, seeded, name, expected):
    view = _health(engine, f"{name}@riverbend.example")
    assert (view.state, view.label) == expected
    if name == "chris":
        assert view.last_success == "Yesterday, 7:00 pm"
        assert [(d.label, d.status, d.healthy) for d in view.devices] == [
            ("Chrome on Android", "active", True)
        ]
    if name == "farah":
        assert [(d.status, d.healthy) for d in view.devices] == [("expired", False)]
        assert view.last_success.endswith("7:00 pm")


def test_every_seeded_reminder_was_sent_once_with_a_matching_attempt(engine, seeded):
    with db.session_scope(engine) as s:
        devices = {d.id: d for d in s.exec(select(PushSubscription)).all()}
        owners = {d.user_id: d.id for d in devices.values()}
        # (The history's urgent alerts also queued reminders for their clinicians.)
        notifications = s.exec(
            select(Notification).where(Notification.user_id.in_(list(owners)))
        ).all()
        attempts = s.exec(select(DeliveryAttempt)).all()
        by_notification = Counter(a.notification_id for a in attempts)
        pairs = {(a.notification_id, a.subscription_id, a.outcome, a.status_code) for a in attempts}
        rows = [(n.id, n.user_id, n.kind, n.status, n.outcome, n.url) for n in notifications]
    assert len(devices) == len(DEVICES) == 3
    # 7 accepted reminders per device, and Farah's last one met a 410.
    assert len(rows) == 3 * 7 + 1
    assert all(count == 1 for count in by_notification.values())
    assert set(by_notification) == {row[0] for row in rows}
    for nid, user_id, kind, status, outcome, url in rows:
        assert kind == "checkin_due" and url == "/checkin"
        code = 201 if outcome == "sent" else 410
        assert (status, outcome) in (("sent", "sent"), ("failed", "gone"))
        assert (nid, owners[user_id], outcome, code) in pairs
    # Nothing is left for the reminder worker to pick up: no pending or half-sent rows.
    assert {row[3] for row in rows} == {"sent", "failed"}
    assert len(attempts) == len(rows)
    # What those reminders said on the lock screen: the generic check-in text only.
    assert MESSAGES["checkin_due"].title == "Time for your daily check-in"


def test_demo_devices_are_valid_subscriptions_made_the_same_way_every_time(engine, seeded):
    with db.session_scope(engine) as s:
        stored = {
            d.endpoint: (d.endpoint_hash, d.p256dh, d.auth, d.push_host)
            for d in s.exec(select(PushSubscription)).all()
        }
    for email in DEVICES:
        name = email.split("@")[0]
        endpoint, p256dh, auth = demo_subscription(name)
        assert demo_subscription(name) == (endpoint, p256dh, auth)
        assert endpoint == f"https://fcm.googleapis.com/fcm/send/demo-{name}"
        # The same checks a browser's subscription must pass (real P-256 point, 16-byte auth).
        checked = check_subscription(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}, Allowlist.parse("")
        )
        assert (checked.p256dh, checked.auth) == (p256dh, auth)
        assert stored[endpoint] == (
            reminders.endpoint_hash(endpoint),
            p256dh,
            auth,
            "fcm.googleapis.com",
        )
    assert len({demo_subscription(e.split("@")[0])[1] for e in DEVICES}) == len(DEVICES)


def test_the_demo_clients_settings_page_lists_their_devices(engine, seeded):
    chris = _actor(_user(engine, "chris@riverbend.example"))
    alex = _actor(_user(engine, "alex@riverbend.example"))
    with time_machine.travel(LATE_EVENING_LA, tick=False), unit_of_work() as s:
        mine = reminders.get_settings(session=s, actor=chris)
        none = reminders.get_settings(session=s, actor=alex)
    assert [(d.label, d.status_label, d.last_delivery) for d in mine.devices] == [
        ("Chrome on Android", "On", "Last reminder reached it Yesterday, 7:00 pm")
    ]
    assert (mine.permission, mine.checkin_time) == ("granted", "19:00")
    assert none.devices == [] and none.permission == ""


# --- The caseload dashboard and the alert inbox (issue 6): every state, for the demo clinicians ---

# name: (recency tier, next session's readiness light, or "" without a session)
EXPECTED_ROWS = {
    "Alex Rivera": ("2d", "amber"),
    "Bea Thompson": ("never", ""),
    "Chris Nguyen": ("7d", "red"),
    "Dana Kowalski": ("2d", "green"),
    "Eli Haddad": ("2d", ""),
    "Farah Said": ("older", ""),
}


def _staff(engine, name: str) -> Actor:
    return _actor(_user(engine, f"{name}@riverbend.example"))


def test_the_summary_rows_show_every_recency_tier_and_readiness_light(engine, seeded):
    with db.session_scope(engine) as s:
        rows = s.exec(select(User.display_name, ClientSummary).join(ClientSummary)).all()
    assert {name: (row.recency, row.readiness) for name, row in rows} == EXPECTED_ROWS
    assert {row.computed_for for _, row in rows} == {LATE_EVENING_LA.date()}
    assert {row.recency for _, row in rows} == {"2d", "7d", "older", "never"}
    assert {row.readiness for _, row in rows} == {"green", "amber", "red", ""}
    # Maya's own caseload, as her dashboard reads it: all four tiers, amber, red and none.
    maya, sam = _staff(engine, "maya.chen"), _staff(engine, "sam.okafor")
    with time_machine.travel(LATE_EVENING_LA, tick=False), unit_of_work() as s:
        mine, sams = dashboard.caseload(s, maya).rows, dashboard.caseload(s, sam).rows
    assert {r.recency for r in mine} == {"2d", "7d", "older", "never"}
    assert {r.readiness for r in mine} == {"amber", "red", ""}
    assert {r.readiness for r in sams} == {"green", ""}
    assert mine[0].name == "Chris Nguyen"  # the open urgent alert first


def _alerts(engine) -> dict[tuple[str, str], Alert]:
    with db.session_scope(engine) as s:
        rows = s.exec(select(User.display_name, Alert).join(User, User.id == Alert.client_id))
        return {(name.split()[0], alert.reason_code): alert for name, alert in rows.all()}


def test_the_alerts_are_in_every_state_the_inbox_shows(engine, seeded):
    alerts = _alerts(engine)
    maya, sam = (
        _user(engine, "maya.chen@riverbend.example"),
        _user(engine, "sam.okafor@riverbend.example"),
    )
    seeded_at = LATE_EVENING_LA.astimezone(UTC)
    fresh = alerts[("Chris", "phq9_item9")]  # open, nobody has seen it, not yet escalated
    assert (fresh.severity, fresh.status) == (AlertSeverity.URGENT, AlertStatus.OPEN)
    assert fresh.acknowledged_at is None and fresh.escalated_at is None
    escalated = alerts[("Eli", "phq9_item9")]  # left 40 minutes: escalated by the worker's step
    assert (escalated.severity, escalated.status) == (AlertSeverity.URGENT, AlertStatus.OPEN)
    assert as_utc(escalated.created_at) == seeded_at - timedelta(minutes=40)
    assert as_utc(escalated.escalated_at) == seeded_at and escalated.acknowledged_at is None
    seen = alerts[("Farah", "symptom_moderate")]
    assert (seen.status, seen.acknowledged_by_id) == (AlertStatus.ACKNOWLEDGED, maya.id)
    assert as_utc(seen.created_at) < as_utc(seen.acknowledged_at) < seeded_at
    waiting = alerts[("Dana", "symptom_moderate")]
    assert (waiting.severity, waiting.status) == (AlertSeverity.ROUTINE, AlertStatus.OPEN)
    for key, outcome, who in (
        (("Eli", "dissociation_persistent"), "contacted_client", sam.id),
        (("Farah", "urinary_symptoms"), "referred", maya.id),
    ):
        done = alerts[key]
        assert (done.status, done.outcome, done.resolved_by_id) == ("resolved", outcome, who)
        assert outcome in inbox.OUTCOMES and len(done.resolution_note) > 20
        assert as_utc(done.created_at) < as_utc(done.acknowledged_at) < as_utc(done.resolved_at)
    assert all(as_utc(a.created_at) <= seeded_at for a in alerts.values())
    # The escalation was pushed to every clinician and the admin, as the worker's would be.
    with db.session_scope(engine) as s:
        pushed = s.exec(
            select(Notification.user_id).where(Notification.kind == ALERT_ESCALATED)
        ).all()
        staff = s.exec(select(User.id).where(User.role != Role.CLIENT)).all()
    assert sorted(pushed) == sorted(staff)


def test_each_demo_clinicians_inbox_has_alerts_to_act_on(engine, seeded):
    maya, sam, jordan = (_staff(engine, who) for who in ("maya.chen", "sam.okafor", "jordan.reyes"))
    with time_machine.travel(LATE_EVENING_LA, tick=False), unit_of_work() as s:
        mine = inbox.list_inbox(session=s, actor=maya, record=False)
        sams = inbox.list_inbox(session=s, actor=sam, record=False)
        everyone = inbox.list_inbox(session=s, actor=jordan, record=False)
    got = {(r.client_name, r.severity, r.status, r.escalated) for r in mine.rows}
    assert got == {
        ("Chris Nguyen", "urgent", "open", False),
        ("Farah Said", "routine", "acknowledged", False),
    }
    assert [r.acknowledged_by for r in mine.rows if r.status == "acknowledged"] == ["Dr. Maya Chen"]
    got = {(r.client_name, r.severity, r.status, r.escalated) for r in sams.rows}
    assert got == {
        ("Eli Haddad", "urgent", "open", True),
        ("Dana Kowalski", "routine", "open", False),
    }
    assert [r.waiting for r in sams.rows if r.escalated] == ["40 min"]
    assert len(everyone.rows) == 4
