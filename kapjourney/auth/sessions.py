"""Server-side sessions behind an HttpOnly cookie.

The cookie carries 256 random bits; the table stores only their SHA-256, so a copy of the
database does not yield live sessions. Clinicians and admins: 15 minutes idle, 12 hours
absolute. Clients: 30 days sliding. Every sign-in issues a new token (no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import AuthSession, User
from kapjourney.domain.schemas import Actor
from kapjourney.settings import Settings, get_settings

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetimes(role: Role, settings: Settings) -> tuple[timedelta, timedelta | None]:
    if role == Role.CLIENT:
        return timedelta(days=settings.client_idle_days), None
    return (
        timedelta(minutes=settings.clinician_idle_minutes),
        timedelta(hours=settings.clinician_absolute_hours),
    )


def create_session(
    session: Session,
    *,
    user: User,
    ip: str = "",
    user_agent: str = "",
    settings: Settings | None = None,
) -> str:
    """Insert a session for ``user`` and return the raw token for the cookie."""
    settings = settings or get_settings()
    idle, absolute = _lifetimes(user.role, settings)
    started = now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        AuthSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=started,
            last_seen_at=started,
            idle_expires_at=started + idle,
            absolute_expires_at=started + absolute if absolute else None,
            user_agent=user_agent[:200],
            ip=ip[:64],
        )
    )
    session.flush()
    return token


def resolve_session(
    session: Session, *, token: str | None, ip: str = "", settings: Settings | None = None
) -> Actor | None:
    """The actor behind a cookie token, or None when it is unknown, revoked or expired.

    Extends the idle window, writing at most once per ``session_touch_seconds``.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    settings = settings or get_settings()
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    current = now()
    if as_utc(row.idle_expires_at) <= current:
        return None
    if row.absolute_expires_at is not None and as_utc(row.absolute_expires_at) <= current:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if (current - as_utc(row.last_seen_at)).total_seconds() >= settings.session_touch_seconds:
        idle, _ = _lifetimes(user.role, settings)
        row.last_seen_at = current
        row.idle_expires_at = current + idle
        session.add(row)
    return Actor.from_user(user, ip=ip)


def revoke_session(session: Session, *, token: str | None) -> int | None:
    """Revoke the session behind ``token``; returns its user id when one was live."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    current = now()
    was_live = as_utc(row.idle_expires_at) > current and (
        row.absolute_expires_at is None or as_utc(row.absolute_expires_at) > current
    )
    row.revoked_at = current
    session.add(row)
    return row.user_id if was_live else None


def revoke_all_sessions(session: Session, *, user_id: int) -> int:
    rows = session.exec(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ).all()
    stamp = now()
    for row in rows:
        row.revoked_at = stamp
        session.add(row)
    return len(rows)


def token_from_cookie_header(header: str, *, settings: Settings | None = None) -> str | None:
    """Find our cookie by name. Parsed by hand: SimpleCookie gives up on the whole header when
    any unrelated cookie is malformed, which would sign people out for someone else's cookie."""
    settings = settings or get_settings()
    if not header or len(header) > 8192:
        return None
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == settings.session_cookie_name:
            value = value.strip().strip('"')
            return value or None
    return None
