"""Two-factor sign-in for staff who sign in with a password: TOTP (RFC 6238) and recovery codes.

- The authenticator secret is stored encrypted (Fernet; the key is derived with HKDF-SHA256 from
  the server secret under a fixed label, so there is no second secret file to lose).
- A code is accepted for the current 30-second step or one step either side (pyotp's
  ``valid_window=1``), and only for a step later than the last accepted one: a code that was
  seen once cannot be used again (RFC 6238 section 5.2).
- Ten single-use recovery codes (``xxxx-xxxx-xx``); only the SHA-256 of each is stored, and the
  plain codes are returned exactly once.
- Five wrong codes in 15 minutes, per person or per address, and the next tries are refused
  for a while. The failures are counted from the audit log, which records every one anyway.
- Every success and failure is audited; a code or a secret never is, nor is it logged.

No Reflex here: the HTTP routes (http/two_factor.py) and the pages call these functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func
from sqlmodel import Session, select

from kapjourney.auth import sessions
from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import AccessDenied, NotFound
from kapjourney.domain.models import AuditEvent, RecoveryCode, TotpCredential, TrustedDevice, User
from kapjourney.domain.schemas import Actor
from kapjourney.services import audit
from kapjourney.settings import Settings, get_settings

ISSUER = "KAP Journey"
KEY_LABEL = b"kapjourney/two-factor/totp-secret/v1"  # HKDF info: this key is for nothing else
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
TRUSTED_DAYS = 30
REUSE_UNCONFIRMED = timedelta(minutes=15)  # an unconfirmed key outlives a reload, not a day
RECOVERY_COUNT = 10
# No 0/o, 1/i/l: nothing to misread from a printout. 31 symbols, 10 of them: ~49 bits a code.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
QR_DARK = "#1b1f3b"  # near-black navy on white: far past 4.5:1, and scanners read it as black
STAFF = (Role.CLINICIAN, Role.ADMIN)

FAILED = "two_factor_failed"
WRONG_CODE = "That code didn't work. Check your authenticator app and try again."
WRONG_RECOVERY = "That recovery code didn't work. Each one works only once."
ENTER_CODE = "Enter the 6-digit code from your authenticator app."


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: a QR code and the same key as text."""

    secret: str
    uri: str
    qr_svg: str  # an <svg> document

    @property
    def key_groups(self) -> str:
        """The key in groups of four, as people type it."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    @property
    def qr_data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.qr_svg.encode()).decode()


@dataclass(frozen=True)
class CodeCheck:
    """Refusals are returned, not raised, so their audit rows are committed."""

    ok: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    retry_after_seconds: int = 0
    recovery_codes: list[str] = field(default_factory=list)  # only after enrolment/regeneration
    used_recovery_code: bool = False


@dataclass(frozen=True)
class Status:
    enabled: bool
    since: datetime | None
    recovery_codes_left: int
    trusted_browsers: int


# --- helpers -------------------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    return Role(user.role) in STAFF


@lru_cache(maxsize=4)
def _fernet_for(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_LABEL).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet(settings: Settings | None) -> Fernet:
    return _fernet_for((settings or get_settings()).session_secret())


def encrypt_secret(secret: str, settings: Settings | None = None) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, settings: Settings | None = None) -> str | None:
    try:
        return _fernet(settings).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None  # the server secret changed: the person enrols again (an admin resets)


def _digits(code: object) -> str:
    return "".join(ch for ch in code if not ch.isspace()) if isinstance(code, str) else ""


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _credential(session: Session, user_id: int) -> TotpCredential | None:
    return session.exec(select(TotpCredential).where(TotpCredential.user_id == user_id)).first()


def has_confirmed_factor(session: Session, *, user_id: int) -> bool:
    credential = _credential(session, user_id)
    return credential is not None and credential.confirmed_at is not None


def pending_stage(session: Session, *, user: User) -> str:
    """The stage a password sign-in starts at: "full" for clients, else the step owed."""
    if not is_staff(user):
        return sessions.FULL
    return (
        sessions.VERIFY if has_confirmed_factor(session, user_id=user.id or 0) else sessions.ENROL
    )


def _step(at: datetime | None = None) -> int:
    return int((at or now()).timestamp()) // STEP_SECONDS


def _match_step(secret: str, code: str, *, after: int) -> int | None:
    """The time step ``code`` belongs to (within the window), when later than ``after``."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = _step()
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _throttle_wait(session: Session, *, user_id: int, ip: str) -> int:
    """Seconds until another code may be tried, or 0. Counted from the audit log: failures in
    the last 15 minutes for this person (since their last success) and from this address."""
    current = now()
    start = current - WINDOW
    last_ok = session.exec(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.actor_id == user_id,
            AuditEvent.action.in_(("two_factor_verified", "two_factor_enrolled")),
            AuditEvent.occurred_at > start,
        )
    ).one()
    person_start = max(start, as_utc(last_ok)) if last_ok else start
    checks = [(AuditEvent.actor_id == user_id, person_start)]
    if ip:
        checks.append((AuditEvent.ip == ip[:64], start))
    for condition, since in checks:
        count, oldest = session.exec(
            select(func.count(), func.min(AuditEvent.occurred_at)).where(
                condition, AuditEvent.action == FAILED, AuditEvent.occurred_at > since
            )
        ).one()
        if count >= MAX_FAILURES:
            return max(1, int((as_utc(oldest) + WINDOW - current).total_seconds()))
    return 0


def wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many tries. Wait {minutes} minute{'s' if minutes != 1 else ''}."


def _throttled(session: Session, *, user_id: int, ip: str) -> CodeCheck | None:
    wait = _throttle_wait(session, user_id=user_id, ip=ip)
    if not wait:
        return None
    audit.record(session, action="two_factor_throttled", outcome="denied", actor_id=user_id, ip=ip)
    return CodeCheck(errors={"code": wait_message(wait)}, retry_after_seconds=wait)


def _failed(session: Session, *, user_id: int, ip: str, detail: str, message: str) -> CodeCheck:
    audit.record(session, action=FAILED, outcome="denied", actor_id=user_id, ip=ip, detail=detail)
    return CodeCheck(errors={"code": message})


def _issue_recovery_codes(session: Session, *, user_id: int) -> list[str]:
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_COUNT)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(c)) for c in codes)
    session.flush()
    return codes


def _staff_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or not is_staff(user):
        raise NotFound("user")
    return user


# --- enrolment -----------------------------------------------------------------------------------


def start_enrolment(
    session: Session, *, user_id: int, settings: Settings | None = None
) -> Enrolment:
    """A secret for a staff member with no confirmed factor: the unconfirmed one of the last 15
    minutes, else a new one (replacing an older one). NotFound when there is nothing to enrol."""
    user = _staff_user(session, user_id)
    credential = _credential(session, user_id)
    if credential is not None and credential.confirmed_at is not None:
        raise NotFound("enrolment")
    if credential is not None and as_utc(credential.created_at) > now() - REUSE_UNCONFIRMED:
        # A reload of the page shows the same key: it may be half typed into the app already.
        secret = decrypt_secret(credential.secret_encrypted, settings)
        if secret:
            return _enrolment(user, secret)
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    encrypted = encrypt_secret(secret, settings)
    if credential is None:
        credential = TotpCredential(user_id=user_id, secret_encrypted=encrypted)
    else:
        credential.secret_encrypted, credential.created_at = encrypted, now()
        credential.last_used_step = 0
    session.add(credential)
    session.flush()
    audit.record(session, action="two_factor_enrolment_started", actor_id=user_id)
    return _enrolment(user, secret)


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )
    buffer = io.BytesIO()  # a standalone SVG (with its namespace), so an <img> can show it
    segno.make(uri, error="m").save(
        buffer, kind="svg", xmldecl=False, scale=5, border=4, dark=QR_DARK, light="#ffffff"
    )
    svg = buffer.getvalue().decode()
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


