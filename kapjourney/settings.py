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
WEAK_SECRETS = {"", "changeme", "change-me", "secret", "dev", "test", "password"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KJ_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    public_url: str = "http://localhost:3000"
    secret_key: str = Field(default="", repr=False)

    clinician_idle_minutes: int = 15
    clinician_absolute_hours: int = 12
    client_idle_days: int = 30
    session_touch_seconds: int = 60
    invite_days: int = 7

    signin_window_minutes: int = 15
    signin_max_failures_per_account: int = 5
    signin_max_failures_per_address: int = 50

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
    def session_cookie_name(self) -> str:
        # The __Host- prefix pins the cookie to this host and path; browsers accept it only
        # with Secure, so plain-HTTP localhost uses the bare name.
        return "__Host-kj_session" if self.secure_cookies else "kj_session"

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
