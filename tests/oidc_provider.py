"""A small, real OpenID Connect provider for tests: Starlette under uvicorn on 127.0.0.1, in a
thread.

It serves discovery (``/.well-known/openid-configuration``), a JWKS with an RS256 key generated per
run, ``/authorize`` (checks the client, the registered redirect URI, ``scope=openid``, ``state``
and a PKCE S256 challenge, then auto-approves ``provider.person``, or answers
``error=access_denied`` when nobody is set) and ``/token`` (client secret by Basic or form,
single-use codes bound to their redirect URI, the PKCE verifier checked against the challenge).

Knobs to misbehave, reset by ``provider.reset()``: ``nonce`` (send this nonce instead of the
one asked for), ``expired`` (an ID token that expired an hour ago), ``audience`` (send this
``aud``), ``azp``, ``issuer`` (sign as another issuer), ``rogue_key`` (sign with a key not in the
JWKS that claims the published key's ``kid``), ``extra_claims`` (merged into the ID token),
``state`` (send the browser back with this state instead: a forged one).

Usage::

    from tests.oidc_provider import oidc_provider_fixture  # noqa: F401  (the fixture)

    def test_x(oidc_provider):
        oidc_provider.allow_redirect("http://testserver/auth/oidc/callback")
        oidc_provider.person = Person(sub="u-1", email="cleo@test.example")
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.loopback_server import LoopbackServer

CLIENT_ID = "kap-journey-test"
KID = "test-signing-key"


@dataclass
class Person:
    """Who the provider signs in; ``email_verified`` and the rest go into the ID token."""

    sub: str
    email: str
    email_verified: bool = True
    name: str = "Sam Single-Sign-On"


@dataclass
class _Grant:
    redirect_uri: str
    challenge: str
    nonce: str | None
    person: Person


@dataclass
class OidcProvider(LoopbackServer):
    what = "the test OpenID provider"

    client_id: str = CLIENT_ID
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    person: Person | None = None
    nonce: str | None = None
    expired: bool = False
    audience: Any = None
    azp: str | None = None
    issuer: str | None = None
    rogue_key: bool = False
    state: str | None = None
    extra_claims: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        params = {"kid": KID, "alg": "RS256", "use": "sig"}
        self.key = RSAKey.generate_key(2048, parameters=params)
        self.other_key = RSAKey.generate_key(2048, parameters=params)
        self._redirects: set[str] = set()
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._serve(
            [
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    # -- knobs -------------------------------------------------------------------------------

    def allow_redirect(self, uri: str) -> None:
        self._redirects.add(uri)

    def reset(self) -> None:
        self.person = None
        self.nonce = self.audience = self.azp = self.issuer = self.state = None
        self.expired = self.rogue_key = False
        self.extra_claims = {}
        self.requests.clear()

    # -- endpoints -----------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.origin,
                "authorization_endpoint": f"{self.origin}/authorize",
                "token_endpoint": f"{self.origin}/token",
                "jwks_uri": f"{self.origin}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.requests.append(("authorize", q))
        if q.get("client_id") != self.client_id or q.get("redirect_uri") not in self._redirects:
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        redirect = q["redirect_uri"]
        problem = None
        if (
            q.get("response_type") != "code"
            or "openid" not in q.get("scope", "").split()
            or q.get("code_challenge_method") != "S256"
            or len(q.get("code_challenge", "")) < 43
            or not q.get("state")
        ):
            problem = "invalid_request"
        elif self.person is None:
            problem = "access_denied"
        if problem:
            return RedirectResponse(f"{redirect}?{urlencode({'error': problem, **_state(q)})}")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(redirect, q["code_challenge"], q.get("nonce"), self.person)
        state = {"state": self.state} if self.state else _state(q)
        return RedirectResponse(f"{redirect}?{urlencode({'code': code, **state})}")

    async def _token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.requests.append(("token", {k: v for k, v in form.items() if k != "client_secret"}))
        client_id, secret = _basic(request.headers.get("authorization", ""))
        client_id = client_id or form.get("client_id")
        secret = secret or form.get("client_secret")
        if client_id != self.client_id or secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self._id_token(grant),
            },
            headers={"cache-control": "no-store"},
        )

    def _id_token(self, grant: _Grant) -> str:
        issued = int(time.time()) - (3700 if self.expired else 0)
        claims: dict[str, Any] = {
            "iss": self.issuer or self.origin,
            "sub": grant.person.sub,
            "aud": self.audience if self.audience is not None else self.client_id,
            "iat": issued,
            "auth_time": issued,
            "exp": issued + 300,
            "email": grant.person.email,
            "email_verified": grant.person.email_verified,
            "name": grant.person.name,
        }
        nonce = self.nonce if self.nonce is not None else grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        if self.azp is not None:
            claims["azp"] = self.azp
        claims.update(self.extra_claims)
        key = self.other_key if self.rogue_key else self.key
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key)


def _state(query: dict[str, str]) -> dict[str, str]:
    return {"state": query["state"]} if query.get("state") else {}


def _basic(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None, None
    try:
        decoded = base64.b64decode(value).decode()
    except ValueError:
        return None, None
    user, _, password = decoded.partition(":")
    return unquote(user), unquote(password)


@contextlib.contextmanager
def running_oidc_provider() -> Iterator[OidcProvider]:
    provider = OidcProvider().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session", name="oidc_provider")
def oidc_provider_fixture() -> Iterator[OidcProvider]:
    """One provider for the test session; each test sets ``person`` and knobs, and gets them
    reset afterwards."""
    with running_oidc_provider() as provider:
        yield provider


# -- driving the flow through the app under test (HTTP tier) ----------------------------------


def authorize(location: str) -> str:
    """Follow the app's redirect to the provider; returns where the provider sends the browser
    back (the callback URL with ``code`` and ``state``, or ``error``)."""
    import httpx

    answer = httpx.get(location, follow_redirects=False, timeout=10)
    assert answer.status_code in (302, 307), answer.text
    return answer.headers["location"]


def start_and_authorize(client, path: str = "/auth/oidc/start") -> str:
    """GET the app's start route with ``client`` (a TestClient), go through the provider, and
    return the callback URL the browser would be sent to."""
    started = client.get(path, follow_redirects=False)
    assert started.status_code == 303, started.text
    return authorize(started.headers["location"])
