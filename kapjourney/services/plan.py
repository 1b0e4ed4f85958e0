"""The course plan: scheduling, moving, cancelling and completing dosing sessions.

Times are entered and shown in the client's time zone (the session happens where they are).
Session numbers follow time order among the sessions that are not cancelled.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.enums import (
    ROUTE_LABELS,
    SETTING_LABELS,
    CourseStatus,
    DosingRoute,
    DosingSetting,
    DosingStatus,
)
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import Course, DosingSession, User
from kapjourney.domain.schemas import (
    Actor,
    PlanSessionView,
    PlanStepView,
    PlanView,
    SessionSchedule,
)
from kapjourney.routes import CONSENT, SCREENING, prepare_url
from kapjourney.services import alerts, audit, consent, screening
from kapjourney.services.checklists import items_for, load_dosing, sync_checklist
from kapjourney.services.clients import deny, load_client, load_client_for_staff, own_or
from kapjourney.services.formatting import when
from kapjourney.services.protocol import protocol_for
from kapjourney.services.readiness import session_readiness
from kapjourney.services.validation import clean_text

STATUS_LABELS = {
    DosingStatus.SCHEDULED: "Scheduled",
    DosingStatus.COMPLETED: "Done",
    DosingStatus.CANCELLED: "Cancelled",
    DosingStatus.ON_HOLD: "On hold",
}
MAX_AHEAD = timedelta(days=730)
MAX_SESSIONS = 48
# A session stays "next" for this long after its start, so today's session is shown while it runs.
IN_PROGRESS = timedelta(hours=6)


HOLD_LABEL = "On hold: care team review"


def parse_local(value: object, tz: str) -> datetime:
    """ "2026-11-22T10:00" in ``tz`` -> aware UTC, or ``ValidationFailed`` at the field."""
    raw = value.strip() if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}", raw):
        raise ValidationFailed({"local_datetime": "Choose a date and a time."})
    try:
        naive = datetime.strptime(raw[:16], "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - zone added below
    except ValueError:
        raise ValidationFailed({"local_datetime": "Choose a date and a time."}) from None
    at = naive.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))
    if at <= now():
        raise ValidationFailed({"local_datetime": "Choose a time in the future."})
    if at > now() + MAX_AHEAD:
        raise ValidationFailed({"local_datetime": "Choose a time within the next two years."})
    return at


def _choice(enum: type, value: object, field: str, message: str):
    try:
        return enum(value)
    except ValueError:
        raise ValidationFailed({field: message}) from None


def _renumber(session: Session, course_id: int) -> None:
    rows = session.exec(
        select(DosingSession)
        .where(DosingSession.course_id == course_id, DosingSession.status != DosingStatus.CANCELLED)
        .order_by(DosingSession.scheduled_at, DosingSession.id)
    ).all()
    for number, row in enumerate(rows, 1):
        if row.number != number:
            row.number = number
            session.add(row)
    session.flush()


def _ensure_course(session: Session, client: User) -> Course:
    course = screening.latest_course(session, client.id or 0)
    if course is None:
        protocol = protocol_for(session, client.clinic_id)
        course = Course(
            client_id=client.id or 0,
            clinic_id=client.clinic_id,
            start_date=local_today(client.timezone),
            planned_sessions=protocol.dosing_sessions,
        )
        session.add(course)
        session.flush()
    return course


def _audit(session: Session, actor: Actor, client: User, dosing: DosingSession, action: str):
    audit.record(
        session,
        action=action,
        actor_id=actor.user_id,
        subject_client_id=client.id,
        target=f"dosing:{dosing.id}",
        ip=actor.ip,
    )


def schedule_session(
    *, session: Session, actor: Actor, client_id: object, data: SessionSchedule
) -> PlanView:
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="dosing_scheduled"
    )
    problems: dict[str, str] = {}
    at = route = setting = None
    for field, parse in (
        ("local_datetime", lambda: parse_local(data.local_datetime, client.timezone)),
        ("route", lambda: _choice(DosingRoute, data.route, "route", "Choose how it is given.")),
        ("setting", lambda: _choice(DosingSetting, data.setting, "setting", "Choose where.")),
    ):
        try:
            value = parse()
        except ValidationFailed as problem:
            problems.update(problem.fields)
            continue
        if field == "local_datetime":
            at = value
        elif field == "route":
            route = value
        else:
            setting = value
    if problems:
        raise ValidationFailed(problems)
    course = _ensure_course(session, client)
    active = [
        s
        for s in session.exec(select(DosingSession).where(DosingSession.course_id == course.id))
        if s.status != DosingStatus.CANCELLED
    ]
    if len(active) >= MAX_SESSIONS:
        raise ValidationFailed({"form": f"A course can have at most {MAX_SESSIONS} sessions."})
    dosing = DosingSession(
        course_id=course.id or 0,
        client_id=client.id or 0,
        number=len(active) + 1,
        scheduled_at=at,
        route=route,
        setting=setting,
    )
    session.add(dosing)
    if len(active) + 1 > course.planned_sessions:
        course.planned_sessions = len(active) + 1
    session.add(course)
    session.flush()
    _renumber(session, course.id or 0)
    sync_checklist(session, dosing, clinic_id=client.clinic_id)
    _audit(session, actor, client, dosing, "dosing_scheduled")
    return _plan(session, client, actor)


def _staff_dosing(session: Session, actor: Actor, dosing_session_id: object, purpose: str):
    if not actor.is_staff:
        raise deny(actor, purpose)
    return load_dosing(session, actor=actor, dosing_session_id=dosing_session_id, purpose=purpose)


def move_session(
    *, session: Session, actor: Actor, dosing_session_id: object, data: SessionSchedule
) -> PlanView:
    """Move a scheduled session (time, and optionally route or setting); its checklist follows."""
    dosing, client = _staff_dosing(session, actor, dosing_session_id, "dosing_moved")
    if dosing.status != DosingStatus.SCHEDULED:
        raise ValidationFailed({"form": "Only a scheduled session can be moved."})
    dosing.scheduled_at = parse_local(data.local_datetime, client.timezone)
    if data.route:
        dosing.route = _choice(DosingRoute, data.route, "route", "Choose how it is given.")
    if data.setting:
        dosing.setting = _choice(DosingSetting, data.setting, "setting", "Choose where.")
    dosing.updated_at = now()
    session.add(dosing)
    session.flush()
    _renumber(session, dosing.course_id)
    sync_checklist(session, dosing, clinic_id=client.clinic_id)
    _audit(session, actor, client, dosing, "dosing_moved")
    return _plan(session, client, actor)


def cancel_session(
    *, session: Session, actor: Actor, dosing_session_id: object, reason: object = ""
) -> PlanView:
    dosing, client = _staff_dosing(session, actor, dosing_session_id, "dosing_cancelled")
    if dosing.status != DosingStatus.SCHEDULED:
        raise ValidationFailed({"form": "Only a scheduled session can be cancelled."})
    text = clean_text(reason, max_length=500)
    if len(text) > 500:
        raise ValidationFailed({"reason": "Use at most 500 characters."})
    dosing.status = DosingStatus.CANCELLED
    dosing.cancel_reason = text
    dosing.updated_at = now()
    session.add(dosing)
    session.flush()
    _renumber(session, dosing.course_id)
    _audit(session, actor, client, dosing, "dosing_cancelled")
    return _plan(session, client, actor)


def complete_session(*, session: Session, actor: Actor, dosing_session_id: object) -> PlanView:
    """Record that a session took place (from its start time on)."""
    dosing, client = _staff_dosing(session, actor, dosing_session_id, "dosing_completed")
    if dosing.status != DosingStatus.SCHEDULED:
        raise ValidationFailed({"form": "Only a scheduled session can be marked done."})
    if as_utc(dosing.scheduled_at) > now():
        raise ValidationFailed({"form": "A session can be marked done once it has started."})
    dosing.status = DosingStatus.COMPLETED
    dosing.updated_at = now()
    session.add(dosing)
    session.flush()
    advance_course(session, client)
    _audit(session, actor, client, dosing, "dosing_completed")
    return _plan(session, client, actor)


def advance_course(session: Session, client: User) -> None:
    """Move the course to the stage its facts show (never out of on-hold, withdrawn, completed)."""
    course = screening.latest_course(session, client.id or 0)
    if course is None or course.status in (
        CourseStatus.ON_HOLD,
        CourseStatus.WITHDRAWN,
        CourseStatus.COMPLETED,
    ):
        return
    done = len(
        session.exec(
            select(DosingSession.id).where(
                DosingSession.course_id == course.id,
                DosingSession.status == DosingStatus.COMPLETED,
            )
        ).all()
    )
    state, _, _ = consent.consent_state(session, client)
    _, reviewed, _ = screening.screening_status(session, client)
    if done >= course.planned_sessions:
        stage = CourseStatus.INTEGRATION
    elif done:
        stage = CourseStatus.DOSING
    elif state == "current" and reviewed:
        stage = CourseStatus.PREPARATION
    else:
        stage = CourseStatus.SCREENING
    if course.status != stage:
        course.status = stage
        session.add(course)
        session.flush()


def consent_detail(consent_state: str) -> str:
    return {
        "current": "Signed",
        "outdated": "Updated: please sign again",
        "withdrawn": "Withdrawn",
    }.get(consent_state, "To sign")


def next_session(session: Session, client_id: int, at: datetime) -> DosingSession | None:
    """The session a client prepares for: the first scheduled one not long past its start."""
    return session.exec(
        select(DosingSession)
        .where(
            DosingSession.client_id == client_id,
            DosingSession.status == DosingStatus.SCHEDULED,
            DosingSession.scheduled_at >= at - IN_PROGRESS,
        )
        .order_by(DosingSession.scheduled_at, DosingSession.id)
    ).first()


def _stages(
    consent_state: str, complete: bool, reviewed: bool, done: int, planned: int
) -> list[PlanStepView]:
    consent_ok = consent_state == "current"
    sessions_state = "done" if planned and done >= planned else "current"
    if not (consent_ok and complete):
        sessions_state = "upcoming"
    return [
        PlanStepView(
            label="Informed consent",
            state="done" if consent_ok else "current",
            detail=consent_detail(consent_state),
        ),
        PlanStepView(
            label="Health screening",
            state="done" if complete else ("current" if consent_ok else "upcoming"),
            detail=("Reviewed" if reviewed else "Waiting for review") if complete else "To do",
        ),
        PlanStepView(
            label="Dosing sessions", state=sessions_state, detail=f"{done} of {planned} done"
        ),
        PlanStepView(
            label="Integration",
            state="current" if sessions_state == "done" else "upcoming",
            detail="Reflect and make sense of the experience",
        ),
    ]


def _plan(session: Session, client: User, actor: Actor) -> PlanView:
    tz = client.timezone
    course = screening.latest_course(session, client.id or 0)
    state, _, _ = consent.consent_state(session, client)
    complete, reviewed, _ = screening.screening_status(session, client)
    rows = (
        session.exec(
            select(DosingSession)
            .where(DosingSession.course_id == course.id)
            .order_by(DosingSession.scheduled_at, DosingSession.id)
        ).all()
        if course
        else []
    )
    at = now()
    upcoming_session = next_session(session, client.id or 0, at)
    next_id = upcoming_session.id if upcoming_session else None
    # An unresolved urgent or emergency alert holds the next session until a clinician reviews.
    held = next_id is not None and alerts.open_blocking_count(session, client.id or 0) > 0
    sessions = []
    for r in rows:
        items = items_for(session, r.id or 0) if r.status == DosingStatus.SCHEDULED else []
        upcoming = r.status == DosingStatus.SCHEDULED
        sessions.append(
            PlanSessionView(
                dosing_session_id=r.id or 0,
                number=r.number,
                when=when(r.scheduled_at, tz),
                local_value=as_utc(r.scheduled_at)
                .astimezone(ZoneInfo(tz))
                .strftime("%Y-%m-%dT%H:%M"),
                route=r.route,
                route_label=ROUTE_LABELS[DosingRoute(r.route)],
                setting=r.setting,
                setting_label=SETTING_LABELS[DosingSetting(r.setting)],
                status=r.status,
                status_label=HOLD_LABEL
                if held and r.id == next_id
                else STATUS_LABELS[DosingStatus(r.status)],
                is_next=r.id == next_id,
                can_complete=upcoming and as_utc(r.scheduled_at) <= at,
                readiness=session_readiness(session, client, r, at=at, for_client=actor.is_client)
                if upcoming
                else None,
                steps_done=sum(1 for i in items if i.done_at is not None),
                steps_total=len(items),
            )
        )
    done = sum(1 for r in rows if r.status == DosingStatus.COMPLETED)
    planned = course.planned_sessions if course else 0
    action, href = "", ""
    if state != "current":
        action, href = "Read and sign your consent", CONSENT
    elif not complete:
        action, href = "Finish your health screening", SCREENING
    elif next_id is not None:
        nxt = next(s for s in sessions if s.dosing_session_id == next_id)
        if nxt.steps_done < nxt.steps_total:
            action, href = f"Prepare for session {nxt.number}", prepare_url(next_id)
    return PlanView(
        client_id=client.id or 0,
        client_name=client.display_name,
        timezone=tz,
        has_course=course is not None,
        planned=planned,
        done=done,
        stages=_stages(state, complete, reviewed, done, planned),
        sessions=sessions,
        next_action=action,
        next_action_href=href,
    )


def get_plan(*, session: Session, actor: Actor, client_id: object = None) -> PlanView:
    """The course timeline: the client's own, or a client in the actor's care."""
    target = own_or(actor, client_id, "plan_viewed")
    client = load_client(session, actor=actor, client_id=target, purpose="plan_viewed")
    return _plan(session, client, actor)
