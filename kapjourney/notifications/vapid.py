"""VAPID keys (RFC 8292): generated once into the data directory, or read from the environment.

The private key never leaves the server; the public key is the browser's
``applicationServerKey``, served at ``GET /api/push/public-key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, b64urlencode

from kapjourney.settings import Settings, get_settings


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid  # the signer pywebpush takes
    public_key: str  # base64url uncompressed P-256 point (87 characters)


def generate_pem() -> str:
    """A new P-256 private key as PKCS#8 PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_b64(vapid: Vapid) -> str:
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(raw)


def load_keys(settings: Settings) -> VapidKeys:
    """The server's VAPID keys. Raises when neither the environment nor the data directory has
    one: ``python -m kapjourney.cli init`` creates it, and production never uses a default."""
    if settings.vapid_private_key:
        try:
            vapid = Vapid.from_raw(settings.vapid_private_key.strip().encode("ascii"))
        except Exception as problem:  # py_vapid raises bare exceptions on bad input
            raise RuntimeError(
                "KJ_VAPID_PRIVATE_KEY is not a raw base64url P-256 private key"
            ) from problem
    else:
        path = settings.data_dir / "vapid_private.pem"
        if not path.exists():
            raise RuntimeError(
                "No VAPID key: set KJ_VAPID_PRIVATE_KEY or run `python -m kapjourney.cli init`"
            )
        vapid = Vapid.from_file(str(path))
    return VapidKeys(vapid=vapid, public_key=_public_b64(vapid))


@lru_cache(maxsize=1)
def server_keys() -> VapidKeys:
    return load_keys(get_settings())
