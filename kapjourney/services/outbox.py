"""The reminder outbox: nothing is sent that was not first written here.

``enqueue`` adds a row once per (user, kind, slot) whatever the number of planners racing.
``claim`` hands a due row to one worker by a conditional update with a lease: pending rows, or
rows whose sender died mid-send (lease expired). Attempts are recorded per device, so a retry
after a crash re-sends only to devices that have not yet accepted the message.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.models import Alert, ClinicianAssignment, Notification
from kapjourney.domain.reminders import ALERT_RAISED
from kapjourney.routes import client_url

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
ALERT_TTL = timedelta(hours=1)


def enqueue(
    session: Session,
    *,
    user_id: int,
    kind: str,
    slot: str,
    due_at: datetime,
    expires_at: datetime,
    url: str,
) -> bool:
    """Write a reminder once. Returns False when that (user, kind, slot) is already there."""
    values = {
        "public_id": secrets.token_hex(16),
        "user_id": user_id,
        "kind": kind,
        "slot": slot[:64],
        "url": url[:200],
        "due_at": due_at,
        "expires_at": expires_at,
        "status": PENDING,
        "outcome": "",
        "attempts": 0,
        "claimed_by": "",
        "created_at": now(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "slot"])
        .returning(Notification.id)
    )
    # Not rowcount: PostgreSQL (psycopg) reports -1 whether or not the row went in.
    return session.execute(statement).first() is not None


def enqueue_alert(session: Session, alert: Alert, *, at: datetime) -> int:
    """Tell every clinician caring for the client that an urgent or emergency alert is waiting.
    Runs in the transaction that raises the alert: the alert and its reminders commit together."""
    if alert.severity not in (AlertSeverity.URGENT, AlertSeverity.EMERGENCY) or not alert.id:
        return 0
    clinicians = session.exec(
        select(ClinicianAssignment.clinician_id).where(
            ClinicianAssignment.client_id == alert.client_id
        )
    ).all()
    made = 0
    for clinician_id in clinicians:
        made += enqueue(
            session,
            user_id=clinician_id,
            kind=ALERT_RAISED,
            slot=f"{alert.id}:{alert.severity}",
            due_at=at,
            expires_at=at + ALERT_TTL,
            url=client_url(alert.client_id),
        )
    return made


def _claimable(at: datetime):
    return or_(
        and_(
            Notification.status == PENDING,
            Notification.due_at <= at,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= at),
        ),
        and_(Notification.status == SENDING, Notification.lease_until < at),
    )


def claim(
    session: Session, *, at: datetime, worker: str, lease: timedelta, limit: int = 1
) -> list[Notification]:
    """Claim up to ``limit`` due rows for this worker, oldest due first, in one transaction.

    Each row is taken by a conditional update (still claimable) that returns the ids it
    changed: a row another worker claimed first is simply not among them, on SQLite (one
    writer at a time) and on PostgreSQL (the second updater waits for the first's row lock,
    then finds the row no longer claimable)."""
    candidates = list(
        session.exec(
            select(Notification.id)
            .where(_claimable(at))
            .order_by(Notification.due_at, Notification.id)
            .limit(limit * 4)
        ).all()
    )
    won: list[int] = []
    while candidates and len(won) < limit:
        ids, candidates = candidates[: limit - len(won)], candidates[limit - len(won) :]
        won += (
            session.execute(
                update(Notification)
                .where(Notification.id.in_(ids), _claimable(at))
                .values(status=SENDING, lease_until=at + lease, claimed_by=worker[:64])
                .returning(Notification.id)
            )
            .scalars()
            .all()
        )
    rows = (
        session.exec(
            select(Notification)
            .where(Notification.id.in_(won))
            .order_by(Notification.due_at, Notification.id)
            .execution_options(populate_existing=True)
        ).all()
        if won
        else []
    )
    session.commit()
    return list(rows)


def finish(
    session: Session,
    row: Notification,
    *,
    worker: str,
    status: str,
    outcome: str,
    at: datetime,
    retry_at: datetime | None = None,
    count_attempt: bool = True,
    commit: bool = True,
) -> bool:
    """Settle a claimed row, only if this worker still holds it (a lease that ran out may have
    passed it to another worker, whose result then stands). ``commit=False`` leaves the commit
    to a caller that settles several rows in one transaction."""
    values: dict[str, object] = {"status": status, "outcome": outcome[:24], "lease_until": None}
    if status == SENT:
        values["sent_at"] = at
    if status in (PENDING, FAILED) and count_attempt:
        values["attempts"] = Notification.attempts + 1
    if status == PENDING:
        values["next_attempt_at"] = retry_at
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == row.id,
            Notification.status == SENDING,
            Notification.claimed_by == worker[:64],
        )
        .values(**values)
    )
    if commit:
        session.commit()
    return result.rowcount == 1


def expired(row: Notification, at: datetime) -> bool:
    return as_utc(row.expires_at) <= at
