"""The caseload dashboard: one ``ClientSummary`` row per client, kept up to date as records are
written, read a page at a time.

Kept up to date: a session hook notes the client of every check-in, questionnaire, symptom report,
alert, dosing session, checklist item, course, consent, push subscription or reminder preference
that a flush writes, and recomputes those clients' rows just before the transaction commits, in
that transaction: the figures commit with the records, or neither does. A recomputation that fails
is logged (client id and error type only) and the row is marked stale; it never stops the write.

Rolled over: figures are for the client's local day (adherence windows move at midnight). Soon
after each client's midnight the notification worker's tick recomputes the rows computed for an
earlier day, a small batch per tick (``refresh_stale_rows``), so the first read of the day finds
them current.

Read: ``caseload`` joins the visible clients to their rows, sorted by ``attention`` (see
``domain.adherence.ATTENTION``), searched by name, filtered by recency tier and paged. Rows the
worker has not reached yet are recomputed first: up to a page of them, neediest first, then any
still stale on the page shown; a client without a row yet gets one. Within a day, figures that
move with the clock alone (a checklist step falling due) wait for the client's next write or the
next day.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import and_, event, inspect, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, func, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain import adherence as a
from kapjourney.domain.enums import COURSE_STATUS_LABELS, AlertStatus, CourseStatus, Role
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ChecklistItem,
    ClientSummary,
    ConsentSignature,
    ConsentWithdrawal,
    Course,
    DosingSession,
    PushSubscription,
    QuestionnaireResponse,
    ReminderPreference,
    SymptomReport,
    User,
)
from kapjourney.domain.progress import band_label, forgiving_streak, is_remission, is_response
from kapjourney.domain.schemas import Actor, CaseloadRow, CaseloadView
from kapjourney.routes import client_url
from kapjourney.services import audit
from kapjourney.services.clients import deny, visible_clients_query
from kapjourney.services.formatting import when
from kapjourney.services.reminders import HEALTH_WORDS
from kapjourney.services.validation import clean_text

log = logging.getLogger(__name__)

STREAK_LOOKBACK = 400  # days of check-ins read for the streak (as the progress page does)
SCORED = ("phq9", "gad7")
MAX_PER_PAGE = 100
STALE = date(1970, 1, 1)  # computed_for of a row whose recomputation failed: redo on next read


# --- Computing one client's row ----------------------------------------------------------------


def _checkins(session: Session, client_id: int, today: date) -> dict[date, tuple[bool, int | None]]:
    rows = session.exec(
        select(CheckIn.local_date, CheckIn.late, CheckIn.mood).where(
            CheckIn.client_id == client_id,
            CheckIn.status == "submitted",
            CheckIn.local_date > today - timedelta(days=STREAK_LOOKBACK),
            CheckIn.local_date <= today,
        )
    ).all()
    return {day: (bool(late), mood) for day, late, mood in rows}


def _last_checkin(session: Session, client_id: int, today: date) -> date | None:
    return session.exec(
        select(func.max(CheckIn.local_date)).where(
            CheckIn.client_id == client_id,
            CheckIn.status == "submitted",
            CheckIn.local_date <= today,
        )
    ).one()


def _scores(session: Session, client: User, course: Course | None) -> dict[str, a.ScoreFacts]:
    """Newest PHQ-9 and GAD-7 scores, with the course's first score as the baseline (the first
    ever when none was submitted since the course started); no baseline when the newest score is
    that first one."""
    rows = session.exec(
        select(
            QuestionnaireResponse.instrument,
            QuestionnaireResponse.score,
            QuestionnaireResponse.band,
            QuestionnaireResponse.submitted_at,
            QuestionnaireResponse.id,
        )
        .where(
            QuestionnaireResponse.client_id == client.id,
            QuestionnaireResponse.status == "submitted",
            QuestionnaireResponse.instrument.in_(SCORED),
            QuestionnaireResponse.score.is_not(None),
            QuestionnaireResponse.submitted_at.is_not(None),
        )
        .order_by(QuestionnaireResponse.submitted_at, QuestionnaireResponse.id)
    ).all()
    since = (
        datetime.combine(course.start_date, time(0), tzinfo=ZoneInfo(client.timezone))
        if course
        else datetime.min.replace(tzinfo=UTC)
    )
    facts = {}
    for key in SCORED:
        mine = [r for r in rows if r[0] == key]
        if not mine:
            continue
        first = ([r for r in mine if as_utc(r[3]) >= since] or mine)[0]
        _, score, band, _, latest_id = mine[-1]
        baseline = first[1] if first[4] != latest_id else None  # the latest is the baseline
        facts[key] = a.ScoreFacts(score, band or band_label(key, score), baseline)
    return facts


def _alert_counts(session: Session, client_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Alert.severity, func.count())
        .where(Alert.client_id == client_id, Alert.status != AlertStatus.RESOLVED)
        .group_by(Alert.severity)
    ).all()
    return {str(severity): n for severity, n in rows}


def _reminders(session: Session, client_id: int) -> str:
    devices = [
        a.Device(
            status=status,
            last_success=as_utc(ok) if ok else None,
            last_failure=as_utc(bad) if bad else None,
        )
        for status, ok, bad in session.exec(
            select(
                PushSubscription.status,
                PushSubscription.last_success_at,
                PushSubscription.last_failure_at,
            ).where(PushSubscription.user_id == client_id)
        ).all()
    ]
    pref = session.get(ReminderPreference, client_id)
    return a.reminder_state(
        devices,
        permission=pref.permission if pref else "",
        permission_at=as_utc(pref.permission_at) if pref and pref.permission_at else None,
    )


def _next_session(session: Session, client: User, at: datetime):
    # Imported here: plan and readiness pull in most services; this module loads with the package.
    from kapjourney.services.plan import next_session
    from kapjourney.services.readiness import session_readiness

    dosing = next_session(session, client.id or 0, at)
    if dosing is None:
        return None, ""
    return dosing, session_readiness(session, client, dosing, at=at, for_client=False).level


def _locked_row(session: Session, client: User, today: date) -> ClientSummary:
    """The client's row, locked (PostgreSQL) so two writers recompute it one after the other,
    each seeing what the other committed."""
    row = session.exec(
        select(ClientSummary).where(ClientSummary.client_id == client.id).with_for_update()
    ).first()
    return row or ClientSummary(
        client_id=client.id or 0, clinic_id=client.clinic_id, computed_for=today
    )


def refresh_summary(
    session: Session, client_id: int, at: datetime | None = None
) -> ClientSummary | None:
    """Recompute one client's row from their records (None for anyone but a client)."""
    client = session.get(User, client_id)
    if client is None or client.role != Role.CLIENT:
        return None
    at = at or now()
    today = local_today(client.timezone, at)
    row = _locked_row(session, client, today)
    course = session.exec(
        select(Course).where(Course.client_id == client.id).order_by(Course.created_at.desc())
    ).first()
    enrolled = a.enrolment_start(
        course.start_date if course else None, local_today(client.timezone, client.created_at)
    )
    checkins = _checkins(session, client.id or 0, today)
    late = {day: flag for day, (flag, _) in checkins.items()}
    moods = {day: mood for day, (_, mood) in checkins.items()}
    week, month = a.adherence(late, today, 7, enrolled), a.adherence(late, today, 30, enrolled)
    last = max(checkins) if checkins else _last_checkin(session, client.id or 0, today)
    scores = _scores(session, client, course)
    alerts = _alert_counts(session, client.id or 0)
    dosing, light = _next_session(session, client, at)
    row.clinic_id, row.computed_for, row.computed_at = client.clinic_id, today, at
    row.course_status = str(course.status) if course else ""
    row.on_time_7, row.late_7, row.days_7 = week.on_time, week.late, week.days
    row.on_time_30, row.late_30, row.days_30 = month.on_time, month.late, month.days
    row.last_checkin_date, row.recency = last, a.recency(last, today)
    row.streak = forgiving_streak(checkins, today).checkins
    row.last_mood, row.mood_14d = a.last_mood(moods), json.dumps(a.mood_series(moods, today))
    for key in SCORED:
        facts = scores.get(key, a.ScoreFacts(None, "", None))
        setattr(row, f"{key}_score", facts.score)
        setattr(row, f"{key}_band", facts.band)
        setattr(row, f"{key}_baseline", facts.baseline)
    row.next_session_id = dosing.id if dosing else None
    row.next_session_at = as_utc(dosing.scheduled_at) if dosing else None
    row.readiness = light
    row.alerts_emergency = alerts.get("emergency", 0)
    row.alerts_urgent = alerts.get("urgent", 0)
    row.alerts_routine = alerts.get("routine", 0)
    row.reminders = _reminders(session, client.id or 0)
    row.attention = a.attention(_attention_facts(row, client, today, enrolled, scores))
    session.add(row)
    session.flush()
    return row


