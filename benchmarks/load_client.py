"""One browser tab, simulated: HTTP sign-in and Reflex's event socket, spoken the way the compiled
front end speaks it (.web/utils/state.js, reflex/app.py EventNamespace).

- The socket is Socket.IO at path ``/_event`` and namespace ``/_event``; the tab's Reflex token
  rides in the query string; the session cookie and the page's origin in the upgrade request.
- The first event, ``hydrate_and_load`` with the page's route, rides in the CONNECT packet's
  ``auth`` (with the compiled state's schema hash and, on the first connect, its per-state hashes).
  The server then runs the page's on_load handlers and ends with ``is_hydrated = true``.
- Every later event is ``emit("event", {name, payload, router_data})``. The server answers with
  ``event`` messages: ``{delta: {substate: {var_rx_state_: value}}, events: [...]}``. A plain
  handler sends one delta when it returns (none when nothing changed), then any frontend events
  (toast, redirect). There is no "final" flag any more (StateUpdate.final is deprecated), so each
  event here names the message that completes it (``done``).

Latency = event sent -> the message that completes it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
TIMEOUT = 30.0


def substate(module: str, cls: str) -> str:
    """Reflex's full name of a state class (``get_full_name``) under the root state."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()
    return f"{ROOT_STATE}.{module.replace('.', '___')}____{snake}"


def var(name: str) -> str:
    return f"{name}_rx_state_"


@dataclass(frozen=True)
class Frontend:
    """What the compiled front end sends at connect: its state schema and initial hashes."""

    schema: str
    hashes: list[str]

    @classmethod
    def read(cls, web: Path = ROOT / ".web") -> Frontend:
        text = (web / "utils" / "context.jsx").read_text()
        schema = re.search(r'export const stateSchema = "([0-9a-f]+)"', text)
        hashes = re.search(r"export const initialStateHashes = (\[.*?\])", text)
        if schema is None or hashes is None:
            raise RuntimeError("the compiled front end (.web) has no state schema")
        return cls(schema=schema.group(1), hashes=json.loads(hashes.group(1)))


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    note: str = ""


Done = Callable[[dict], bool]


def has_var(state: str, name: str) -> Done:
    """Done when a delta for ``state`` carries ``name``."""
    key = var(name)
    return lambda update: key in (update.get("delta") or {}).get(state, {})


def hydrated(update: dict) -> bool:
    return (update.get("delta") or {}).get(ROOT_STATE, {}).get(var("is_hydrated")) is True


def frontend_events(update: dict) -> list[str]:
    """The frontend events of a message, a redirect with its path ("_redirect /signin")."""
    found = []
    for event in update.get("events") or []:
        if isinstance(event, dict):
            name = event.get("name", "")
            path = (event.get("payload") or {}).get("path") if name == "_redirect" else None
            found.append(f"{name} {path}" if isinstance(path, str) else name)
    return found


async def sign_in(http: aiohttp.ClientSession, url: str, email: str, password: str) -> str:
    """POST /auth/signin as assets/js/kj.js does; the HttpOnly session cookie's value."""
    async with http.post(
        url + "/auth/signin",
        json={"email": email, "password": password},
        headers={"Origin": url, "Accept": "application/json"},
    ) as response:
        text = await response.text()
        cookie = response.cookies.get("kj_session")
        if response.status != 200 or cookie is None:
            raise RuntimeError(f"sign-in refused: HTTP {response.status} {text[:120]!r}")
        return cookie.value


