"""An in-memory push transport for dispatcher unit tests (the real one is tested against the
loopback push service in tests/push_service.py)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from kapjourney.notifications.transport import SendResult, Target, check_send_options

SENT = SendResult("sent", 201)


@dataclass(frozen=True)
class RecordedSend:
    target: Target
    payload: dict
    ttl: int
    urgency: str
    topic: str | None


class RecordingTransport:
    """Same ``send`` as ``WebPushTransport``: records each call and answers with the scripted
    results, per endpoint first (``script_for``), then in order (``script``), else ``default``.

    It validates ttl/urgency/topic exactly as the real transport does, so a dispatcher bug that
    the real one would reject fails here too."""

    def __init__(self, results: Iterable[SendResult] = (), *, default: SendResult = SENT) -> None:
        self.sends: list[RecordedSend] = []
        self.default = default
        self._queue: deque[SendResult] = deque(results)
        self._by_endpoint: dict[str, deque[SendResult]] = {}
        self._lock = threading.Lock()

    def script(self, *results: SendResult) -> None:
        with self._lock:
            self._queue.extend(results)

    def script_for(self, endpoint: str, *results: SendResult) -> None:
        with self._lock:
            self._by_endpoint.setdefault(endpoint, deque()).extend(results)

    def send(
        self, target: Target, payload: dict, *, ttl: int, urgency: str, topic: str | None
    ) -> SendResult:
        check_send_options(ttl=ttl, urgency=urgency, topic=topic)
        with self._lock:
            self.sends.append(RecordedSend(target, dict(payload), ttl, urgency, topic))
            scripted = self._by_endpoint.get(target.endpoint)
            if scripted:
                return scripted.popleft()
            if self._queue:
                return self._queue.popleft()
            return self.default

    @property
    def payloads(self) -> list[dict]:
        return [sent.payload for sent in self.sends]

    def sent_to(self, endpoint: str) -> list[RecordedSend]:
        return [sent for sent in self.sends if sent.target.endpoint == endpoint]