def _attention_facts(row, client: User, today: date, enrolled: date, scores) -> a.AttentionFacts:
    soon = row.next_session_at is not None and (
        local_today(client.timezone, row.next_session_at) <= today + timedelta(days=1)
    )
    return a.AttentionFacts(
        emergency=row.alerts_emergency,
        urgent=row.alerts_urgent,
        routine=row.alerts_routine,
        readiness=row.readiness,
        session_soon=soon,
        recency=row.recency,
        enrolled_days=max(0, (today - enrolled).days + 1),
        score_worse=any(a.is_worse(f) for f in scores.values()),
        reminders=row.reminders,
    )


# --- Kept up to date as records are written ----------------------------------------------------

_CLIENT_KEYED = (
    CheckIn,
    QuestionnaireResponse,
    SymptomReport,
    Alert,
    DosingSession,
    ChecklistItem,
    Course,
    ConsentSignature,
    ConsentWithdrawal,
)
_USER_KEYED = (PushSubscription, ReminderPreference)
_DRAFTED = (CheckIn, QuestionnaireResponse, SymptomReport)
_USER_FIELDS = ("timezone", "created_at", "role", "clinic_id")
_PENDING = "kj_summary_pending"  # session.info keys
_PENDING_REMINDERS = "kj_summary_reminders_pending"  # only a device or preference changed
_BUSY = "kj_summary_busy"


