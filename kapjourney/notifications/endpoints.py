"""Which push endpoints the server will send to, and what a browser subscription must look like.

A subscription's endpoint is a URL the server later POSTs to, so accepting one is an outbound
request on a stranger's behalf (ASVS 1.3.6, 13.2.4): only HTTPS on port 443 to the known push
services, or an exact origin the operator (or a test) trusts. The endpoint is also a bearer
capability for the device: it is never echoed in a message nor logged.

DNS is not consulted when a subscription is saved; ``resolve_is_public`` is for send time.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from kapjourney.domain.errors import ValidationFailed

DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, most Chromium browsers
    "android.googleapis.com",  # older Chrome subscriptions
    "*.push.apple.com",  # Safari and iOS home-screen apps (web.push.apple.com)
    "updates.push.services.mozilla.com",  # Firefox
    "*.notify.windows.com",  # Edge on Windows (wns2-*.notify.windows.com)
)

MAX_ENDPOINT_LENGTH = 2048

NOT_ALLOWED = "Reminders can only use your browser's push service."
MALFORMED = "That push subscription is malformed."

# RFC 3986 characters real push endpoints use; no quotes, angle brackets, spaces, backslashes
# or "#", so neither markup nor a parser disagreement can ride in on an endpoint.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&()*+,;=%]+")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Allowlist:
    """Hosts ("fcm.googleapis.com", "*.push.apple.com": HTTPS on 443 only) and exact origins
    ("http://127.0.0.1:8123") an operator or a test trusts as push services."""

    hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    origins: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> Allowlist:
        """Comma-separated entries; those with "://" are origins, the rest hosts. An empty value
        means the browsers' own push services. A malformed entry raises ``ValueError``."""
        entries = [part.strip() for part in (value or "").split(",") if part.strip()]
        if not entries:
            return cls()
        hosts: list[str] = []
        origins: list[str] = []
        for entry in entries:
            if "://" in entry:
                origins.append(_normalise_origin(entry))
            else:
                hosts.append(_normalise_host_pattern(entry))
        return cls(hosts=tuple(dict.fromkeys(hosts)), origins=tuple(dict.fromkeys(origins)))

    def trusts_origin(self, origin: str) -> bool:
        return origin in self.origins

    def allows_host(self, host: str) -> bool:
        for pattern in self.hosts:
            if pattern.startswith("*."):
                # "*.push.apple.com" covers web.push.apple.com, never push.apple.com itself.
                if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                    return True
            elif host == pattern:
                return True
        return False


@dataclass(frozen=True)
class Subscription:
    """A browser's push subscription, checked: the endpoint and its two keys (base64url)."""

    endpoint: str
    p256dh: str
    auth: str

    @property
    def host(self) -> str:
        """The push service's host, safe to show and log (the endpoint itself is not)."""
        return urlsplit(self.endpoint).hostname or ""


def check_endpoint(url: object, allowlist: Allowlist) -> str:
    """Return ``url`` when the server may POST to it; else raise ``ValidationFailed``."""
    if not isinstance(url, str):
        raise ValidationFailed({"subscription": MALFORMED})
    _classify(url, allowlist)
    return url


def endpoint_origin(url: str, allowlist: Allowlist) -> tuple[str, bool]:
    """For a checked endpoint: its origin (the VAPID ``aud``) and whether it matched one of the
    allowlist's exact trusted origins (True) rather than an allowlisted host (False)."""
    origin, _host, by_origin = _classify(url, allowlist)
    return origin, by_origin


def check_keys(p256dh: object, auth: object) -> tuple[str, str]:
    """The subscription's keys as unpadded base64url: ``p256dh`` an uncompressed point on P-256
    (65 bytes), ``auth`` a 16-byte secret. Anything else raises ``ValidationFailed``."""
    raw_key = _b64url_bytes(p256dh, max_chars=100)
    raw_auth = _b64url_bytes(auth, max_chars=32)
    if raw_key is None or raw_auth is None or len(raw_key) != 65 or len(raw_auth) != 16:
        raise ValidationFailed({"subscription": MALFORMED})
    if raw_key[0] != 0x04:
        raise ValidationFailed({"subscription": MALFORMED})
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_key)
    except ValueError:  # not a point on the curve
        raise ValidationFailed({"subscription": MALFORMED}) from None
    return _b64url(raw_key), _b64url(raw_auth)


