"""The reminder planner: writes each due reminder into the outbox once.

Runs on every worker tick. It only plans for people with a device that can receive a push, and
the outbox's unique (user, kind, slot) key makes a second planner, or a second tick, a no-op.
``still_wanted`` is asked again just before sending, so a check-in made after the reminder was
written is not nagged about.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.clock import as_utc
from kapjourney.domain import reminders as r
from kapjourney.domain.enums import AlertStatus, CourseStatus, DosingStatus, Role
from kapjourney.domain.exercises import ExerciseStatus
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ChecklistItem,
    Course,
    DosingSession,
    ExerciseAssignment,
    Notification,
    PushSubscription,
    ReminderPreference,
    User,
)
from kapjourney.routes import CHECKIN, exercise_url, prepare_url
from kapjourney.services import outbox, symptoms

CLOSED_COURSES = (CourseStatus.COMPLETED, CourseStatus.WITHDRAWN)


def preference(session: Session, user_id: int) -> ReminderPreference:
    return session.get(ReminderPreference, user_id) or ReminderPreference(user_id=user_id)


def quiet_of(pref: ReminderPreference) -> r.Quiet:
    try:
        return r.Quiet(
            r.parse_hhmm(pref.quiet_start, "quiet_start"), r.parse_hhmm(pref.quiet_end, "quiet_end")
        )
    except Exception:
        return r.Quiet(
            r.parse_hhmm(r.DEFAULT_QUIET_START, "q"), r.parse_hhmm(r.DEFAULT_QUIET_END, "q")
        )


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _reachable_clients(session: Session) -> list[User]:
    """Active clients in an open course with at least one active device."""
    with_device = select(PushSubscription.user_id).where(PushSubscription.status == "active")
    in_course = select(Course.client_id).where(Course.status.not_in(CLOSED_COURSES))
    return list(
        session.exec(
            select(User)
            .where(
                User.role == Role.CLIENT,
                User.is_active == True,  # noqa: E712
                User.id.in_(with_device),
                User.id.in_(in_course),
            )
            .order_by(User.id)  # one order for every planner: racing inserts cannot deadlock
        ).all()
    )


def _checked_in(session: Session, client_id: int, day) -> bool:
    row = session.exec(
        select(CheckIn).where(CheckIn.client_id == client_id, CheckIn.local_date == day)
    ).first()
    return row is not None and row.status == "submitted"


def _plan_checkin(session: Session, client: User, pref: ReminderPreference, at: datetime) -> int:
    if not pref.checkin_enabled:
        return 0
    tz = _zone(client)
    day = at.astimezone(tz).date()
    try:
        clock = r.parse_hhmm(pref.checkin_time, "checkin_time")
    except Exception:
        clock = r.parse_hhmm(r.DEFAULT_CHECKIN_TIME, "checkin_time")
    due = r.checkin_due_at(day, tz, clock, quiet_of(pref))
    closes = r.end_of_day(day, tz)
    if not due <= at < closes or _checked_in(session, client.id or 0, day):
        return 0
    return outbox.enqueue(
        session,
        user_id=client.id or 0,
        kind=r.CHECKIN_DUE,
        slot=day.isoformat(),
        due_at=due,
        expires_at=closes,
        url=CHECKIN,
    )


def _plan_followups(session: Session, client: User, at: datetime) -> int:
    made = 0
    for item in symptoms.todos(session, client, at):
        made += outbox.enqueue(
            session,
            user_id=client.id or 0,
            kind=r.FOLLOWUP_DUE,
            slot=item.key,
            due_at=at,
            expires_at=at + timedelta(hours=12),
            url=item.href,
        )
    return made


def _plan_exercises(session: Session, client: User, pref: ReminderPreference, at: datetime) -> int:
    tz = _zone(client)
    today = at.astimezone(tz).date()
    rows = session.exec(
        select(ExerciseAssignment).where(
            ExerciseAssignment.client_id == client.id,
            ExerciseAssignment.status == ExerciseStatus.ASSIGNED,
            ExerciseAssignment.due_date == today,
        )
    ).all()
    made = 0
    for row in rows:
        due = r.release_from_quiet(r.local_instant(today, r.EXERCISE_TIME, tz), tz, quiet_of(pref))
        closes = r.end_of_day(today, tz)
        if due <= at < closes:
            made += outbox.enqueue(
                session,
                user_id=client.id or 0,
                kind=r.EXERCISE_DUE,
                slot=f"exercise-{row.id}",
                due_at=due,
                expires_at=closes,
                url=exercise_url(row.id or 0),
            )
    return made


def _open_ahead_steps(session: Session, dosing_id: int) -> int:
    return len(
        session.exec(
            select(ChecklistItem.id).where(
                ChecklistItem.dosing_session_id == dosing_id,
                ChecklistItem.required == True,  # noqa: E712
                ChecklistItem.done_at.is_(None),
                ChecklistItem.due_minutes_before >= r.PREP_AHEAD_MINUTES,
            )
        ).all()
    )


def _plan_preparation(session: Session, clients: dict[int, User], at: datetime) -> int:
    """48 h and 24 h before a session, when steps that can be done ahead are still open. A
    session booked inside 24 h gets only the 24 h reminder."""
    if not clients:
        return 0
    upcoming = session.exec(
        select(DosingSession).where(
            DosingSession.status == DosingStatus.SCHEDULED,
            DosingSession.scheduled_at > at,
            DosingSession.scheduled_at <= at + timedelta(hours=max(r.PREP_MARKS)),
            DosingSession.client_id.in_(list(clients)),
        )
    ).all()
    made = 0
    for dosing in upcoming:
        client = clients[dosing.client_id]
        start = as_utc(dosing.scheduled_at)
        marks = [h for h in r.PREP_MARKS if start - timedelta(hours=h) <= at]
        if not marks or not _open_ahead_steps(session, dosing.id or 0):
            continue
        hours = min(marks)  # the latest mark passed; an earlier one missed is not sent late
        tz = _zone(client)
        pref = preference(session, client.id or 0)
        due = r.release_from_quiet(start - timedelta(hours=hours), tz, quiet_of(pref))
        if due > at or due >= start:
            continue
        made += outbox.enqueue(
            session,
            user_id=client.id or 0,
            kind=r.PREP_OPEN,
            slot=f"{dosing.id}:{hours}h",
            due_at=due,
            expires_at=start,
            url=prepare_url(dosing.id or 0),
        )
    return made


def plan(session: Session, at: datetime) -> int:
    """Write every reminder due at ``at``; returns how many new rows were written."""
    clients = _reachable_clients(session)
    made = 0
    for client in clients:
        pref = preference(session, client.id or 0)
        made += _plan_checkin(session, client, pref, at)
        made += _plan_followups(session, client, at)
        made += _plan_exercises(session, client, pref, at)
    made += _plan_preparation(session, {c.id or 0: c for c in clients}, at)
    session.commit()
    return made


def still_wanted(session: Session, row: Notification, at: datetime) -> bool:
    """Asked just before sending: is the reminder still true?"""
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return False
    if row.kind == r.CHECKIN_DUE:
        return not _checked_in(session, user.id or 0, as_day(row.slot))
    if row.kind == r.FOLLOWUP_DUE:
        return any(item.key == row.slot for item in symptoms.todos(session, user, at))
    if row.kind == r.EXERCISE_DUE:
        assignment = session.get(ExerciseAssignment, _tail_id(row.slot))
        return assignment is not None and assignment.status == ExerciseStatus.ASSIGNED
    if row.kind == r.PREP_OPEN:
        dosing = session.get(DosingSession, _head_id(row.slot))
        return (
            dosing is not None
            and dosing.status == DosingStatus.SCHEDULED
            and as_utc(dosing.scheduled_at) > at
            and _open_ahead_steps(session, dosing.id or 0) > 0
        )
    if row.kind == r.ALERT_RAISED:
        alert = session.get(Alert, _head_id(row.slot))
        if alert is None or alert.status == AlertStatus.RESOLVED:
            return False
        # An acknowledgement given before this reminder was written (the urgent tier, then an
        # upgrade to emergency) does not cover it; one given since does.
        acknowledged = alert.acknowledged_at
        return (
            alert.status == AlertStatus.OPEN
            or acknowledged is None
            or as_utc(acknowledged) < as_utc(row.created_at)
        )
    if row.kind == r.ALERT_ESCALATED:  # while nobody has acknowledged it
        alert = session.get(Alert, _head_id(row.slot))
        return alert is not None and alert.status == AlertStatus.OPEN
    return False


def as_day(slot: str):
    from datetime import date

    try:
        return date.fromisoformat(slot)
    except ValueError:
        return None


def _head_id(slot: str) -> int:
    head = slot.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def _tail_id(slot: str) -> int:
    tail = slot.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0
