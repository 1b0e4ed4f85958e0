"""Validated settings for KAP Journey, read from the environment (prefix ``KJ_``).

Secrets are never defaulted: the session key is read from ``KJ_SECRET_KEY`` or, when absent,
generated once into the data directory with owner-only permissions (see ``ensure_local_secrets``).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_NAMES = {"localhost": "localhost", "127.0.0.1": "127.0.0.1", "::1": "[::1]"}
WEAK_SECRETS = {"", "changeme", "change-me", "secret", "dev", "test", "password"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KJ_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    public_url: str = "http://localhost:3000"
    # Further origins this same app answers at (comma-separated, e.g. "https://kap.clinic.example");
    # every other Origin is refused on the event socket and on every route (issue 7).
    extra_origins: str = ""
    # The largest event-socket message accepted (bytes); a larger one closes that socket only.
    socket_max_message_bytes: int = 65_536
    secret_key: str = Field(default="", repr=False)

    clinician_idle_minutes: int = 15
    clinician_absolute_hours: int = 12
    client_idle_days: int = 30
    session_touch_seconds: int = 60
    invite_days: int = 7

    signin_window_minutes: int = 15
    signin_max_failures_per_account: int = 5
    signin_max_failures_per_address: int = 50

    # Rate limits (issue 7), counted in memory, or in Redis when one is named (KJ_REDIS_URL, else
    # Reflex's REFLEX_REDIS_URL) so every worker shares the counts. Events: at most
    # ``event_burst`` per ``event_window_seconds`` per session (20 per 2 s: bursts of 20,
    # 10 a second sustained); a refused flood is audited once per ``rate_limit_audit_seconds``.
    redis_url: str = Field(default="", repr=False)
    event_burst: int = 20
    event_window_seconds: int = 2
    rate_limit_audit_seconds: int = 60
    signin_requests_per_address_per_minute: int = 30
    invite_attempts: int = 10  # per address and per invite, per invite_window_minutes
    invite_window_minutes: int = 15
    api_requests_per_session_per_minute: int = 120  # state-changing /api/* routes

    # Web Push. The VAPID private key is read from KJ_VAPID_PRIVATE_KEY (raw 32-byte base64url)
    # or generated once into the data directory; the subject is the operator's contact.
    vapid_private_key: str = Field(default="", repr=False)
    vapid_subject: str = ""
    # Push services a subscription may use: hosts ("*.push.apple.com", HTTPS on 443 only) and
    # exact origins (tests add their loopback service). Empty means the browsers' own services.
    push_allowed: str = ""
    # The reminder worker: a lifespan task in every app worker unless switched off here (then run
    # ``python -m kapjourney.cli notify-worker``).
    notify_in_app: bool = True
    notify_interval_seconds: float = 30.0
    notify_lease_seconds: int = 120
    notify_max_attempts: int = 5
    # Reminders sent at once by each worker: a push service's round trip is waited out in
    # parallel (benchmarks/push_fanout.py).
    notify_concurrency: int = Field(default=32, ge=1, le=128)

    # Clinician single sign-on (OpenID Connect, issue 7). Off unless an issuer is set. The
    # provider signs people into one clinic (its slug or id); it may create clinician accounts
    # only when allowed. See kapjourney/auth/oidc.py.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = Field(default="", repr=False)
    oidc_clinic: str = ""
    oidc_allow_create: bool = False
    oidc_label: str = "Sign in with your clinic account"

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else (PROJECT_ROOT / value)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kapjourney.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """The app's own origins: the public one (with its loopback aliases) and any extra."""
        found = [self.public_origin]
        parts = urlsplit(self.public_url)
        if parts.hostname in LOOPBACK_NAMES:
            port = f":{parts.port}" if parts.port else ""
            found += [f"{parts.scheme}://{name}{port}" for name in LOOPBACK_NAMES.values()]
        for item in self.extra_origins.split(","):
            extra = urlsplit(item.strip())
            if extra.scheme in ("http", "https") and extra.netloc:
                found.append(f"{extra.scheme}://{extra.netloc}")
        return tuple(dict.fromkeys(found))

    @property
    def oidc_origin(self) -> str:
        """The sign-in provider's origin (a sign-in form may be redirected there), or ""."""
        parts = urlsplit(self.oidc_issuer)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def session_cookie_name(self) -> str:
        # The __Host- prefix pins the cookie to this host and path; browsers accept it only
        # with Secure, so plain-HTTP localhost uses the bare name.
        return "__Host-kj_session" if self.secure_cookies else "kj_session"

    @property
    def rate_limit_storage(self) -> str:
        """Where rate-limit counts live: the shared Redis when there is one, else this process."""
        return self.redis_url or os.environ.get("REFLEX_REDIS_URL", "") or "memory://"

    @property
    def push_subject(self) -> str:
        """The VAPID ``sub``: the configured contact, else a mailto at this host."""
        if self.vapid_subject:
            return self.vapid_subject
        host = urlsplit(self.public_url).hostname or "localhost"
        return f"mailto:push@{host}"

    def session_secret(self) -> str:
        """The server secret, from the environment or the data directory; never a default."""
        if self.secret_key:
            if self.secret_key.lower() in WEAK_SECRETS or len(self.secret_key) < 32:
                raise RuntimeError("KJ_SECRET_KEY is too weak: use at least 32 random characters")
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            raise RuntimeError(
                "No session secret: set KJ_SECRET_KEY or run `python -m kapjourney.cli init`"
            )
        return path.read_text().strip()


def ensure_local_secrets(settings: Settings) -> list[Path]:
    """Create the data directory and any missing secret files (mode 0600). Returns new files."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    if not settings.secret_key:
        path = settings.data_dir / "secret_key"
        if not path.exists():
            _write_private(path, secrets.token_urlsafe(48))
            created.append(path)
    if not settings.vapid_private_key:
        path = settings.data_dir / "vapid_private.pem"
        if not path.exists():
            from kapjourney.notifications.vapid import generate_pem

            _write_private(path, generate_pem())
            created.append(path)
    return created


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
