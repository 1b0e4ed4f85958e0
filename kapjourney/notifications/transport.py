"""Sending one Web Push message to one device: the only module that imports pywebpush.

``WebPushTransport.send`` never raises for anything the push service or the network does; it
returns a ``SendResult`` whose ``outcome`` the dispatcher records and acts on:

====================  =========================================  ==========================
outcome               cause                                      what the dispatcher does
====================  =========================================  ==========================
sent                  2xx (201 as a rule)                        done
gone (permanent)      404, 410: the subscription has expired     disable the subscription
rate_limited          429 (``retry_after`` from Retry-After)     retry after the delay
server_error          5xx (``retry_after`` when given)           retry with backoff
timeout               no answer within the timeout, or 408       retry with backoff
error                 connection failed, DNS outage              retry with backoff
refused (permanent)   endpoint outside the allowlist, or its     never send there
                      host resolves to a private address
rejected (permanent)  3xx, 400, 401/403 (VAPID), 413, other 4xx, do not retry this message
                      payload too large, malformed keys          on this device
====================  =========================================  ==========================

Nothing here logs an endpoint, a key or a payload: only the outcome, the status and the push
service's host. Outbound requests never follow redirects (ASVS 15.3.2), ignore proxy and
``.netrc`` settings from the environment, and, for endpoints admitted by host, connect only to
public addresses: checked before the request and again on the socket actually opened, so a DNS
answer that changes in between (rebinding) cannot reach the private network.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid01
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from kapjourney.domain.errors import ValidationFailed
from kapjourney.notifications.endpoints import (
    Allowlist,
    check_keys,
    endpoint_origin,
    is_public_ip,
    public_addresses_only,
)

logger = logging.getLogger(__name__)

OUTCOMES = (
    "sent",
    "gone",
    "rate_limited",
    "server_error",
    "timeout",
    "refused",
    "rejected",
    "error",
)
URGENCIES = ("very-low", "low", "normal", "high")
MAX_PAYLOAD_BYTES = 3000  # push services take about 4 KB after encryption overhead
MAX_TTL_SECONDS = 28 * 24 * 3600  # the longest any push service keeps a message
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SUBJECT = re.compile(r"(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """Where to send: a stored subscription's endpoint and keys."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class SendResult:
    outcome: str  # one of OUTCOMES
    status_code: int | None = None
    retry_after: float | None = None  # seconds, from Retry-After, capped at 24 h
    permanent: bool = False  # gone / refused / rejected: do not retry this message on this device