def _typed_code(
    session: Session, *, user_id: int, code: object, ip: str, enrolled: bool
) -> tuple[str, TotpCredential] | CodeCheck:
    """What was typed and the person's app key, or the answer to give instead: throttled, or
    nothing typed. NotFound when the key is not as this step needs it: confirmed to sign in
    (``enrolled``), not yet confirmed to enrol."""
    _staff_user(session, user_id)
    if (refusal := _throttled(session, user_id=user_id, ip=ip)) is not None:
        return refusal
    typed = _digits(code)
    if not typed:
        return CodeCheck(errors={"code": ENTER_CODE})
    credential = _credential(session, user_id)
    if credential is None or (credential.confirmed_at is not None) != enrolled:
        raise NotFound("credential" if enrolled else "enrolment")
    return typed, credential


def _app_code(
    session: Session,
    user_id: int,
    code: object,
    ip: str,
    *,
    detail: str,
    settings: Settings | None,
    enrolling: bool = False,
) -> TotpCredential | CodeCheck:
    """The person's app key once ``code`` proved it (its time step is then used up); otherwise
    the answer to give: throttled, nothing typed, or a wrong code (audited, ``detail`` naming
    the form). NotFound as for ``_typed_code`` (``enrolling`` wants a key not yet confirmed)."""
    found = _typed_code(session, user_id=user_id, code=code, ip=ip, enrolled=not enrolling)
    if isinstance(found, CodeCheck):
        return found
    typed, credential = found
    secret = decrypt_secret(credential.secret_encrypted, settings)
    step = _match_step(secret, typed, after=credential.last_used_step) if secret else None
    if step is None:
        return _failed(session, user_id=user_id, ip=ip, detail=detail, message=WRONG_CODE)
    credential.last_used_step = step
    session.add(credential)
    return credential


def confirm_enrolment(
    session: Session, *, user_id: int, code: object, ip: str = "", settings: Settings | None = None
) -> CodeCheck:
    """The first code from the app turns the factor on and returns the recovery codes."""
    credential = _app_code(
        session, user_id, code, ip, detail="enrol", settings=settings, enrolling=True
    )
    if isinstance(credential, CodeCheck):
        return credential
    credential.confirmed_at = now()
    codes = _issue_recovery_codes(session, user_id=user_id)
    audit.record(session, action="two_factor_enrolled", actor_id=user_id, ip=ip)
    return CodeCheck(ok=True, recovery_codes=codes)


# --- verification --------------------------------------------------------------------------------


def verify(
    session: Session, *, user_id: int, code: object, ip: str = "", settings: Settings | None = None
) -> CodeCheck:
    """A code from the app, or one of the recovery codes (used up by this)."""
    if len(compact := _digits(code).replace("-", "")) == 6 and compact.isdigit():
        proved = _app_code(session, user_id, compact, ip, detail="totp", settings=settings)
        if isinstance(proved, CodeCheck):
            return proved
        audit.record(session, action="two_factor_verified", actor_id=user_id, ip=ip)
        return CodeCheck(ok=True)
    found = _typed_code(session, user_id=user_id, code=code, ip=ip, enrolled=True)
    if isinstance(found, CodeCheck):
        return found
    typed = found[0]
    row = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == hash_recovery_code(typed[:64]),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if row is None:
        return _failed(session, user_id=user_id, ip=ip, detail="recovery", message=WRONG_RECOVERY)
    row.used_at = now()
    session.add(row)
    left = _recovery_left(session, user_id)
    audit.record(
        session, action="recovery_code_used", actor_id=user_id, ip=ip, detail=f"left={left}"
    )
    audit.record(session, action="two_factor_verified", actor_id=user_id, ip=ip)
    return CodeCheck(ok=True, used_recovery_code=True)


def _recovery_left(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ).one()


def finish_sign_in(
    session: Session,
    *,
    pending_token: str,
    user_id: int,
    ip: str = "",
    user_agent: str = "",
    settings: Settings | None = None,
) -> str:
    """The owed step is done: the pending session ends and a new full one begins (a new token,
    so a token seen before the second factor is worth nothing after it)."""
    sessions.revoke_session(session, token=pending_token)
    user = _staff_user(session, user_id)
    return sessions.create_session(
        session, user=user, ip=ip, user_agent=user_agent, settings=settings
    )


# --- trusted browsers ----------------------------------------------------------------------------