@dataclass
class Tab:
    """One tab on one page: its socket, the messages received, and what each event cost."""

    url: str  # the app's public origin (http://localhost:PORT)
    cookie: str
    path: str
    frontend: Frontend
    reconnect: bool = False  # reconnect after an unexpected disconnect (fault tests)
    params: dict[str, str] = field(default_factory=dict)  # a dynamic route's parameters
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    disconnects: int = 0
    state: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._inbox: asyncio.Queue[dict | None] = asyncio.Queue()
        self._sio: socketio.AsyncClient | None = None
        self._closing = False
        self.connected = asyncio.Event()

    def _router_data(self) -> dict[str, Any]:
        """As withRouterData builds it; a dynamic route's parameters ride in ``query``."""
        data: dict[str, Any] = {"pathname": self.path.split("?")[0], "asPath": self.path}
        if self.params:
            data["query"] = dict(self.params)
        return data

    def _new_client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)

        async def on_event(update: dict) -> None:
            for name, changes in (update.get("delta") or {}).items():
                self.state.setdefault(name, {}).update(changes)
            self._inbox.put_nowait(update)

        async def on_disconnect(*_: Any) -> None:
            self.connected.clear()
            if not self._closing:
                self.disconnects += 1
                self._inbox.put_nowait(None)  # wakes a waiting event: its answer will not come

        sio.on("event", on_event, namespace=NAMESPACE)
        sio.on("disconnect", on_disconnect, namespace=NAMESPACE)
        return sio

    async def open(self, first: bool = True) -> float:
        """Connect and hydrate the page (its on_load handlers run); milliseconds taken."""
        boot = {"name": HYDRATE, "payload": {}, "router_data": self._router_data()}
        if first:
            boot["payload"] = {"hashes": self.frontend.hashes}
        self._drain()
        self._sio = self._new_client()
        socket_url = self.url.replace("://localhost", "://127.0.0.1")
        started = time.perf_counter()
        await self._sio.connect(
            f"{socket_url}?token={self.token}",
            socketio_path=NAMESPACE,
            namespaces=[NAMESPACE],
            transports=["websocket"],
            headers={"Cookie": f"kj_session={self.cookie}", "Origin": self.url},
            auth={"event": boot, "state_schema": self.frontend.schema},
            wait_timeout=TIMEOUT,
        )
        self.connected.set()
        ok, note = await self._wait(hydrated, started, expect=())
        ms = (time.perf_counter() - started) * 1000
        self.samples.append(Sample("hydrate", ms, ok, note))
        if not ok:
            self.errors.append(f"hydrate {self.path}: {note}")
        return ms

    def _drain(self) -> None:
        while not self._inbox.empty():
            self._inbox.get_nowait()

    async def _wait(self, done: Done, started: float, expect: tuple[str, ...]) -> tuple[bool, str]:
        """Read messages until ``done``; (ok, why not). Toasts and redirects not in ``expect``
        are errors (a refused event answers with a toast or a redirect to sign-in)."""
        deadline = started + TIMEOUT
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return False, f"no final delta within {TIMEOUT:.0f} s"
            try:
                update = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                return False, f"no final delta within {TIMEOUT:.0f} s"
            if update is None:
                return False, "disconnected"
            names = frontend_events(update)
            unexpected = [n for n in names if n not in expect]
            if unexpected:
                return False, "frontend events " + ",".join(unexpected)
            if done(update):
                return True, ""

    async def call(
        self,
        kind: str,
        handler: str,
        payload: dict[str, Any],
        done: Done,
        *,
        expect: tuple[str, ...] = (),
        tries: int = 3,
    ) -> Sample:
        """Send one event and wait for the message that completes it. With ``reconnect``, an
        event cut off by a lost socket is sent again after reconnecting, as a person would tap
        again once the page is back (the page itself does not resend)."""
        for attempt in range(tries):
            if self.reconnect and not self.connected.is_set():
                try:
                    await self._reopen()
                except RuntimeError as lost:  # the server is gone: say so, do not hang
                    self.samples.append(Sample(kind, 0.0, False, str(lost)))
                    self.errors.append(f"{kind}: {lost}")
                    return self.samples[-1]
            self._drain()
            started = time.perf_counter()
            await self._sio.emit(  # type: ignore[union-attr]
                "event",
                {"name": handler, "payload": payload, "router_data": self._router_data()},
                namespace=NAMESPACE,
            )
            ok, note = await self._wait(done, started, expect)
            sample = Sample(kind, (time.perf_counter() - started) * 1000, ok, note)
            if ok or not self.reconnect or note != "disconnected" or attempt == tries - 1:
                self.samples.append(sample)
                if not ok:
                    self.errors.append(f"{kind}: {note}")
                return sample
        raise AssertionError("unreachable")

    async def _reopen(self) -> None:
        """A new socket for the same tab token: the state lives in Redis and is rehydrated."""
        for attempt in range(15):  # about 25 s in all
            try:
                if self._sio is not None:
                    await self._sio.disconnect()
                await self.open(first=False)
                return
            except (socketio.exceptions.ConnectionError, OSError):
                await asyncio.sleep(0.2 * (attempt + 1))
        raise RuntimeError("could not reconnect")

    async def close(self) -> None:
        self._closing = True
        if self._sio is not None:
            await self._sio.disconnect()