def check_send_options(*, ttl: int, urgency: str, topic: str | None) -> None:
    """Raise ``ValueError`` for options no push service accepts (a programming error)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be whole seconds between 0 and {MAX_TTL_SECONDS}")
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {URGENCIES}")
    if topic is not None and not (isinstance(topic, str) and _TOPIC.fullmatch(topic)):
        raise ValueError("topic must be 1-32 characters of the base64url alphabet")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), at most 24 h;
    None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class WebPushTransport:
    """Encrypts and sends messages with pywebpush, signing each with the server's VAPID key."""

    def __init__(
        self,
        *,
        vapid_private_key: Vapid01,
        subject: str,
        allowlist: Allowlist,
        timeout: float = 10.0,
        resolve_dns: bool = True,
    ) -> None:
        if not isinstance(vapid_private_key, Vapid01):
            raise TypeError("vapid_private_key must be a py_vapid Vapid instance")
        if not _SUBJECT.fullmatch(subject or ""):
            raise ValueError("the VAPID subject must be a mailto: address or an https: URL")
        self._vapid = vapid_private_key
        self._subject = subject
        self._allowlist = allowlist
        self._timeout = timeout
        self._resolve_dns = resolve_dns
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def send(
        self, target: Target, payload: dict, *, ttl: int, urgency: str, topic: str | None
    ) -> SendResult:
        check_send_options(ttl=ttl, urgency=urgency, topic=topic)
        try:
            origin, by_origin = endpoint_origin(target.endpoint, self._allowlist)
        except ValidationFailed:
            return _logged(SendResult("refused", permanent=True), host="(not allowed)")
        host = urlsplit(target.endpoint).hostname or ""
        try:
            p256dh, auth = check_keys(target.p256dh, target.auth)
        except ValidationFailed:
            return _logged(SendResult("rejected", permanent=True), host=host, why="bad keys")
        body = json.dumps(
            payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
        if len(body) > MAX_PAYLOAD_BYTES:
            return _logged(SendResult("rejected", permanent=True), host=host, why="too large")
        if self._resolve_dns and not by_origin:
            try:
                public = public_addresses_only(host)
            except OSError:
                return _logged(SendResult("error"), host=host, why="name not resolved")
            if not public:
                return _logged(
                    SendResult("refused", permanent=True), host=host, why="private address"
                )
        headers = {"Urgency": urgency}
        if topic is not None:
            headers["Topic"] = topic
        return _logged(self._post(target.endpoint, origin, p256dh, auth, body, ttl, headers), host)

    def close(self) -> None:
        """Close the connection pools of every thread that sent."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def _post(
        self,
        endpoint: str,
        origin: str,
        p256dh: str,
        auth: str,
        body: bytes,
        ttl: int,
        headers: dict[str, str],
    ) -> SendResult:
        # pywebpush writes "aud" and "exp" into the claims it is given: a fresh dict every send,
        # so one push service's audience never signs a token for another.
        claims: dict[str, str | int] = {"sub": self._subject, "aud": origin}
        try:
            response = webpush(
                subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=body,  # type: ignore[arg-type]  # pywebpush encrypts bytes as they are
                vapid_private_key=self._vapid,
                vapid_claims=claims,
                content_encoding="aes128gcm",
                timeout=self._timeout,
                ttl=ttl,
                headers=headers,  # type: ignore[arg-type]
                requests_session=self._session(),
            )
        except WebPushException as failure:
            if failure.response is None:  # pywebpush refused the subscription itself
                return SendResult("rejected", permanent=True)
            return _from_status(failure.response.status_code, failure.response.headers)
        except requests.exceptions.Timeout:
            return SendResult("timeout")
        except requests.exceptions.ConnectionError as failure:
            if _caused_by_private_address(failure):
                return SendResult("refused", permanent=True)
            return SendResult("error")
        except Exception as failure:  # never let a worker die on one message; no message text,
            # which may carry the endpoint
            logger.error("push send failed unexpectedly: %s", type(failure).__name__)
            return SendResult("error")
        return _from_status(response.status_code, response.headers)  # type: ignore[union-attr]

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = PushSession(
                trusted_origins=self._allowlist.origins, public_only=self._resolve_dns
            )
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session


def _from_status(status: int, headers) -> SendResult:
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if 200 <= status < 300:
        return SendResult("sent", status)
    if status in (404, 410):
        return SendResult("gone", status, permanent=True)
    if status == 429:
        return SendResult("rate_limited", status, retry_after)
    if status == 408:
        return SendResult("timeout", status, retry_after)
    if status >= 500:
        return SendResult("server_error", status, retry_after)
    if status in (401, 403):
        logger.warning("push service refused our VAPID signature (%s): check the key", status)
    return SendResult("rejected", status, permanent=True)  # 3xx and the other 4xx


def _logged(result: SendResult, host: str, why: str = "") -> SendResult:
    level = logging.DEBUG if result.outcome == "sent" else logging.INFO
    if result.outcome in ("refused", "rejected", "error"):
        level = logging.WARNING
    logger.log(
        level,
        "push %s status=%s host=%s%s",
        result.outcome,
        result.status_code if result.status_code is not None else "-",
        host,
        f" ({why})" if why else "",
    )
    return result


# -- outbound HTTP: no redirects, no environment proxies, public addresses only ---------------


class _PrivateAddress(NewConnectionError):
    """The socket reached a non-public address; raised before a byte is sent."""


class _PublicOnlyMixin:
    def _new_conn(self):
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            peer = sock.getpeername()[0]
        except OSError:
            peer = ""
        if not is_public_ip(peer):
            sock.close()
            raise _PrivateAddress(self, "refused: not a public address")  # type: ignore[arg-type]
        return sock


class _PublicHTTPConnection(_PublicOnlyMixin, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnlyMixin, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


class PushSession(requests.Session):
    """A requests session for push services: never follows a redirect (a 3xx comes back as the
    response), ignores proxy and .netrc settings from the environment, and, when
    ``public_only``, connects only to public addresses, except to the exact trusted origins."""

    def __init__(self, *, trusted_origins: tuple[str, ...] = (), public_only: bool = True) -> None:
        super().__init__()
        self.trust_env = False
        self.max_redirects = 0
        if public_only:
            self.mount("https://", _PublicOnlyAdapter())
            self.mount("http://", _PublicOnlyAdapter())
        for origin in trusted_origins:  # the longest matching prefix wins
            self.mount(origin + "/", HTTPAdapter())
            scheme, _, rest = origin.partition("://")
            if ":" not in rest.rpartition("]")[2]:  # the default port, also spelt out
                self.mount(f"{origin}:{_DEFAULT_PORTS[scheme]}/", HTTPAdapter())

    def send(self, request, **kwargs):
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)

    def resolve_redirects(self, *args, **kwargs):
        return iter(())


def _caused_by_private_address(failure: BaseException) -> bool:
    seen: set[int] = set()
    pending: list[object] = [failure]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        if isinstance(item, _PrivateAddress):
            return True
        seen.add(id(item))
        pending.extend(
            [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
        )
    return False
