"""The append-only, hash-chained audit log.

Each row's hash covers its own fields and the previous row's hash; ``AuditHead`` holds the
newest hash and is row-locked while appending, so appends are serialized on PostgreSQL as they
already are on SQLite (``BEGIN IMMEDIATE``). Deleting, editing or reordering any row, or cutting
off the tail, breaks the chain and ``verify_chain`` names the first broken link.
"""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.models import AuditEvent, AuditHead
from kapjourney.domain.schemas import AuditChainReport

GENESIS_HASH = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = json.dumps(
        [
            as_utc(event.occurred_at).isoformat(timespec="microseconds"),
            event.actor_id,
            event.action,
            event.outcome,
            event.subject_client_id,
            event.target,
            event.ip,
            event.detail,
            event.prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None,
    outcome: str = "ok",
    subject_client_id: int | None = None,
    target: str = "",
    ip: str = "",
    detail: str = "",
) -> None:
    """Append one event in the caller's transaction. ``detail`` must not hold health data."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_event_id=0, last_hash=GENESIS_HASH)
        session.add(head)
    event = AuditEvent(
        occurred_at=now(),
        actor_id=actor_id,
        action=action[:48],
        outcome=outcome[:16],
        subject_client_id=subject_client_id,
        target=target[:80],
        ip=ip[:64],
        detail=detail[:200],
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    head.last_hash = event.hash
    head.last_event_id = event.id or 0
    session.add(head)


def verify_chain(session: Session, *, batch: int = 5000) -> AuditChainReport:
    """Walk the whole log in id order; report the first row whose link or hash is wrong."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != expected_prev:
                return AuditChainReport(
                    ok=False,
                    checked=checked,
                    first_broken_id=row.id,
                    reason="link to the previous event is broken (a row was removed or reordered)",
                )
            if _digest(row) != row.hash:
                return AuditChainReport(
                    ok=False,
                    checked=checked,
                    first_broken_id=row.id,
                    reason="the event's contents do not match its hash (it was edited)",
                )
            expected_prev = row.hash
            last_id = row.id or 0
            checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != expected_prev or head.last_event_id != last_id):
        return AuditChainReport(
            ok=False,
            checked=checked,
            first_broken_id=head.last_event_id,
            reason="the newest events are missing (the log was cut short)",
        )
    return AuditChainReport(ok=True, checked=checked)
