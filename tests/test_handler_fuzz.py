"""Every registered event handler, fuzzed the way any connected browser could call it.

Handlers are discovered as the inventory test (tests/test_handlers.py) discovers them, so a new
handler is fuzzed without anyone listing it. Each runs through Reflex's own event processing
(payload coercion, the handler, the delta and returned events serialized for the socket) with,
per parameter: wrong types (None, bools, ints huge and negative, nan/inf, lists, dicts 50 deep),
hostile text (1 MB, HTML/script, lone surrogates, RTL override, control characters, digit
lookalikes), every form field at once set to each of those, extra keys (``role``, ``user_id``
...), 1,000 keys, non-string keys, and the call with an unknown or every argument missing.

Callers: the roles the guard admits get the whole corpus (an admin too for admin-only
handlers); a role the guard refuses and a signed-out browser get a handful, since the guard
must answer before any argument is used.

What must hold, per handler:
- nothing escapes: a handler that raises is a server error for the user, and so is a delta
  or an event that cannot be serialized and sent as UTF-8 (lone surrogates);
- durable state, checked with a digest of every table: after one harmless call (every argument
  blank, as an empty page sends), the garbage calls (wrong types, odd shapes, unknown or
  missing arguments) change nothing but the audit trail (denials are audited) and the sign-in
  session's idle clock. The calls with well-typed hostile text may also change the one table a
  draft-as-you-type handler keeps its draft in (``TEXT_WRITES``); nothing else.
The background ``InboxState.watch`` has no arguments and runs for minutes; it is called
signed out only (the guard answers first). The SQLite database skips fsync here, and the
event allowance (flood guard) is lifted: both have their own tests.
"""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import event

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from tests.conftest import run_async
from tests.fuzz_support import (
    Target,
    baseline,
    call_like_reflex,
    changed,
    fingerprint,
    fresh_state,
    fuzzed_payloads,
    project_handlers,
)
from tests.fuzz_support import (
    label as label_of,
)
from tests.test_handlers import _cookie_for

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly

TARGETS = project_handlers()
ALWAYS_WRITABLE = {"auditevent", "audithead", "authsession"}
# Handlers that store well-typed text as it is typed (drafts): the table holding the draft may
# change when the fuzz sends a string the service accepts; garbage never may. Only the handlers
# whose blank call leaves them able to store text are listed (the others refuse a blank target).
TEXT_WRITES = {"CheckInState.type_note": {"checkin"}}


@pytest.fixture(autouse=True)
def _quick_and_unthrottled(engine, monkeypatch):
    """Thousands of calls from one session: no fsync per commit (durability has its own tests)
    and no per-session event allowance (the flood guard has its own tests)."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA synchronous=OFF"))
    try:
        from kapjourney.auth import ratelimit
    except ImportError:  # no flood guard in this build
        return
    if hasattr(ratelimit, "event_rate"):
        unlimited = ratelimit.Rate(10**9, 1)
        monkeypatch.setattr(ratelimit, "event_rate", lambda settings=None: unlimited)


def _callers(target: Target, cookies: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(who, cookie, full corpus?) for this handler."""
    roles = target.roles
    if target.handler.is_background:
        return [("signed out", "", True)]
    if roles is None or roles == ():
        admitted = {"client", "clinician", "admin"}
    else:
        admitted = {str(r) for r in roles}
    if "admin" in admitted and "clinician" in admitted:
        admitted.discard("admin")  # the same code path; the clinician stands for both
    out = [(who, cookies[who], who in admitted) for who in ("client", "clinician", "admin")]
    out.append(("signed out", "", roles is None))
    return [c for c in out if c[2] or c[0] in ("client", "clinician", "signed out")]


def _params(personas) -> dict[str, str]:
    """Route segments as a page of each kind would have them (the client's own, mostly)."""
    return {
        "client_id": str(personas.client.id),
        "dosing_session_id": "1",
        "offset_minutes": "120",
        "instrument": "phq9",
        "assignment_id": "1",
    }


async def _fuzz(engine, target: Target, who: str, state, full: bool) -> list[str]:
    """Every fuzzed call by one caller in one tab (``state``); the failures, described."""
    failures: list[str] = []

    async def call(label: str, payload: dict) -> None:
        try:
            await call_like_reflex(state, target, payload)
        except Exception as exc:
            failures.append(f"{who}, {label}: {type(exc).__name__}: {label_of(str(exc), 200)}")

    await call("blank call", baseline(target))
    payloads = list(fuzzed_payloads(target, full=full))
    text_writable = ALWAYS_WRITABLE | TEXT_WRITES.get(target.id, set())
    # Garbage first, then well-typed text: each phase has its own rule for the database.
    for is_text, writable in ((False, ALWAYS_WRITABLE), (True, text_writable)):
        before = fingerprint(engine, ignore=writable)
        for label, payload, _ in (p for p in payloads if p[2] is is_text):
            await call(label, payload)
        if wrote := changed(before, fingerprint(engine, ignore=writable)):
            kind = "text" if is_text else "garbage"
            failures.append(f"{who}: {kind} calls changed {sorted(wrote)}")
    return failures


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_fuzzed_calls_never_error_nor_write_what_they_should_not(engine, personas, target):
    cookies = {
        "client": _cookie_for(engine, personas.client),
        "clinician": _cookie_for(engine, personas.clinician),
        "admin": _cookie_for(engine, personas.admin),
    }
    started = time.monotonic()
    failures = []
    for who, cookie, full in _callers(target, cookies):
        state = fresh_state(target, cookie=cookie, params=_params(personas))
        failures += run_async(_fuzz(engine, target, who, state, full))
    assert failures == [], f"{target.id}:\n" + "\n".join(failures[:25])
    assert time.monotonic() - started < 30, "one handler's fuzz should take seconds"


def test_the_fuzz_covers_every_kind_of_handler():
    """The discovery is not silently empty, and it reaches forms, ids and background work."""
    ids = {t.id for t in TARGETS}
    assert len(TARGETS) >= 90
    assert {"CheckInState.type_note", "ClientsState.create_invite", "InboxState.watch"} <= ids
    assert set(TEXT_WRITES) <= ids, f"stale draft entries: {set(TEXT_WRITES) - ids}"
