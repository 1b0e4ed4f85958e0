"""Server-side sessions behind an HttpOnly cookie.

The cookie carries 256 random bits; the table stores only their SHA-256, so a copy of the
database does not yield live sessions. Clinicians and admins: 15 minutes idle, 12 hours
absolute. Clients: 30 days sliding. Every sign-in issues a new token (no fixation).

A staff password sign-in first makes a *pending* session (stage "verify" or "enrol", see
auth/two_factor.py): ``resolve_session`` refuses it, so every guarded handler and HTTP route
treats it as signed out; only the two-factor pages read it, through ``resolve_pending``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import AuthSession, TrustedDevice, User
from kapjourney.domain.schemas import Actor
from kapjourney.settings import Settings, get_settings

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128
FULL = "full"  # signed in
VERIFY = "verify"  # password accepted; a code from the authenticator app is still owed
ENROL = "enrol"  # password accepted; this staff member has no second factor yet
PENDING_STAGES = (VERIFY, ENROL)


@dataclass(frozen=True)
class Pending:
    """A half-finished staff sign-in: who, and which step is owed."""

    user_id: int
    stage: str
    email: str


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
    stage: str = FULL,
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
            stage=stage,
        )
    )
    session.flush()
    return token


def _live(
    session: Session, *, token: str | None, settings: Settings
) -> tuple[AuthSession, User] | None:
    """The live session row behind ``token`` and its active user, extending its idle window
    (a write at most once per ``session_touch_seconds``)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    current = now()
    if not _unexpired(row, current):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if (current - as_utc(row.last_seen_at)).total_seconds() >= settings.session_touch_seconds:
        idle, _ = _lifetimes(user.role, settings)
        row.last_seen_at = current
        row.idle_expires_at = current + idle
        session.add(row)
    return row, user


def resolve_session(
    session: Session, *, token: str | None, ip: str = "", settings: Settings | None = None
) -> Actor | None:
    """The actor behind a cookie token, or None when it is unknown, revoked or expired, or
    when its sign-in is still owed a second factor (any stage but "full")."""
    found = _live(session, token=token, settings=settings or get_settings())
    if found is None or found[0].stage != FULL:
        return None
    return Actor.from_user(found[1], ip=ip)


def resolve_pending(
    session: Session, *, token: str | None, settings: Settings | None = None
) -> Pending | None:
    """For the two-factor pages and routes only: the half-finished sign-in behind a token."""
    found = _live(session, token=token, settings=settings or get_settings())
    if found is None or found[0].stage not in PENDING_STAGES:
        return None
    row, user = found
    return Pending(user_id=user.id or 0, stage=row.stage, email=user.email)


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
    was_live = _unexpired(row, current)
    row.revoked_at = current
    session.add(row)
    return row.user_id if was_live else None


def _unexpired(row: AuthSession, at: datetime) -> bool:
    """Not yet expired, idle or absolute (revocation is checked by the caller)."""
    return as_utc(row.idle_expires_at) > at and (
        row.absolute_expires_at is None or as_utc(row.absolute_expires_at) > at
    )


def revoke_all_sessions(session: Session, *, user_id: int) -> int:
    """Every session of ``user_id`` ends, and every browser trusted to skip the code step
    forgets it. Returns how many of the sessions were still live (expired ones are stamped
    too, but a person was not signed in there)."""
    rows = session.exec(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    ).all()
    stamp = now()
    for row in rows:
        row.revoked_at = stamp
        session.add(row)
    revoke_trusted_devices(session, user_id=user_id)
    return sum(_unexpired(row, stamp) for row in rows)


def revoke_trusted_devices(session: Session, *, user_id: int) -> int:
    devices = session.exec(
        select(TrustedDevice).where(
            TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None)
        )
    ).all()
    stamp = now()
    for device in devices:
        device.revoked_at = stamp
        session.add(device)
    return len(devices)


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
