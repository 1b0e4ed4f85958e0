"""A real Web Push service for tests: Starlette under uvicorn on 127.0.0.1, in a thread.

It does what FCM, Mozilla's autopush and Apple's service do with a message, minus delivery:
checks the VAPID ``Authorization: vapid t=<JWT>,k=<key>`` (ES256 signature by ``k``; ``k`` the
applicationServerKey the subscription was made with; ``aud`` this origin; ``exp`` in the future
and at most 24 h away; ``sub`` a mailto: or https: contact), requires ``TTL`` and
``Content-Encoding: aes128gcm``, decrypts the body with the subscriber's private key and auth
secret (RFC 8291, http_ece), and records what arrived.

Usage::

    from tests.push_service import make_subscription, push_service_fixture  # noqa: F401

    def test_x(push_service):
        sub = make_subscription(push_service)            # browser-shaped PushSubscription JSON
        ... send with push_service.vapid (or pass application_server_key= your own key) ...
        assert push_service.deliveries_for(sub)[0].payload == {...}

Behaviours per subscription: "ok" (201), "gone" (410), "not_found" (404), "rate_limited:N:S"
(429 with Retry-After S for the first N requests, then 201), "error:N" (503 for the first N,
then 201), "slow:S" (wait S seconds, then 201), "redirect" (307 to a path that would accept it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from py_vapid import jwt as vapid_jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback_server import LoopbackServer

MAX_BODY = 4096
_SUB = re.compile(r"(mailto:[^@\s]+@[^@\s]+|https://\S+)", re.IGNORECASE)
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_URGENCIES = {"very-low", "low", "normal", "high"}
_BEHAVIOUR = re.compile(r"ok|gone|not_found|redirect|rate_limited:\d+:\d+|error:\d+|slow:[\d.]+")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_b64(vapid: Vapid) -> str:
    """A VAPID key's applicationServerKey (base64url uncompressed point), as browsers take it."""
    return b64url(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def new_vapid() -> Vapid:
    vapid = Vapid()
    vapid.generate_keys()
    return vapid


@dataclass
class Delivery:
    """A message the service accepted, decrypted."""

    sub_id: str
    payload: object  # the decrypted JSON (or the text, when not JSON)
    raw: bytes
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict
    at: float = field(default_factory=time.time)


@dataclass
class Hit:
    """Any request that reached the service, whatever it answered."""

    path: str
    sub_id: str
    status: int
    reason: str = ""
    at: float = field(default_factory=time.time)


@dataclass
class _Registration:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str
    behaviour: str
    requests: int = 0


class PushService(LoopbackServer):
    what = "the test push service"

    """The service: its ``origin``, subscriptions made by ``make_subscription``, and what it
    received: ``deliveries`` (accepted, decrypted) and ``hits`` (every request and its answer)."""

    def __init__(self, expected_key: str, *, vapid: Vapid | None = None) -> None:
        self.expected_key = expected_key  # the applicationServerKey subscriptions are made with
        self.vapid = vapid  # the matching signer, for the tests' convenience
        self.deliveries: list[Delivery] = []
        self.hits: list[Hit] = []
        self._registrations: dict[str, _Registration] = {}
        self._lock = threading.Lock()
        self._serve(
            [
                Route("/push/{sub_id}", self._push, methods=["POST"]),
                Route("/accept/{sub_id}", self._accept, methods=["POST"]),
            ]
        )

    # -- what tests use ------------------------------------------------------------------------

    def register(self, behaviour: str = "ok", *, application_server_key: str | None = None) -> dict:
        if not _BEHAVIOUR.fullmatch(behaviour):
            raise ValueError(f"unknown behaviour {behaviour!r}")
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        sub_id = secrets.token_urlsafe(16)
        with self._lock:
            self._registrations[sub_id] = _Registration(
                private_key=private_key,
                auth=auth,
                application_server_key=application_server_key or self.expected_key,
                behaviour=behaviour,
            )
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.origin}/push/{sub_id}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(auth)},
        }

    def deliveries_for(self, subscription: dict | str) -> list[Delivery]:
        sub_id = _sub_id(subscription)
        return [d for d in list(self.deliveries) if d.sub_id == sub_id]

    def hits_for(self, subscription: dict | str) -> list[Hit]:
        sub_id = _sub_id(subscription)
        return [h for h in list(self.hits) if h.sub_id == sub_id]

    # -- the push protocol ---------------------------------------------------------------------

    async def _push(self, request: Request) -> Response:
        return await self._receive(request, redirected=False)

    async def _accept(self, request: Request) -> Response:
        return await self._receive(request, redirected=True)

    async def _receive(self, request: Request, *, redirected: bool) -> Response:
        sub_id = request.path_params["sub_id"]
        path = request.url.path
        with self._lock:
            registration = self._registrations.get(sub_id)
        if registration is None:
            return self._answer(path, sub_id, 404, "unknown subscription")
        checked = self._check(request, registration)
        if isinstance(checked, tuple):
            return self._answer(path, sub_id, *checked)
        claims = checked
        body = await request.body()
        if len(body) > MAX_BODY:
            return self._answer(path, sub_id, 413, "payload too large")
        try:
            raw = http_ece.decrypt(
                body,
                private_key=registration.private_key,
                auth_secret=registration.auth,
                version="aes128gcm",
            )
        except Exception:  # any failure to decrypt is the sender's fault
            return self._answer(path, sub_id, 400, "cannot decrypt")

        behaviour = registration.behaviour
        with self._lock:
            registration.requests += 1
            count = registration.requests
        if not redirected:
            kind, _, arg = behaviour.partition(":")
            if kind == "gone":
                return self._answer(path, sub_id, 410, "subscription expired")
            if kind == "not_found":
                return self._answer(path, sub_id, 404, "no such subscription")
            if kind == "redirect":
                self.hits.append(Hit(path, sub_id, 307, "moved"))
                return Response(
                    status_code=307, headers={"Location": f"{self.origin}/accept/{sub_id}"}
                )
            if kind == "rate_limited":
                limit, seconds = (int(x) for x in arg.split(":"))
                if count <= limit:
                    self.hits.append(Hit(path, sub_id, 429, "slow down"))
                    return JSONResponse(
                        {"reason": "slow down"},
                        status_code=429,
                        headers={"Retry-After": str(seconds)},
                    )
            if kind == "error" and count <= int(arg):
                return self._answer(path, sub_id, 503, "unavailable")
            if kind == "slow" and await _client_left_while_waiting(request, float(arg)):
                self.hits.append(Hit(path, sub_id, 499, "client went away"))
                return Response(status_code=201)
        try:
            payload: object = json.loads(raw)
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        self.deliveries.append(
            Delivery(
                sub_id=sub_id,
                payload=payload,
                raw=raw,
                ttl=int(request.headers["ttl"]),
                urgency=request.headers.get("urgency"),
                topic=request.headers.get("topic"),
                claims=claims,
            )
        )
        self.hits.append(Hit(path, sub_id, 201))
        return Response(status_code=201, headers={"Location": f"{self.origin}/message/{sub_id}"})

    def _check(self, request: Request, registration: _Registration) -> dict | tuple[int, str]:
        """The VAPID claims, or (status, reason) for a request a push service would refuse."""
        parts = _parse_vapid_header(request.headers.get("authorization", ""))
        if parts is None:
            return 401, "missing or malformed vapid authorization"
        token, key = parts
        if key.rstrip("=") != registration.application_server_key.rstrip("="):
            return 403, "key does not match the subscription's applicationServerKey"
        try:
            header = json.loads(_unb64url(token.split(".", 1)[0]))
            claims = vapid_jwt.decode(token, key)
        except (InvalidSignature, ValueError, binascii.Error):
            return 401, "bad signature"
        if header.get("alg") != "ES256" or not isinstance(claims, dict):
            return 401, "bad token"
        now = time.time()
        exp = claims.get("exp")
        if claims.get("aud") != self.origin:
            return 403, "aud is not this push service"
        if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
            return 403, "exp missing, past, or more than 24 h away"
        if not isinstance(claims.get("sub"), str) or not _SUB.fullmatch(claims["sub"]):
            return 403, "sub is not a mailto: or https: contact"
        ttl = request.headers.get("ttl", "")
        if not ttl.isdigit():
            return 400, "TTL header required"
        if request.headers.get("content-encoding", "").lower() != "aes128gcm":
            return 415, "content-encoding must be aes128gcm"
        urgency = request.headers.get("urgency")
        if urgency is not None and urgency not in _URGENCIES:
            return 400, "bad urgency"
        topic = request.headers.get("topic")
        if topic is not None and not _TOPIC.fullmatch(topic):
            return 400, "bad topic"
        return claims

    def _answer(self, path: str, sub_id: str, status: int, reason: str) -> Response:
        self.hits.append(Hit(path, sub_id, status, reason))
        return JSONResponse({"reason": reason}, status_code=status)


