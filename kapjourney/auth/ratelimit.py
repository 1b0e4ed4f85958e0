"""Rate limits: a flood from one session, address or invite is cut off without slowing others.

Counting is done by the ``limits`` library with its moving-window strategy: at most ``amount``
hits in any ``seconds``-long window per key. "20 per 2 s" is the token bucket of the target
(bursts of 20, 10 a second sustained) without the bucket's refill overshoot. Counts live in this
process, or in Redis when settings name one, so several workers share them.

Keys are hashed before they are stored: session tokens, invite tokens and addresses never reach
the counter store. When the store fails (Redis down) a hit is allowed and logged: a broken
limiter must not lock every clinician out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kapjourney.settings import Settings, get_settings

log = logging.getLogger(__name__)

NAMESPACE = "kj"


@dataclass(frozen=True)
class Rate:
    """``amount`` hits in any window of ``seconds``."""

    amount: int
    seconds: int

    def item(self) -> RateLimitItemPerSecond:
        return RateLimitItemPerSecond(max(1, self.amount), max(1, self.seconds), NAMESPACE)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _storage_uri(uri: str) -> str:
    # Reflex accepts unix:// for a Redis socket; ``limits`` spells it redis+unix://.
    return "redis+unix://" + uri.removeprefix("unix://") if uri.startswith("unix://") else uri


class RateLimiter:
    """Hits counted per (scope, key): ``hit`` answers 0 when allowed, else seconds to wait."""

    def __init__(self, uri: str = "memory://") -> None:
        self.uri = _storage_uri(uri)
        self.shared = not self.uri.startswith("memory")
        options = {"key_prefix": "kj-limits"} if self.shared else {}
        self._strategy = MovingWindowRateLimiter(storage_from_string(self.uri, **options))

    def hit(self, scope: str, key: str, rate: Rate) -> int:
        item, ident = rate.item(), _digest(key)
        try:
            if self._strategy.hit(item, scope, ident):
                return 0
            reset_at, _ = self._strategy.get_window_stats(item, scope, ident)
        except Exception:  # the store is down or refused: allow, and say so once per hit
            log.warning("rate-limit store unavailable; %s allowed unchecked", scope)
            return 0
        return max(1, math.ceil(reset_at - time.time()))

    async def ahit(self, scope: str, key: str, rate: Rate) -> int:
        """``hit`` from async code: a Redis round trip goes off the event loop."""
        if self.shared:
            return await asyncio.to_thread(self.hit, scope, key, rate)
        return self.hit(scope, key, rate)

    def clear(self) -> None:
        """Forget every count (tests; an operator lifting a lockout restarts the worker)."""
        self._strategy.storage.reset()


def event_rate(settings: Settings | None = None) -> Rate:
    settings = settings or get_settings()
    return Rate(settings.event_burst, settings.event_window_seconds)


def audit_rate(settings: Settings | None = None) -> Rate:
    """One audit row per flooding key per this window: a flood does not flood the audit table."""
    settings = settings or get_settings()
    return Rate(1, settings.rate_limit_audit_seconds)


@lru_cache(maxsize=1)
def shared_limiter() -> RateLimiter:
    """The limiter for Reflex event handlers in this worker (counts shared through Redis)."""
    return RateLimiter(get_settings().rate_limit_storage)


def wait_message(seconds: int) -> str:
    """What a person is told when a form is refused for now."""
    if seconds <= 60:
        return "Too many attempts. Wait a minute and try again."
    return f"Too many attempts. Try again in {math.ceil(seconds / 60)} minutes."
