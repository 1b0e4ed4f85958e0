"""The alert inbox: the care team's open alerts, acknowledged, resolved, reassigned, escalated.

A clinician sees the alerts of her caseload and any alert reassigned to her; an admin sees the
clinic's. Anyone else, or an alert out of reach, is "not found" (and the denial is audited).
Every step is audited; audit rows name the alert id, never its reason (reasons are health data).

Escalation runs on the reminder worker's tick: an emergency left unacknowledged for the clinic's
emergency minutes (an urgent one for its urgent minutes) is marked escalated once, by a
conditional update, so any number of workers escalate it once; the push to every clinician and
admin of the clinic is written to the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import AlertSeverity, AlertStatus, Role
from kapjourney.domain.errors import AccessDenied, ValidationFailed
from kapjourney.domain.models import Alert, ClinicianAssignment, User
from kapjourney.domain.reminders import ALERT_ESCALATED, ALERT_RAISED
from kapjourney.domain.safety import ALERT_REASONS
from kapjourney.domain.schemas import Actor, InboxRow, InboxView
from kapjourney.routes import ALERTS
from kapjourney.services import audit, outbox
from kapjourney.services.clients import fetch
from kapjourney.services.formatting import when
from kapjourney.services.protocol import protocol_for
from kapjourney.services.validation import clean_text

OUTCOMES = {
    "contacted_client": "Contacted the client",
    "session_held": "Saw the client in a session",
    "referred": "Referred on (urgent care, GP, crisis team)",
    "no_action_needed": "Reviewed: no action needed",
    "other": "Other (see the note)",
}
SOURCES = {
    "symptom_report": "After-session report",
    "questionnaire": "Questionnaire",
    "checklist_item": "Preparation checklist",
    "checkin": "Daily check-in",
}
TIER = {AlertSeverity.EMERGENCY: 0, AlertSeverity.URGENT: 1, AlertSeverity.ROUTINE: 2}
ESCALATION_TTL = timedelta(hours=1)


def _caseload(session: Session, actor: Actor) -> set[int]:
    return set(
        session.exec(
            select(ClinicianAssignment.client_id).where(
                ClinicianAssignment.clinician_id == actor.user_id
            )
        ).all()
    )


def _denied(actor: Actor, alert: Alert | None, purpose: str) -> AccessDenied:
    # As for every client record (services.clients.load_client): a staff member's refusal names
    # the client the alert is about; one refused by role (a client) names no one.
    named = alert is not None and actor.is_staff
    return AccessDenied(
        "alert",
        actor_id=actor.user_id,
        subject_client_id=alert.client_id if named and alert else None,
        target=purpose,
        ip=actor.ip,
    )


def _reaches(session: Session, actor: Actor, alert: Alert) -> bool:
    if not actor.is_staff or alert.clinic_id != actor.clinic_id:
        return False
    if actor.role == Role.ADMIN or alert.assigned_to_id == actor.user_id:
        return True
    return alert.client_id in _caseload(session, actor)


def _load(session: Session, actor: Actor, alert_id: object, purpose: str) -> Alert:
    alert = fetch(session, Alert, alert_id)
    if alert is None or not _reaches(session, actor, alert):
        raise _denied(actor, alert, purpose)
    return alert


def _record(session: Session, actor: Actor | None, action: str, alert: Alert, extra: str = ""):
    audit.record(
        session,
        action=action,
        actor_id=actor.user_id if actor else None,
        subject_client_id=alert.client_id,
        ip=actor.ip if actor else "",
        detail=f"alert={alert.id}{extra}",
    )


def waited(since: datetime, at: datetime) -> str:
    """Time since an alert was raised: "just now", "12 min", "3 h 5 min", "2 d 4 h"."""
    minutes = max(0, int((at - as_utc(since)).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {uid: name for uid, name in rows}


def _clinicians(session: Session, clinic_id: int) -> list[tuple[int, str]]:
    rows = session.exec(
        select(User.id, User.display_name)
        .where(User.clinic_id == clinic_id, User.role == Role.CLINICIAN, User.is_active == True)  # noqa: E712
        .order_by(User.display_name)
    ).all()
    return [(uid, name) for uid, name in rows]


def list_inbox(*, session: Session, actor: Actor, record: bool = True) -> InboxView:
    """Open and acknowledged alerts within reach, gravest tier first, then longest waiting.
    ``record`` audits the read (the page's first load; its live refreshes are not repeated)."""
    if not actor.is_staff:
        raise _denied(actor, None, "alert_inbox_viewed")
    query = select(Alert).where(
        Alert.clinic_id == actor.clinic_id, Alert.status != AlertStatus.RESOLVED
    )
    caseload: set[int] = set()
    if actor.role == Role.CLINICIAN:
        caseload = _caseload(session, actor)
        query = query.where(
            or_(Alert.client_id.in_(caseload or {-1}), Alert.assigned_to_id == actor.user_id)
        )
    alerts = sorted(
        session.exec(query).all(),
        key=lambda a: (TIER.get(AlertSeverity(a.severity), 3), as_utc(a.created_at), a.id),
    )
    people = {a.client_id for a in alerts} | {
        uid for a in alerts for uid in (a.acknowledged_by_id, a.assigned_to_id) if uid
    }
    names = _names(session, people)
    at = now()
    rows = [
        InboxRow(
            alert_id=a.id or 0,
            client_id=a.client_id,
            client_name=names.get(a.client_id, ""),
            can_open_client=actor.role == Role.ADMIN or a.client_id in caseload,
            severity=a.severity,
            status=a.status,
            reason=ALERT_REASONS.get(a.reason_code, "Worrying answer"),
            source=SOURCES.get(a.source_kind, "Record"),
            raised=when(a.created_at, actor.timezone, reference=at),
            waiting=waited(a.created_at, at),
            acknowledged_by=names.get(a.acknowledged_by_id or 0, ""),
            acknowledged=when(a.acknowledged_at, actor.timezone, reference=at)
            if a.acknowledged_at
            else "",
            escalated=a.escalated_at is not None,
            assigned_to=names.get(a.assigned_to_id or 0, ""),
        )
        for a in alerts
    ]
    if record:
        audit.record(
            session,
            action="alert_inbox_viewed",
            actor_id=actor.user_id,
            ip=actor.ip,
            detail=f"alerts={len(rows)}",
        )
    return InboxView(
        rows=rows,
        clinicians=_clinicians(session, actor.clinic_id),
        outcomes=list(OUTCOMES.items()),
    )


def acknowledge(*, session: Session, actor: Actor, alert_id: object) -> None:
    """Who saw it, and when. Acknowledging twice keeps the first."""
    alert = _load(session, actor, alert_id, "alert_acknowledged")
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now()
        alert.acknowledged_by_id = actor.user_id
        session.add(alert)
    _record(session, actor, "alert_acknowledged", alert)


def resolve(
    *, session: Session, actor: Actor, alert_id: object, note: object, outcome: object
) -> None:
    """Close an alert with a note of what was done and an outcome from ``OUTCOMES``."""
    alert = _load(session, actor, alert_id, "alert_resolved")
    text = clean_text(note, max_length=2000)
    problems = {}
    if len(text) < 3:
        problems["note"] = "Write a short note of what was done."
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        problems["outcome"] = "Choose what came of it."
    if problems:
        raise ValidationFailed(problems)
    if alert.status != AlertStatus.RESOLVED:
        at = now()
        if alert.acknowledged_at is None:
            alert.acknowledged_at = at
            alert.acknowledged_by_id = actor.user_id
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = at
        alert.resolved_by_id = actor.user_id
        alert.resolution_note = text
        alert.outcome = str(outcome)
        session.add(alert)
    _record(session, actor, "alert_resolved", alert, f" outcome={outcome}")


def reassign(*, session: Session, actor: Actor, alert_id: object, clinician_id: object) -> None:
    """Hand an alert to another clinician of the clinic, who is pushed to open the inbox."""
    alert = _load(session, actor, alert_id, "alert_reassigned")
    target = fetch(session, User, clinician_id)
    if (
        target is None
        or target.role != Role.CLINICIAN
        or not target.is_active
        or target.clinic_id != actor.clinic_id
    ):
        raise ValidationFailed({"clinician": "Choose a clinician of your clinic."})
    if alert.status == AlertStatus.RESOLVED:
        raise ValidationFailed({"clinician": "This alert is already resolved."})
    alert.assigned_to_id = target.id
    session.add(alert)
    session.flush()
    at = now()
    outbox.enqueue(
        session,
        user_id=target.id or 0,
        kind=ALERT_RAISED,
        slot=f"{alert.id}:to:{target.id}",
        due_at=at,
        expires_at=at + outbox.ALERT_TTL,
        url=ALERTS,
    )
    _record(session, actor, "alert_reassigned", alert, f" to={target.id}")


def _due(alert: Alert, minutes: dict[int, tuple[int, int]], session: Session, at: datetime):
    if alert.clinic_id not in minutes:
        protocol = protocol_for(session, alert.clinic_id)
        minutes[alert.clinic_id] = (
            protocol.escalate_emergency_minutes,
            protocol.escalate_urgent_minutes,
        )
    emergency, urgent = minutes[alert.clinic_id]
    wait = emergency if alert.severity == AlertSeverity.EMERGENCY else urgent
    return as_utc(alert.created_at) + timedelta(minutes=wait) <= at


def _escalate_one(session: Session, alert_id: int, at: datetime) -> bool:
    won = session.execute(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.status == AlertStatus.OPEN,
            Alert.escalated_at.is_(None),
        )
        .values(escalated_at=at)
    )
    if won.rowcount != 1:  # another worker escalated it, or it was acknowledged meanwhile
        session.rollback()
        return False
    alert = session.get(Alert, alert_id)
    staff = session.exec(
        select(User.id)
        .where(
            User.clinic_id == alert.clinic_id,
            User.role.in_((Role.CLINICIAN, Role.ADMIN)),
            User.is_active == True,  # noqa: E712
        )
        .order_by(User.id)
    ).all()
    for user_id in staff:
        outbox.enqueue(
            session,
            user_id=user_id,
            kind=ALERT_ESCALATED,
            slot=f"{alert_id}:escalated",
            due_at=at,
            expires_at=at + ESCALATION_TTL,
            url=ALERTS,
        )
    _record(session, None, "alert_escalated", alert, f" staff={len(staff)}")
    session.commit()
    return True


def escalate_due(session: Session, at: datetime) -> int:
    """Escalate every open urgent or emergency alert left unacknowledged past its clinic's
    minutes. Each escalation commits on its own; returns how many this call made."""
    candidates = session.exec(
        select(Alert)
        .where(
            Alert.status == AlertStatus.OPEN,
            Alert.escalated_at.is_(None),
            Alert.severity.in_((AlertSeverity.EMERGENCY, AlertSeverity.URGENT)),
            Alert.created_at <= at - timedelta(minutes=1),
        )
        .order_by(Alert.id)
    ).all()
    minutes: dict[int, tuple[int, int]] = {}
    due = [a.id or 0 for a in candidates if _due(a, minutes, session, at)]
    session.commit()
    return sum(_escalate_one(session, alert_id, at) for alert_id in due)