def _client_of(obj: object) -> int | None:
    if isinstance(obj, _DRAFTED) and obj.status == "draft":
        # A draft saved answer by answer moves no figure until it is submitted.
        return obj.client_id if inspect(obj).attrs.status.history.deleted else None
    if isinstance(obj, _CLIENT_KEYED):
        return obj.client_id
    if isinstance(obj, _USER_KEYED):
        return obj.user_id
    if isinstance(obj, User) and obj.role == Role.CLIENT and obj.id:
        # Only what moves the figures: their local day, their enrolment (not each sign-in).
        state = inspect(obj)
        if any(state.attrs[key].history.has_changes() for key in _USER_FIELDS):
            return obj.id
    return None


@event.listens_for(OrmSession, "before_flush")
def _note_touched(session, _flush_context, _instances) -> None:
    pending = session.info.setdefault(_PENDING, set())
    devices = session.info.setdefault(_PENDING_REMINDERS, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        client_id = _client_of(obj)
        if client_id:
            # A push attempt touches the device row every send: that moves at most the
            # reminder-delivery word, checked cheaply before any full recomputation.
            (devices if isinstance(obj, _USER_KEYED) else pending).add(client_id)


@event.listens_for(OrmSession, "after_flush")
def _note_new_clients(session, _flush_context) -> None:
    # A client created in this flush has its id only now.
    for obj in session.new:
        if isinstance(obj, User) and obj.role == Role.CLIENT and obj.id:
            session.info.setdefault(_PENDING, set()).add(obj.id)


@event.listens_for(OrmSession, "before_commit")
def _refresh_touched(session) -> None:
    if session.info.get(_BUSY) or session.in_nested_transaction():
        return
    session.info[_BUSY] = True
    try:
        session.flush()  # notes what is still unflushed
        done: set[int] = set()
        for _ in range(3):  # a recomputation may flush records of the same clients again
            todo = session.info.pop(_PENDING, set()) - done
            devices = session.info.pop(_PENDING_REMINDERS, set()) - done - todo
            todo |= {c for c in devices if _reminders_moved(session, c)}
            if not todo:
                break
            at = now()
            for client_id in sorted(todo):
                _refresh_safely(session, client_id, at)
            done |= todo
    finally:
        session.info[_BUSY] = False
        session.info.pop(_PENDING, None)
        session.info.pop(_PENDING_REMINDERS, None)


def _reminders_moved(session: Session, client_id: int) -> bool:
    """Whether a client's reminder-delivery word differs from their summary row's (or they
    have no row yet): only then is the whole row worth recomputing."""
    row = session.get(ClientSummary, client_id)
    return row is None or row.reminders != _reminders(session, client_id)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_touched(session, transaction) -> None:
    if transaction.parent is None:  # the outer transaction ended: committed or rolled back
        session.info.pop(_PENDING, None)
        session.info.pop(_PENDING_REMINDERS, None)


def _refresh_safely(session: Session, client_id: int, at: datetime) -> None:
    try:
        with session.begin_nested():
            refresh_summary(session, client_id, at)
    except Exception as exc:  # the records must commit even if their summary cannot
        log.warning(
            "client summary of client %s not recomputed (%s): marked stale",
            client_id,
            type(exc).__name__,
        )
        session.execute(
            update(ClientSummary)
            .where(ClientSummary.client_id == client_id)
            .values(computed_for=STALE)
        )


def refresh_all(session: Session, at: datetime | None = None, clinic_id: int | None = None) -> int:
    """Recompute every client's row (the demo seed, the benchmark, a backfill)."""
    query = select(User.id).where(User.role == Role.CLIENT)
    if clinic_id is not None:
        query = query.where(User.clinic_id == clinic_id)
    ids = session.exec(query.order_by(User.id)).all()
    at = at or now()
    for client_id in ids:
        refresh_summary(session, client_id, at)
    return len(ids)


# --- Reading the caseload ----------------------------------------------------------------------


def _filtered(actor: Actor, query: str, recency: str):
    visible = visible_clients_query(actor).with_only_columns(User.id)
    stmt = (
        select(User, ClientSummary)
        .join(ClientSummary, ClientSummary.client_id == User.id)
        .where(User.id.in_(visible))
    )
    if query:
        stmt = stmt.where(func.lower(User.display_name).contains(query.lower(), autoescape=True))
    if recency:
        stmt = stmt.where(ClientSummary.recency == recency)
    return stmt


def _page(session: Session, stmt, page: int, per_page: int) -> list[tuple[User, ClientSummary]]:
    ordered = stmt.order_by(ClientSummary.attention.desc(), User.display_name, User.id)
    return list(session.exec(ordered.offset((page - 1) * per_page).limit(per_page)).all())


def _fill_missing(session: Session, actor: Actor, at: datetime) -> None:
    """Clients without a row yet (created before this table, or by a bulk load) get one."""
    missing = session.exec(
        visible_clients_query(actor)
        .outerjoin(ClientSummary, ClientSummary.client_id == User.id)
        .where(ClientSummary.client_id.is_(None))
    ).all()
    for client in missing:
        refresh_summary(session, client.id or 0, at)


def _stale_rows(session: Session, at: datetime, limit: int, among=None) -> list[tuple[int, date]]:
    """Up to ``limit`` rows computed for another day than their client's local today at ``at``,
    neediest first, as (client id, computed_for); only the clients ``among`` (a query of user
    ids) when given. One condition per local date the clients' time zones are on, in SQL."""
    zones = session.exec(select(User.timezone).where(User.role == Role.CLIENT).distinct()).all()
    days: dict[date, list[str]] = {}
    for tz in zones:
        days.setdefault(local_today(tz, at), []).append(tz)
    if not days:
        return []
    stmt = (
        select(ClientSummary.client_id, ClientSummary.computed_for)
        .join(User, User.id == ClientSummary.client_id)
        .where(
            or_(
                *(
                    and_(User.timezone.in_(tzs), ClientSummary.computed_for != day)
                    for day, tzs in days.items()
                )
            )
        )
    )
    if among is not None:
        stmt = stmt.where(User.id.in_(among))
    stmt = stmt.order_by(ClientSummary.attention.desc(), ClientSummary.client_id).limit(limit)
    return [(client_id, day) for client_id, day in session.exec(stmt).all()]


def _refresh_stale(session: Session, actor: Actor, at: datetime, budget: int) -> None:
    """Recompute up to ``budget`` of the actor's rows computed for an earlier local day,
    neediest first, so that the order and the recency filter follow the clock as well as the
    records."""
    visible = visible_clients_query(actor).with_only_columns(User.id)
    for client_id, _ in _stale_rows(session, at, budget, among=visible):
        refresh_summary(session, client_id, at)


def refresh_stale_rows(session: Session, at: datetime | None = None, limit: int = 100) -> int:
    """The midnight roll-over, run by the notification worker's tick: recompute up to ``limit``
    rows of any clinic computed for an earlier local day than their client's today, neediest
    first, so a clinician's first read of the day finds them current. Each row is claimed by a
    conditional update before it is recomputed, so workers ticking together share the rows
    instead of each recomputing all of them. Returns how many it recomputed; the caller
    commits (keep ``limit`` small: the rows stay locked until then)."""
    at = at or now()
    done = 0
    for client_id, day in _stale_rows(session, at, limit):
        claimed = session.execute(
            update(ClientSummary)
            .where(ClientSummary.client_id == client_id, ClientSummary.computed_for == day)
            .values(computed_at=at)
        )
        if claimed.rowcount != 1:  # another worker recomputed it meanwhile
            continue
        _refresh_safely(session, client_id, at)
        done += 1
    return done


def _score(key: str, row: ClientSummary) -> str:
    facts = a.ScoreFacts(
        getattr(row, f"{key}_score"), getattr(row, f"{key}_band"), getattr(row, f"{key}_baseline")
    )
    later = facts.change is not None
    return a.score_text(
        facts,
        response=later and is_response(facts.baseline, facts.score),
        remission=later and is_remission(key, facts.score),
    )


def _stage(code: str) -> str:
    try:
        return COURSE_STATUS_LABELS[CourseStatus(code)]
    except ValueError:
        return "No course"


def _view_row(client: User, row: ClientSummary, tz: str, at: datetime) -> CaseloadRow:
    return CaseloadRow(
        client_id=client.id or 0,
        name=client.display_name,
        stage=_stage(row.course_status),
        on_time_7=row.on_time_7,
        late_7=row.late_7,
        days_7=row.days_7,
        on_time_30=row.on_time_30,
        late_30=row.late_30,
        days_30=row.days_30,
        recency=row.recency,
        recency_label=a.RECENCY_LABELS.get(row.recency, ""),
        streak=row.streak,
        last_mood=row.last_mood,
        mood_14d=json.loads(row.mood_14d or "[]"),
        phq9=_score("phq9", row),
        gad7=_score("gad7", row),
        next_session=when(row.next_session_at, tz, reference=at) if row.next_session_at else "",
        readiness=row.readiness,
        alerts_emergency=row.alerts_emergency,
        alerts_urgent=row.alerts_urgent,
        alerts_routine=row.alerts_routine,
        reminders=HEALTH_WORDS[row.reminders][0] if row.reminders in HEALTH_WORDS else "",
        href=client_url(client.id or 0),
        reminders_state=row.reminders,
        attention=row.attention,
    )


def caseload(
    session: Session,
    actor: Actor,
    *,
    query: object = "",
    recency: object = "",
    page: object = 1,
    per_page: object = 25,
) -> CaseloadView:
    """The actor's caseload (a clinician's assigned clients, an admin's clinic), neediest first.
    A client actor is refused as not found. One ``caseload_viewed`` audit event per call."""
    if not actor.is_staff:
        raise deny(actor, "caseload_viewed")
    at = now()
    text = clean_text(query, max_length=80)[:80]
    tier = recency if isinstance(recency, str) and recency in a.RECENCY_LABELS else ""
    size = per_page if type(per_page) is int and 1 <= per_page <= MAX_PER_PAGE else 25
    _fill_missing(session, actor, at)
    _refresh_stale(session, actor, at, budget=size)
    stmt = _filtered(actor, text, tier)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    pages = max(1, ceil(total / size))
    number = min(page, pages) if type(page) is int and page >= 1 else 1
    rows = _page(session, stmt, number, size)
    stale = [c.id for c, s in rows if s.computed_for != local_today(c.timezone, at)]
    for client_id in stale:  # more stale rows than the budget: at least this page is current
        refresh_summary(session, client_id or 0, at)
    if stale:  # recomputed figures may move rows: read the page again
        rows = _page(session, stmt, number, size)
    audit.record(
        session,
        action="caseload_viewed",
        actor_id=actor.user_id,
        ip=actor.ip,
        detail=f"rows={len(rows)} total={total}",
    )
    return CaseloadView(
        rows=[_view_row(c, s, actor.timezone, at) for c, s in rows],
        total=total,
        page=number,
        pages=pages,
        query=text,
        recency=tier,
    )
