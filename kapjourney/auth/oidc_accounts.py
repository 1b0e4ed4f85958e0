"""Which account a verified OpenID identity signs into, and the session it gets.

Rules: an identity already linked (issuer + subject) signs into its user. A first sign-in links by
a verified email to an active clinician or admin of the provider's clinic; never to a client (they
keep password sign-in) and never across clinics. With no such account, one is created only when
the clinic allows it, and always with the clinician role: no role is taken from the provider or
the browser. A deactivated account is refused. Success creates the same server-side session as
password sign-in (``sessions.create_session``) and is audited as "signin" with method oidc.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from kapjourney.auth import sessions
from kapjourney.auth.oidc import OidcProvider, SsoFailure
from kapjourney.clock import now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Clinic, ExternalIdentity, User
from kapjourney.services import audit
from kapjourney.settings import Settings

METHOD = "method=oidc"


@dataclass(frozen=True)
class SsoOutcome:
    token: str
    user_id: int
    role: Role


def record_failure(session: Session, *, reason: str, ip: str, actor_id: int | None = None) -> None:
    audit.record(
        session,
        action="signin_failed",
        outcome="denied",
        actor_id=actor_id,
        ip=ip,
        detail=f"{METHOD} reason={reason}"[:200],
    )


def _clinic(session: Session, ref: str) -> Clinic | None:
    clinic = session.exec(select(Clinic).where(Clinic.slug == ref)).first()
    if clinic is None and ref.isdigit():
        clinic = session.get(Clinic, int(ref))
    return clinic


def _verified_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or verified not in (True, "true"):
        return ""
    email = email.strip().lower()
    return email if 3 <= len(email) <= 254 and "@" in email else ""


def _display_name(claims: dict[str, Any], email: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str))
    cleaned = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(cleaned.split())[:80] or email.partition("@")[0][:80]


def _check_usable(user: User | None, clinic: Clinic) -> User:
    if user is None:
        raise SsoFailure("no_account")
    if user.role == Role.CLIENT:
        raise SsoFailure("client_account", actor_id=user.id)
    if user.clinic_id != clinic.id:
        raise SsoFailure("other_clinic", actor_id=user.id)
    if not user.is_active:
        raise SsoFailure("inactive", actor_id=user.id)
    return user


def _linked_user(
    session: Session, *, provider: OidcProvider, clinic: Clinic, claims: dict[str, Any], ip: str
) -> User:
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoFailure("bad_subject")
    link = session.exec(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    ).first()
    if link is not None:
        user = _check_usable(session.get(User, link.user_id), clinic)
        link.last_used_at = now()
        session.add(link)
        return user

    email = _verified_email(claims)
    if not email:
        raise SsoFailure("email_unverified")
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None and provider.allow_create:
        user = User(
            clinic_id=clinic.id,
            role=Role.CLINICIAN,  # always; whatever the provider or the browser says
            email=email,
            display_name=_display_name(claims, email),
            timezone=clinic.timezone,
            password_hash=None,
        )
        session.add(user)
        session.flush()
        audit.record(session, action="sso_account_created", actor_id=user.id, ip=ip, detail=METHOD)
    user = _check_usable(user, clinic)
    session.add(ExternalIdentity(issuer=issuer, subject=subject, user_id=user.id, email=email))
    audit.record(session, action="sso_linked", actor_id=user.id, ip=ip, detail=METHOD)
    return user


def sign_in_with_claims(
    session: Session,
    *,
    provider: OidcProvider,
    claims: dict[str, Any],
    ip: str = "",
    user_agent: str = "",
    previous_token: str | None = None,
    settings: Settings | None = None,
) -> SsoOutcome:
    """Raises ``SsoFailure`` for a refusal; the caller audits it in its own transaction."""
    clinic = _clinic(session, provider.clinic)
    if clinic is None:
        raise SsoFailure("clinic_not_found")
    user = _linked_user(session, provider=provider, clinic=clinic, claims=claims, ip=ip)
    if previous_token:
        sessions.revoke_session(session, token=previous_token)
    user.last_sign_in_at = now()
    session.add(user)
    token = sessions.create_session(
        session, user=user, ip=ip, user_agent=user_agent, settings=settings
    )
    audit.record(session, action="signin", actor_id=user.id, ip=ip, detail=METHOD)
    return SsoOutcome(token=token, user_id=user.id or 0, role=Role(user.role))