def _parse_vapid_header(value: str) -> tuple[str, str] | None:
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "vapid":
        return None
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    token, key = fields.get("t", ""), fields.get("k", "")
    if token.count(".") != 2 or not key:
        return None
    return token, key


async def _client_left_while_waiting(request: Request, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(0.05)
    return await request.is_disconnected()


def _sub_id(subscription: dict | str) -> str:
    if isinstance(subscription, dict):
        return subscription["endpoint"].rsplit("/", 1)[-1]
    return subscription


def make_subscription(
    service: PushService, behaviour: str = "ok", *, application_server_key: str | None = None
) -> dict:
    """What ``PushSubscription.toJSON()`` gives a page subscribed at ``service``: a fresh P-256
    key pair and 16-byte auth secret, as a browser makes them. ``application_server_key``
    defaults to the service's ``expected_key``."""
    return service.register(behaviour, application_server_key=application_server_key)


@contextlib.contextmanager
def running_push_service(
    expected_key: str | None = None, *, vapid: Vapid | None = None
) -> Iterator[PushService]:
    """A started service; with no key, a new VAPID key is made and left on ``service.vapid``."""
    if expected_key is None:
        vapid = vapid or new_vapid()
        expected_key = public_key_b64(vapid)
    service = PushService(expected_key, vapid=vapid).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module", name="push_service")
def push_service_fixture() -> Iterator[PushService]:
    """The ``push_service`` fixture: a service for the module, with its own VAPID key on
    ``push_service.vapid``. Import ``push_service_fixture`` (no name clash with the argument)."""
    with running_push_service() as service:
        yield service


# The same fixture under the name the brief used: `from tests.push_service import push_service`.
push_service = push_service_fixture
