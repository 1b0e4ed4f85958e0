"""Clinician single sign-on with OpenID Connect: authorization code flow, PKCE S256, state, nonce.

authlib's Starlette client does the discovery (the issuer's ``/.well-known/openid-configuration``),
the code exchange and the ID token checks (signature against the JWKS, ``iss``, ``aud``, ``exp``,
``nonce``, ``azp``). This module keeps each login in flight server-side (``OidcPendingLogin``:
single use, bound to the browser by an HttpOnly cookie, minutes long) so nothing but ``state``
travels in a URL. ``oidc_accounts`` maps the verified identity to an account.

Providers come from the environment today (``KJ_OIDC_*``, one provider keyed "default"); every
function takes an ``OidcProvider``, so a per-clinic table of several providers can feed the same
code later.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import ClaimError, JoseError
from sqlalchemy import delete
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.models import OidcPendingLogin
from kapjourney.settings import Settings

PENDING_MINUTES = 10
LEEWAY_SECONDS = 60  # clock skew allowed on exp / iat
SCOPES = "openid email profile"
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9/_\-]{0,199}$")
# authlib logs PKCE verifiers and tokens at DEBUG: keep them out of our logs at any level.
logging.getLogger("authlib").setLevel(max(logging.getLogger("authlib").level, logging.INFO))


class SsoFailure(Exception):
    """A sign-in that did not go through. ``reason`` is a short code for the audit log: never a
    token, a claim value or the provider's own words."""

    def __init__(self, reason: str, *, actor_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.actor_id = actor_id  # the account concerned, when one was found


@dataclass(frozen=True)
class OidcProvider:
    key: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    clinic: str  # the slug or id of the clinic it signs people into
    allow_create: bool
    label: str

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def configured_providers(settings: Settings) -> list[OidcProvider]:
    """The providers this deployment offers; [] when single sign-on is off.

    A half-filled configuration stops the app rather than offering a button that cannot work.
    """
    if not settings.oidc_issuer:
        return []
    missing = [
        name
        for name, value in (
            ("KJ_OIDC_CLIENT_ID", settings.oidc_client_id),
            ("KJ_OIDC_CLIENT_SECRET", settings.oidc_client_secret),
            ("KJ_OIDC_CLINIC", settings.oidc_clinic),
        )
        if not value
    ]
    if missing:
        raise RuntimeError(f"KJ_OIDC_ISSUER is set but {', '.join(missing)} is not")
    if settings.env == "production" and urlsplit(settings.oidc_issuer).scheme != "https":
        raise RuntimeError("KJ_OIDC_ISSUER must be an https URL in production")
    return [
        OidcProvider(
            key="default",
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            clinic=settings.oidc_clinic,
            allow_create=settings.oidc_allow_create,
            label=settings.oidc_label.strip()[:60] or "Sign in with single sign-on",
        )
    ]


def find_provider(settings: Settings, key: str = "default") -> OidcProvider | None:
    return next((p for p in configured_providers(settings) if p.key == key), None)


_CLIENTS: dict[tuple[str, str, str], Any] = {}


def _client(provider: OidcProvider) -> Any:
    """One authlib client per provider configuration; it caches discovery and the JWKS (and
    fetches the JWKS again when a token names a key it has not seen)."""
    cache_key = (provider.issuer, provider.client_id, provider.client_secret)
    client = _CLIENTS.get(cache_key)
    if client is None:
        client = OAuth().register(
            name=f"kj_{provider.key}",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": 10},
        )
        _CLIENTS[cache_key] = client
    return client


async def _metadata(provider: OidcProvider) -> dict[str, Any]:
    try:
        metadata = await _client(provider).load_server_metadata()
    except (httpx.HTTPError, ValueError) as problem:
        raise SsoFailure("discovery_unavailable") from problem
    if metadata.get("issuer") != provider.issuer:  # OpenID Connect Discovery 1.0, section 4.3
        _CLIENTS.clear()  # a corrected provider is read afresh next time
        raise SsoFailure("discovery_issuer_mismatch")
    return metadata


async def authorization_request(provider: OidcProvider, *, redirect_uri: str) -> dict[str, str]:
    """The provider's authorization URL with fresh ``state``, ``nonce`` and PKCE verifier."""
    await _metadata(provider)
    try:
        return await _client(provider).create_authorization_url(redirect_uri)
    except (httpx.HTTPError, RuntimeError) as problem:
        raise SsoFailure("authorize_unavailable") from problem


def safe_return_path(value: str | None) -> str:
    """An in-app path to land on afterwards, or "" (never another site, never a scheme)."""
    return value if value and _SAFE_PATH.match(value) and not value.startswith("//") else ""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def save_pending(
    session: Session, *, provider: OidcProvider, request: dict[str, str], return_to: str
) -> str:
    """Keep a login in flight; returns the random value for the browser's HttpOnly cookie.
    Logins that were never finished are swept here."""
    started = now()
    session.exec(delete(OidcPendingLogin).where(OidcPendingLogin.expires_at < started))
    browser_secret = secrets.token_urlsafe(32)
    session.add(
        OidcPendingLogin(
            state_hash=_digest(request["state"]),
            browser_hash=_digest(browser_secret),
            provider=provider.key,
            nonce=request["nonce"],
            code_verifier=request["code_verifier"],
            return_to=safe_return_path(return_to),
            created_at=started,
            expires_at=started + timedelta(minutes=PENDING_MINUTES),
        )
    )
    return browser_secret


@dataclass(frozen=True)
class PendingLogin:
    provider: str
    nonce: str
    code_verifier: str
    return_to: str


def take_pending(
    session: Session, *, state: str | None, browser_secret: str | None
) -> PendingLogin:
    """Use up the login that ``state`` names. Raises ``SsoFailure`` when the state is unknown or
    already used, belongs to another browser, or is too old; a matched row is deleted either way,
    so a state works once."""
    if not state or len(state) > 256:
        raise SsoFailure("missing_state")
    row = session.exec(
        select(OidcPendingLogin).where(OidcPendingLogin.state_hash == _digest(state))
    ).first()
    if row is None:
        raise SsoFailure("unknown_state")
    session.delete(row)
    session.flush()
    if not browser_secret or not secrets.compare_digest(row.browser_hash, _digest(browser_secret)):
        raise SsoFailure("other_browser")
    if as_utc(row.expires_at) <= now():
        raise SsoFailure("expired_state")
    return PendingLogin(row.provider, row.nonce, row.code_verifier, row.return_to)


async def verified_claims(
    provider: OidcProvider, *, code: str | None, pending: PendingLogin, redirect_uri: str
) -> dict[str, Any]:
    """Exchange the code and return the ID token's claims once every check has passed."""
    if not code or len(code) > 2048:
        raise SsoFailure("missing_code")
    metadata = await _metadata(provider)
    client = _client(provider)
    try:
        token = await client.fetch_access_token(
            redirect_uri=redirect_uri, code=code, code_verifier=pending.code_verifier
        )
    except (OAuthError, httpx.HTTPError, ValueError) as problem:
        raise SsoFailure("token_exchange_failed") from problem
    if not isinstance(token, dict) or not token.get("id_token"):
        raise SsoFailure("no_id_token")
    # authlib checks aud only through azp: pin iss and aud (and require sub) ourselves.
    options = {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
    }
    try:
        claims = await client.parse_id_token(
            token, nonce=pending.nonce, claims_options=options, leeway=LEEWAY_SECONDS
        )
    except ClaimError as problem:
        raise SsoFailure(f"id_token_{problem.error}:{problem.claim}"[:60]) from problem
    except JoseError as problem:
        raise SsoFailure(f"id_token_{problem.error}"[:60]) from problem
    except (httpx.HTTPError, ValueError) as problem:
        raise SsoFailure("id_token_unreadable") from problem
    return dict(claims)