def check_subscription(data: object, allowlist: Allowlist) -> Subscription:
    """Check a browser's ``PushSubscription.toJSON()``: ``{"endpoint", "expirationTime",
    "keys": {"p256dh", "auth"}}``. Other members are ignored."""
    if not isinstance(data, Mapping):
        raise ValidationFailed({"subscription": MALFORMED})
    keys = data.get("keys")
    if not isinstance(keys, Mapping):
        raise ValidationFailed({"subscription": MALFORMED})
    endpoint = check_endpoint(data.get("endpoint"), allowlist)
    p256dh, auth = check_keys(keys.get("p256dh"), keys.get("auth"))
    return Subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)


def resolve_is_public(host: str) -> bool:
    """Resolve ``host``; True only when every address it has is a public unicast address.
    An unresolvable host is not public."""
    try:
        return public_addresses_only(host)
    except OSError:
        return False


def public_addresses_only(host: str) -> bool:
    """Like ``resolve_is_public`` but lets a resolution failure (``OSError``) through, so a
    caller can tell a DNS outage (try later) from a private address (never)."""
    infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(is_public_ip(address) for address in addresses)


def is_public_ip(address: str) -> bool:
    """A global unicast address: not private, loopback, link-local, multicast, reserved,
    unspecified or shared (CGNAT); IPv4-mapped IPv6 is judged as the IPv4 it carries."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


# -- internals -----------------------------------------------------------------------------


def _classify(url: str, allowlist: Allowlist) -> tuple[str, str, bool]:
    """(origin, host, matched-by-exact-origin) for an endpoint the allowlist admits."""
    if not url or len(url) > MAX_ENDPOINT_LENGTH:
        raise ValidationFailed({"subscription": MALFORMED})
    if not url.isascii() or not _URL_CHARS.fullmatch(url):
        raise ValidationFailed({"subscription": MALFORMED})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed({"subscription": MALFORMED}) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        raise ValidationFailed({"subscription": NOT_ALLOWED if host else MALFORMED})
    effective_port = port if port is not None else _DEFAULT_PORTS[scheme]
    origin = _origin(scheme, host, effective_port)
    if allowlist.trusts_origin(origin):
        return origin, host, True
    if scheme != "https" or effective_port != 443 or _is_ip_literal(host):
        raise ValidationFailed({"subscription": NOT_ALLOWED})
    if not allowlist.allows_host(host):
        raise ValidationFailed({"subscription": NOT_ALLOWED})
    return origin, host, False


def _origin(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown}"
    return f"{scheme}://{shown}:{port}"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # As the WHATWG URL parser does: a host whose last label is a number is an IPv4 address
        # in some spelling (127.1, 0x7f.0.0.1, 2130706433), never a name.
        last = host.rstrip(".").rsplit(".", 1)[-1]
        return last.isdigit() or bool(re.fullmatch(r"0x[0-9a-f]*", last))
    return True


def _normalise_origin(entry: str) -> str:
    parts = urlsplit(entry.rstrip("/"))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or port == -1
        or "@" in parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"push allowlist: {entry!r} is not an origin like https://host:port")
    return _origin(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def _normalise_host_pattern(entry: str) -> str:
    pattern = entry.lower()
    bare = pattern[2:] if pattern.startswith("*.") else pattern
    labels = bare.split(".")
    if not bare or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"push allowlist: {entry!r} is not a host name or *.suffix")
    if pattern.startswith("*.") and len(labels) < 2:
        raise ValueError(f"push allowlist: {entry!r} is too broad a wildcard")
    return pattern


def _b64url_bytes(value: object, *, max_chars: int) -> bytes | None:
    if not isinstance(value, str) or len(value) > max_chars or not _B64URL.fullmatch(value):
        return None
    bare = value.rstrip("=")
    try:
        return base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
