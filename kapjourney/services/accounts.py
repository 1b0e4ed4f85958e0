"""Client invitations: no public sign-up; a clinician invites, the client sets a password."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session, select

from kapjourney.auth import passwords, sessions
from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.enums import CourseStatus, Role
from kapjourney.domain.errors import AccessDenied, ValidationFailed
from kapjourney.domain.models import Clinic, ClinicianAssignment, Course, Invite, User
from kapjourney.domain.policies import can_invite_clients
from kapjourney.domain.schemas import Actor, InviteCreate, InviteCreated, InviteStatus
from kapjourney.services import audit
from kapjourney.services.clients import load_client
from kapjourney.services.protocol import protocol_for
from kapjourney.services.validation import (
    clean_text,
    name_problem,
    normalize_email,
    timezone_problem,
)
from kapjourney.settings import Settings, get_settings

INVITE_PATH = "/invite"
MAX_TOKEN_LENGTH = 128


def _new_invite(
    session: Session, *, user: User, created_by: int, settings: Settings
) -> tuple[str, Invite]:
    token = secrets.token_urlsafe(32)
    invite = Invite(
        token_hash=sessions.hash_token(token),
        user_id=user.id or 0,
        created_by_id=created_by,
        expires_at=now() + timedelta(days=settings.invite_days),
    )
    session.add(invite)
    session.flush()
    return token, invite


def create_invite(
    *, session: Session, actor: Actor, data: InviteCreate, settings: Settings | None = None
) -> InviteCreated:
    """Create the client's account (without a password), their course and a 7-day invite link."""
    settings = settings or get_settings()
    if not can_invite_clients(actor):
        raise AccessDenied(
            "page",
            actor_id=actor.user_id,
            subject_client_id=None,
            target="invite_create",
            ip=actor.ip,
        )
    clinic = session.get(Clinic, actor.clinic_id)
    name = clean_text(data.display_name, max_length=80)
    email, email_problem = normalize_email(data.email)
    tz = clean_text(data.timezone, max_length=64) or (clinic.timezone if clinic else "UTC")
    problems = {
        key: msg
        for key, msg in (
            ("display_name", name_problem(name)),
            ("email", email_problem),
            ("timezone", timezone_problem(tz)),
        )
        if msg
    }
    if not problems and session.exec(select(User.id).where(User.email == email)).first():
        problems["email"] = "Someone already has an account with this email."
    if problems:
        raise ValidationFailed(problems)

    client = User(
        clinic_id=actor.clinic_id, role=Role.CLIENT, email=email, display_name=name, timezone=tz
    )
    session.add(client)
    session.flush()
    if actor.role == Role.CLINICIAN:
        session.add(ClinicianAssignment(clinician_id=actor.user_id, client_id=client.id))
    session.add(
        Course(
            client_id=client.id,
            clinic_id=actor.clinic_id,
            status=CourseStatus.SCREENING,
            start_date=local_today(tz),
            planned_sessions=protocol_for(session, actor.clinic_id).dosing_sessions,
        )
    )
    token, invite = _new_invite(session, user=client, created_by=actor.user_id, settings=settings)
    audit.record(
        session,
        action="invite_created",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        ip=actor.ip,
    )
    return InviteCreated(
        client_id=client.id or 0,
        email=email,
        display_name=name,
        path=f"{INVITE_PATH}#{token}",
        expires_at=invite.expires_at,
    )


def _find_invite(session: Session, token: object) -> Invite | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.exec(
        select(Invite).where(Invite.token_hash == sessions.hash_token(token))
    ).first()


def _state(invite: Invite | None) -> str:
    if invite is None or invite.revoked_at is not None:
        return "unknown"
    if invite.used_at is not None:
        return "used"
    if as_utc(invite.expires_at) <= now():
        return "expired"
    return "valid"


def invite_status(*, session: Session, token: object) -> InviteStatus:
    invite = _find_invite(session, token)
    state = _state(invite)
    if state != "valid" or invite is None:
        return InviteStatus(state=state)
    user = session.get(User, invite.user_id)
    return InviteStatus(
        state=state,
        display_name=user.display_name if user else "",
        email=user.email if user else "",
    )


def accept_invite(
    *,
    session: Session,
    token: object,
    password: object,
    confirm: object,
    ip: str = "",
    user_agent: str = "",
    settings: Settings | None = None,
) -> str:
    """Set the client's password, spend the invite, and return a new session token."""
    invite = _find_invite(session, token)
    state = _state(invite)
    user = session.get(User, invite.user_id) if invite is not None else None
    if user is not None and not user.is_active:
        state = "unknown"  # a deactivated account is not revived by an old link
    if state != "valid" or invite is None or user is None:
        messages = {
            "used": "This invite link has already been used. "
            "Sign in, or ask your clinic for a new link.",
            "expired": "This invite link has expired. Ask your clinic for a new one.",
            "unknown": "This invite link is not valid. Check that you opened the whole link.",
        }
        raise ValidationFailed({"form": messages[state]})
    password = password if isinstance(password, str) else ""
    problem = passwords.password_problem(password, email=user.email, name=user.display_name)
    if problem:
        raise ValidationFailed({"password": problem})
    if confirm != password:
        raise ValidationFailed({"confirm": "The two passwords do not match."})
    user.password_hash = passwords.hash_password(password)
    invite.used_at = now()
    session.add_all([user, invite])
    sessions.revoke_all_sessions(session, user_id=user.id or 0)
    token_out = sessions.create_session(
        session, user=user, ip=ip, user_agent=user_agent, settings=settings
    )
    audit.record(session, action="invite_accepted", actor_id=user.id, ip=ip)
    return token_out


def reissue_invite(
    *, session: Session, actor: Actor, client_id: int, settings: Settings | None = None
) -> InviteCreated:
    """A fresh link for a client who has not joined yet; earlier links stop working."""
    settings = settings or get_settings()
    client = load_client(session, actor=actor, client_id=client_id, purpose="invite_reissue")
    if actor.is_client or client.password_hash:
        raise ValidationFailed({"form": "This client has already joined."})
    for old in session.exec(
        select(Invite).where(Invite.user_id == client.id, Invite.used_at.is_(None))
    ).all():
        old.revoked_at = now()
        session.add(old)
    token, invite = _new_invite(session, user=client, created_by=actor.user_id, settings=settings)
    audit.record(
        session,
        action="invite_reissued",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        ip=actor.ip,
    )
    return InviteCreated(
        client_id=client.id or 0,
        email=client.email,
        display_name=client.display_name,
        path=f"{INVITE_PATH}#{token}",
        expires_at=invite.expires_at,
    )
