"""Small helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import AuditEvent

# A fixed instant for frozen-time tests: a Tuesday afternoon, after US daylight saving ended.
T0 = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


def audit_events(engine, action: str | None = None) -> list[AuditEvent]:
    """Audit rows in id order, optionally only those with ``action``."""
    with db.session_scope(engine) as s:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(s.exec(query).all())


def count(engine, model, *where) -> int:
    with db.session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()