def trust_browser(session: Session, *, user_id: int, user_agent: str = "") -> str:
    """A random token for this browser's cookie; only its SHA-256 is kept."""
    token = secrets.token_urlsafe(32)
    stamp = now()
    session.add(
        TrustedDevice(
            token_hash=sessions.hash_token(token),
            user_id=user_id,
            created_at=stamp,
            expires_at=stamp + timedelta(days=TRUSTED_DAYS),
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    audit.record(session, action="two_factor_browser_trusted", actor_id=user_id)
    return token


def is_trusted_browser(session: Session, *, user_id: int, token: str | None) -> bool:
    if not token or len(token) > sessions.MAX_TOKEN_LENGTH:
        return False
    device = session.exec(
        select(TrustedDevice).where(TrustedDevice.token_hash == sessions.hash_token(token))
    ).first()
    return (
        device is not None
        and device.user_id == user_id
        and device.revoked_at is None
        and as_utc(device.expires_at) > now()
    )


def _trusted_count(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(TrustedDevice)
        .where(
            TrustedDevice.user_id == user_id,
            TrustedDevice.revoked_at.is_(None),
            TrustedDevice.expires_at > now(),
        )
    ).one()


# --- the settings page (a signed-in staff member) ------------------------------------------------


def _deny(actor: Actor, target: str) -> AccessDenied:
    return AccessDenied(
        target, actor_id=actor.user_id, subject_client_id=None, target=target, ip=actor.ip
    )


def status(session: Session, *, actor: Actor) -> Status:
    if not actor.is_staff:
        raise _deny(actor, "two_factor_status")
    credential = _credential(session, actor.user_id)
    enabled = credential is not None and credential.confirmed_at is not None
    return Status(
        enabled=enabled,
        since=as_utc(credential.confirmed_at) if enabled and credential else None,
        recovery_codes_left=_recovery_left(session, actor.user_id) if enabled else 0,
        trusted_browsers=_trusted_count(session, actor.user_id),
    )


def regenerate_recovery_codes(
    session: Session, *, actor: Actor, code: object, settings: Settings | None = None
) -> CodeCheck:
    """New recovery codes (the old ones stop working), for a current code from the app."""
    if not actor.is_staff:
        raise _deny(actor, "two_factor_recovery_codes")
    user_id = actor.user_id
    try:
        proved = _app_code(session, user_id, code, actor.ip, detail="regen", settings=settings)
    except NotFound:
        raise _deny(actor, "two_factor_recovery_codes") from None
    if isinstance(proved, CodeCheck):
        return proved
    codes = _issue_recovery_codes(session, user_id=user_id)
    audit.record(session, action="recovery_codes_regenerated", actor_id=user_id, ip=actor.ip)
    return CodeCheck(ok=True, recovery_codes=codes)


def forget_trusted_browsers(session: Session, *, actor: Actor) -> int:
    if not actor.is_staff:
        raise _deny(actor, "two_factor_trusted_browsers")
    forgotten = sessions.revoke_trusted_devices(session, user_id=actor.user_id)
    audit.record(
        session,
        action="two_factor_browsers_forgotten",
        actor_id=actor.user_id,
        ip=actor.ip,
        detail=f"count={forgotten}",
    )
    return forgotten


# --- an admin resets a staff member's second factor ----------------------------------------------


def reset_for_user(session: Session, *, actor: Actor, user_id: object) -> None:
    """For a staff member who lost their phone and codes: the factor, the codes and the trusted
    browsers go, and every session ends; their next password sign-in enrols again. An admin of
    the same clinic only; anything else is "not found" (and audited)."""
    target = session.get(User, user_id) if isinstance(user_id, int) else None
    if (
        actor.role != Role.ADMIN
        or target is None
        or target.clinic_id != actor.clinic_id
        or not is_staff(target)
        or target.id == actor.user_id
    ):
        raise _deny(actor, f"two_factor_reset:{user_id}"[:80])
    session.exec(delete(TotpCredential).where(TotpCredential.user_id == target.id))
    session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == target.id))
    session.exec(delete(TrustedDevice).where(TrustedDevice.user_id == target.id))
    sessions.revoke_all_sessions(session, user_id=target.id or 0)
    audit.record(
        session,
        action="two_factor_reset",
        actor_id=actor.user_id,
        target=f"user:{target.id}",
        ip=actor.ip,
    )
