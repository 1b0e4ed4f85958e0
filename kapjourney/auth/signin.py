"""Password sign-in with throttling per account and per address.

CPU-heavy (argon2id): adapters call it off the event loop. Unknown accounts are verified against
a dummy hash and answered with the same message, so neither timing nor text reveals which
emails have accounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from kapjourney.auth import passwords, sessions, two_factor
from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import SignInFailure, User
from kapjourney.routes import SIGNIN
from kapjourney.services import audit
from kapjourney.settings import Settings, get_settings

WRONG_CREDENTIALS = "Email or password is incorrect."
EMAIL_MISSING = "Enter your email address."
PASSWORD_MISSING = "Enter your password."  # noqa: S105 - a message, not a secret
MAX_EMAIL = 254
# A sign-in form posted by the browser itself (a tap before the page's script has started)
# cannot be answered with messages: the server sends it back to the sign-in page with one of
# these words in the address (never what was typed), and the page shows its messages as
# (email, password, form).
RETRY_MESSAGES: dict[str, tuple[str, str, str]] = {
    "missing-email": (EMAIL_MISSING, "", ""),
    "missing-password": ("", PASSWORD_MISSING, ""),
    "missing-email-password": (EMAIL_MISSING, PASSWORD_MISSING, ""),
    "failed": ("", "", WRONG_CREDENTIALS),
    "wait": ("", "", "Too many attempts. Wait a few minutes and try again."),
}


def retry_address(word: str) -> str:
    """The sign-in page that shows ``word``'s messages (a ``RETRY_MESSAGES`` key)."""
    return f"{SIGNIN}?signin={word}"


def retry_word(email: object, password: object, *, throttled: bool = False) -> str:
    """The ``RETRY_MESSAGES`` word for a form that did not sign in."""
    if throttled:
        return "wait"
    missing = []
    if not (email.strip() if isinstance(email, str) else email):
        missing.append("email")
    if not password:
        missing.append("password")
    return "missing-" + "-".join(missing) if missing else "failed"


@dataclass(frozen=True)
class SignInOutcome:
    """Refusals are returned, not raised, so their audit and throttle rows are committed."""

    token: str = ""
    user_id: int = 0
    role: Role | None = None
    errors: dict[str, str] | None = None
    retry_after_seconds: int = 0
    stage: str = sessions.FULL  # "verify" or "enrol": staff still owe their second factor

    @property
    def ok(self) -> bool:
        return bool(self.token)


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _throttle_wait(session: Session, *, key: str, ip: str, settings: Settings) -> int:
    """Seconds until another attempt is allowed, or 0."""
    window_start = now() - timedelta(minutes=settings.signin_window_minutes)
    ip = ip[:64]  # compared as stored
    for column, value, limit in (
        (SignInFailure.account_key, key, settings.signin_max_failures_per_account),
        (SignInFailure.ip, ip, settings.signin_max_failures_per_address),
    ):
        if column is SignInFailure.ip and not ip:
            continue
        count, oldest = session.exec(
            select(func.count(), func.min(SignInFailure.occurred_at)).where(
                column == value, SignInFailure.occurred_at > window_start
            )
        ).one()
        if count >= limit:
            reopens = as_utc(oldest) + timedelta(minutes=settings.signin_window_minutes)
            return max(1, int((reopens - now()).total_seconds()))
    return 0


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    ip: str = "",
    user_agent: str = "",
    previous_token: str | None = None,
    trusted_browser: str | None = None,
    settings: Settings | None = None,
) -> SignInOutcome:
    """Validation problems with the input itself raise ``ValidationFailed`` (nothing to keep).

    Clinicians and admins get a pending session (stage "verify" or "enrol") that nothing but
    the two-factor pages accept, unless ``trusted_browser`` is a live trusted-browser token of
    theirs (auth/two_factor.py)."""
    settings = settings or get_settings()
    email = (email or "").strip().lower()
    password = password or ""
    problems: dict[str, str] = {}
    if not email:
        problems["email"] = EMAIL_MISSING
    elif len(email) > MAX_EMAIL:
        problems["email"] = "That is longer than any email address can be."
    if not password:
        problems["password"] = PASSWORD_MISSING
    elif len(password) > passwords.MAX_LENGTH:
        problems["password"] = WRONG_CREDENTIALS
    if problems:
        raise ValidationFailed(problems)

    key = account_key(email)
    wait = _throttle_wait(session, key=key, ip=ip, settings=settings)
    if wait:
        audit.record(session, action="signin_throttled", outcome="denied", actor_id=None, ip=ip)
        minutes = max(1, round(wait / 60))
        return SignInOutcome(
            errors={"form": f"Too many attempts. Try again in {minutes} minute(s)."},
            retry_after_seconds=wait,
        )
    user = session.exec(select(User).where(User.email == email)).first()
    ok, new_hash = passwords.verify_password(
        password, user.password_hash if user and user.password_hash else passwords.dummy_hash()
    )
    if not (ok and user and user.password_hash and user.is_active):
        session.add(SignInFailure(account_key=key, ip=ip[:64]))
        audit.record(
            session,
            action="signin_failed",
            outcome="denied",
            actor_id=user.id if user else None,
            ip=ip,
            detail="inactive" if user and not user.is_active and ok else "",
        )
        return SignInOutcome(errors={"form": WRONG_CREDENTIALS})

    if new_hash:
        user.password_hash = new_hash
    if previous_token:
        sessions.revoke_session(session, token=previous_token)
    session.exec(delete(SignInFailure).where(SignInFailure.account_key == key))
    user.last_sign_in_at = now()
    session.add(user)
    stage = two_factor.pending_stage(session, user=user)
    if stage == sessions.VERIFY and two_factor.is_trusted_browser(
        session, user_id=user.id or 0, token=trusted_browser
    ):
        stage = sessions.FULL
        audit.record(session, action="two_factor_trusted_browser", actor_id=user.id, ip=ip)
    token = sessions.create_session(
        session, user=user, ip=ip, user_agent=user_agent, settings=settings, stage=stage
    )
    detail = "" if stage == sessions.FULL else f"owes={stage}"
    audit.record(session, action="signin", actor_id=user.id, ip=ip, detail=detail)
    return SignInOutcome(token=token, user_id=user.id or 0, role=Role(user.role), stage=stage)


def sign_out(*, session: Session, token: str | None, ip: str = "") -> None:
    user_id = sessions.revoke_session(session, token=token)
    if user_id is not None:
        audit.record(session, action="signout", actor_id=user_id, ip=ip)
