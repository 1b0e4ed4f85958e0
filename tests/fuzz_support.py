"""Drive Reflex event handlers as the event processor does, with hostile arguments.

``call_like_reflex`` runs one event through Reflex's own ``process_event`` (its payload
coercion, the handler, the delta and any events it returns) under a recording event context,
then serializes what would go back over the socket and encodes it as UTF-8, as the wire does.
Anything that raises there would reach the user as Reflex's "An error occurred" toast.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import reflex as rx
from reflex.istate.data import RouterData
from reflex.state import State
from reflex_base.event.context import EventContext
from reflex_base.event.processor.base_state_processor import process_event
from reflex_base.utils import format as rx_format
from sqlalchemy import text
from sqlmodel import SQLModel

HUGE = "x" * 1_000_000  # 1 MB, the socket's default message cap
SCRIPT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def _deep(levels: int) -> dict:
    value: dict = {"leaf": "x"}
    for _ in range(levels):
        value = {"k": value}
    return value


# Each value once, wherever an argument is fuzzed: wrong types, extremes, hostile text.
WRONG_TYPES: list[Any] = [
    None,
    True,
    -1,
    10**30,
    1.5,
    math.nan,
    math.inf,
    [1, "a", None],
    {},
    _deep(50),
]
HOSTILE_TEXT: list[str] = [
    "",
    "   ",
    HUGE,
    SCRIPT,
    '"><iframe src="javascript:window.__xss=1">',
    "\ud800",  # a lone surrogate: valid in JSON, not encodable as UTF-8
    "a\ud83d",  # half an emoji
    "\u202eevil\u202c",
    "\x00\x1b[31m",
    "²",  # a digit to str.isdigit, not to int()
    "-0",
    "9" * 5000,  # int() refuses more than 4,300 digits
    "'; DROP TABLE user; --",
]
CORPUS: list[Any] = WRONG_TYPES + HOSTILE_TEXT
# Every field of a form at once (fewer: each form handler also gets CORPUS per argument).
FORM_CORPUS: list[Any] = [None, 0, math.nan, [1], _deep(50), "", HUGE, SCRIPT, "\ud800", "-0"]
# What a form from a hostile browser may carry besides its own fields (mass assignment).
EXTRA_FORM_KEYS = {
    "id": 1,
    "user_id": 1,
    "client_id": 1,
    "clinic_id": 2,
    "role": "admin",
    "is_admin": True,
    "__proto__": {"x": 1},
}
NEUTRAL = {str: "", int: 0, bool: False, dict: {}, float: 0.0}
_KEYS = re.compile(r"""["']([a-z][a-z0-9_]{1,30})["']""")


@dataclass(frozen=True)
class Target:
    state: type[rx.State]
    name: str
    handler: Any

    @property
    def id(self) -> str:
        return f"{self.state.__name__}.{self.name}"

    @property
    def params(self) -> dict[str, inspect.Parameter]:
        signature = inspect.signature(self.handler.fn)
        return {k: p for k, p in signature.parameters.items() if k != "self"}

    @property
    def roles(self) -> tuple | None:
        """The guard's roles (``()`` = any signed-in user), or None for a public handler."""
        return getattr(self.handler.fn, "__kj_roles__", None)

    def form_keys(self) -> list[str]:
        """Field names the handler's module mentions: the keys a real form would send."""
        source = inspect.getsource(inspect.getmodule(self.state))
        return sorted(set(_KEYS.findall(source)))[:80]


def _all_states(cls: type[rx.State] = rx.State) -> Iterator[type[rx.State]]:
    yield cls
    for sub in cls.get_substates():
        yield from _all_states(sub)


def project_handlers() -> list[Target]:
    """Every handler of every project state (``setvar`` is the framework's)."""
    found = [
        Target(state, name, handler)
        for state in _all_states()
        if state.__module__.startswith("kapjourney")
        for name, handler in state.event_handlers.items()
        if name != "setvar"
    ]
    return sorted(found, key=lambda t: t.id)


def _annotation(param: inspect.Parameter) -> Any:
    hint = param.annotation
    return {"str": str, "int": int, "bool": bool, "dict": dict, "float": float}.get(hint, hint)


def baseline(target: Target) -> dict[str, Any]:
    """A call with harmless values: what a page might send with nothing filled in."""
    payload = {}
    for name, param in target.params.items():
        if param.default is not inspect.Parameter.empty:
            continue
        payload[name] = NEUTRAL.get(_annotation(param), "")
    return payload


def label(value: Any, limit: int = 40) -> str:
    """A short name for a fuzz value (or an error's text), for failure messages."""
    text = ascii(value)
    return text if len(text) <= limit else f"{text[: limit - 10]}... ({len(text)} chars)"


Payload = tuple[str, dict[str, Any], bool]  # (label, payload, is_text)


def fuzzed_payloads(target: Target, *, full: bool) -> Iterator[Payload]:
    """Every fuzzed call. ``is_text`` marks a well-typed text value (a str where a str or a form
    is expected), which a handler may legitimately store; anything else is garbage.
    ``full=False`` gives a handful, for callers the guard refuses."""
    base = baseline(target)
    yield "missing every argument", {}, False
    yield "an unknown argument", {**base, "zz_unknown": SCRIPT}, False
    if not full:  # the guard must refuse before any argument is looked at
        yield "every argument 1 MB", dict.fromkeys(target.params, HUGE), False
        return
    for name, param in target.params.items():
        takes_text = _annotation(param) is str
        for value in CORPUS:
            is_text = takes_text and isinstance(value, str)
            yield f"{name}={label(value)}", {**base, name: value}, is_text
        if _annotation(param) is dict:
            yield from _forms(target, name, base)


def _forms(target: Target, name: str, base: dict) -> Iterator[Payload]:
    keys = target.form_keys()
    yield f"{name} with extra keys", {**base, name: {k: "" for k in keys} | EXTRA_FORM_KEYS}, False
    yield f"{name} with 1,000 keys", {**base, name: {f"k{i}": "v" for i in range(1000)}}, False
    yield f"{name} with a non-string key", {**base, name: {1: "x", None: "y"}}, False
    for value in FORM_CORPUS:
        form = dict.fromkeys(keys, value)
        yield f"{name}: every field {label(value)}", {**base, name: form}, isinstance(value, str)


def fresh_state(target: Target, *, cookie: str = "", params: dict | None = None) -> rx.State:
    """The handler's state in a new root, as one browser tab's would be."""
    root = State()
    root.router = RouterData.from_router_data(
        {
            "headers": {"cookie": cookie} if cookie else {},
            "ip": "10.0.0.9",
            "pathname": "/",
            "query": dict(params or {}),
        }
    )
    return root.get_substate(target.state.get_full_name().split(".")[1:])


@dataclass
class Wire:
    """What one event sent back to the browser."""

    deltas: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


async def call_like_reflex(state: rx.State, target: Target, payload: dict[str, Any]) -> Wire:
    """Process one event as Reflex's event processor does (foreground handlers)."""
    wire = Wire()

    def send(bucket: list[str], obj: Any) -> None:
        encoded = rx_format.json_dumps(obj)
        encoded.encode("utf-8")  # engine.io sends UTF-8; a lone surrogate fails here
        bucket.append(encoded)

    async def emit_delta(_token, delta):
        send(wire.deltas, delta)

    async def emit_event(_token, *events):
        send(wire.events, list(events))

    async def enqueue(_token, *events):
        send(wire.events, list(events))

    ctx = EventContext(
        token="fuzz-token",
        state_manager=None,  # type: ignore[arg-type]  (only background events use it)
        enqueue_impl=enqueue,
        emit_delta_impl=emit_delta,
        emit_event_impl=emit_event,
    )
    reset = EventContext.set(ctx)
    try:
        await process_event(
            handler=target.handler,
            payload=payload,
            state=state,
            root_state=state._get_root_state(),
        )
    finally:
        EventContext.reset(reset)
    return wire


def fingerprint(engine, *, ignore: set[str]) -> dict[str, str]:
    """A digest of every table's rows (tables in ``ignore`` left out)."""
    digests = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ignore:
                continue
            rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
            body = repr(sorted(repr(tuple(r)) for r in rows)).encode()
            digests[table.name] = hashlib.sha256(body).hexdigest()[:16]
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after.get(name)}
