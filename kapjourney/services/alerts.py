"""Alerts for the care team: raised in the same transaction as the report that causes them, and
listed on the client's page. Acknowledging, resolving and reassigning live in ``services.inbox``."""

from __future__ import annotations

import json

from sqlmodel import Session, func, select

from kapjourney.clock import now
from kapjourney.domain.enums import AlertSeverity, AlertStatus
from kapjourney.domain.models import Alert, User
from kapjourney.domain.safety import ALERT_REASONS, TIER_ORDER, Triage
from kapjourney.domain.schemas import Actor, AlertRow
from kapjourney.services import audit, outbox
from kapjourney.services.clients import deny, load_client
from kapjourney.services.formatting import when

BLOCKING = (AlertSeverity.EMERGENCY, AlertSeverity.URGENT)
SEVERITY_ORDER = {AlertSeverity.EMERGENCY: 0, AlertSeverity.URGENT: 1, AlertSeverity.ROUTINE: 2}


def raise_alert(
    session: Session,
    *,
    client: User,
    severity: AlertSeverity,
    reason_code: str,
    source_kind: str,
    source_id: int,
) -> Alert:
    """Insert an open alert. The caller's transaction commits it with the report, or neither."""
    alert = Alert(
        clinic_id=client.clinic_id,
        client_id=client.id or 0,
        severity=severity,
        reason_code=reason_code,
        source_kind=source_kind,
        source_id=source_id,
    )
    session.add(alert)
    session.flush()
    # The audit detail names the alert, never the reason: reasons are health data.
    audit.record(
        session,
        action="alert_raised",
        actor_id=client.id,
        subject_client_id=client.id,
        detail=f"alert={alert.id}",
    )
    outbox.enqueue_alert(session, alert, at=now())  # the care team's push, same transaction
    return alert


def raise_for(
    session: Session, *, client: User, triage: Triage, source_kind: str, source_id: int
) -> Alert | None:
    """One alert per source record, at the gravest tier its rules reach.

    A later save of the same record that meets a graver or further rule updates that alert
    (tier up, rules added; a resolved alert reopens); it never lowers a tier or drops a rule.
    Runs in the caller's transaction, so the report and its alert commit together or not at all.
    """
    if triage.tier is None or triage.top is None:
        return None
    alert = session.exec(
        select(Alert).where(Alert.source_kind == source_kind, Alert.source_id == source_id)
    ).first()
    codes = [rule.code for rule in triage.rules]
    if alert is None:
        alert = raise_alert(
            session,
            client=client,
            severity=triage.tier,
            reason_code=triage.top.code,
            source_kind=source_kind,
            source_id=source_id,
        )
        alert.rules = json.dumps(codes)
        session.add(alert)
        session.flush()
        return alert
    known = json.loads(alert.rules or "[]") or [alert.reason_code]
    new = [c for c in codes if c not in known]
    graver = TIER_ORDER[triage.tier] > TIER_ORDER.get(AlertSeverity(alert.severity), 0)
    if not new and not graver:
        return alert
    alert.rules = json.dumps(known + new)
    if graver:
        alert.severity = triage.tier
        alert.reason_code = triage.top.code
    if alert.status == AlertStatus.RESOLVED:
        alert.status = AlertStatus.OPEN
        alert.resolved_at = None
        alert.resolved_by_id = None
    session.add(alert)
    session.flush()
    if graver:
        outbox.enqueue_alert(session, alert, at=now())
    audit.record(
        session,
        action="alert_updated",
        actor_id=client.id,
        subject_client_id=client.id,
        detail=f"alert={alert.id}",
    )
    return alert


def open_blocking_count(session: Session, client_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Alert)
        .where(
            Alert.client_id == client_id,
            Alert.status != AlertStatus.RESOLVED,
            Alert.severity.in_(BLOCKING),
        )
    ).one()


def _row(alert: Alert, tz: str, names: dict[int, str]) -> AlertRow:
    return AlertRow(
        alert_id=alert.id or 0,
        severity=alert.severity,
        status=alert.status,
        reason=ALERT_REASONS.get(alert.reason_code, "Worrying answer"),
        created=when(alert.created_at, tz),
        escalated=alert.escalated_at is not None,
        assigned_to=names.get(alert.assigned_to_id or 0, ""),
    )


def list_client_alerts(*, session: Session, actor: Actor, client_id: object) -> list[AlertRow]:
    """A client's alerts for their care team, open ones first."""
    if actor.is_client:
        raise deny(actor, "alerts_viewed")
    client = load_client(session, actor=actor, client_id=client_id, purpose="alerts_viewed")
    alerts = session.exec(
        select(Alert).where(Alert.client_id == client.id).order_by(Alert.created_at.desc())
    ).all()
    alerts = sorted(
        alerts,
        key=lambda a: (a.status == AlertStatus.RESOLVED, SEVERITY_ORDER.get(a.severity, 3)),
    )
    assigned = {a.assigned_to_id for a in alerts if a.assigned_to_id}
    names: dict[int, str] = {}
    if assigned:
        rows = session.exec(select(User.id, User.display_name).where(User.id.in_(assigned)))
        names = {uid: name for uid, name in rows.all()}
    return [_row(a, actor.timezone, names) for a in alerts]
