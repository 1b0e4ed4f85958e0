"""Mass assignment through Reflex's built-in events (S3; CVE-2025-47425): for every registered
state, the browser's ``setvar`` event, any ``set_<var>`` event and ``update_vars_internal``
set nothing that is not meant to be set from the browser. Events are built as the browser
builds them (the registered event name, the payload dict) and run through Reflex's own
``process_event``."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import reflex as rx
import reflex_base.config as reflex_config
from reflex.state import State, UpdateVarsInternalState
from reflex_base.event.context import EventContext
from reflex_base.event.processor.base_state_processor import process_event
from reflex_base.registry import RegistrationContext

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney.ui.guard import GUARD_ATTR, refuse_auto_setters

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly


# Setters every state inherits from Reflex that ``setvar`` can reach, with why each is harmless.
FRAMEWORK_SETTERS = {
    "is_hydrated": "Reflex's own page-hydration flag; the page sets it itself on every load",
}
# Names an attacker would try besides the real vars of a state.
HOSTILE_NAMES = [
    "_is_admin",
    "state",
    "password",
    "router",
    "router_data",
    "role",
    "user_id",
    "_role",
    "_user_id",
    "__class__",
    "__dict__",
    "dirty_vars",
    "parent_state",
    "substates",
    "",
    "var.with.dots",
]


def _all_states(cls=rx.State):
    yield cls
    for sub in cls.get_substates():
        yield from _all_states(sub)


STATES = list(_all_states())
PROJECT_STATES = [s for s in STATES if s.__module__.startswith("kapjourney")]


def _fields(cls) -> set[str]:
    """Every var a state holds: frontend, backend (``_x``) and inherited (router, hydration)."""
    return set(cls.__fields__)


def _names(cls) -> list[str]:
    return sorted(_fields(cls) | set(cls.computed_vars) | set(HOSTILE_NAMES))


def _substate(cls):
    root = State()
    path = cls.get_full_name().split(".")[1:]
    return root, (root.get_substate(path) if path else root)


def _snapshot(state) -> dict:
    return {name: copy.deepcopy(getattr(state, name)) for name in sorted(_fields(type(state)))}


def run_async(coro):
    """Like tests.conftest.run_async, keeping this thread's context (Reflex's registration)."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, coro).result()


async def _send(root, state, event_name: str, payload: dict) -> None:
    """One event as the socket delivers it: looked up by name, run by process_event."""
    registered = RegistrationContext.get().event_handlers[event_name]

    async def ignore(*_args, **_kwargs):
        return None

    ctx = EventContext(
        token="setvar-test",
        state_manager=None,  # type: ignore[arg-type]
        enqueue_impl=ignore,
        emit_delta_impl=ignore,
        emit_event_impl=ignore,
    )
    reset = EventContext.set(ctx)
    try:
        await process_event(
            handler=registered.handler, payload=payload, state=state, root_state=root
        )
    finally:
        EventContext.reset(reset)


def test_the_inventory_reaches_every_kind_of_state():
    assert len(PROJECT_STATES) >= 20
    assert any(s.__module__.startswith("reflex") for s in STATES)


@pytest.mark.parametrize("state_cls", STATES, ids=lambda c: c.get_full_name())
def test_setvar_from_the_browser_sets_nothing(state_cls):
    event_name = f"{state_cls.get_full_name()}.setvar"
    for name in _names(state_cls):
        if name in FRAMEWORK_SETTERS:
            continue
        root, state = _substate(state_cls)
        before = _snapshot(state)
        with pytest.raises((AttributeError, TypeError)):
            run_async(_send(root, state, event_name, {"var_name": name, "value": "hijacked"}))
        assert _snapshot(state) == before, f"{state_cls.__name__}.{name} changed"


@pytest.mark.parametrize("state_cls", STATES, ids=lambda c: c.get_full_name())
def test_only_reviewed_setters_are_reachable_through_setvar(state_cls):
    """``setvar(x)`` calls ``set_x``: every such attribute is Reflex's reviewed one or a
    project handler carrying the guard."""
    for attr in dir(state_cls):
        if not attr.startswith("set_"):
            continue
        name = attr.removeprefix("set_")
        handler = state_cls.event_handlers.get(attr)
        guarded = handler is not None and getattr(handler.fn, GUARD_ATTR, None) is not None
        assert name in FRAMEWORK_SETTERS or guarded, f"{state_cls.__name__}.{attr}"


@pytest.mark.parametrize("state_cls", PROJECT_STATES, ids=lambda c: c.__name__)
def test_no_set_var_event_exists_for_a_project_var(state_cls):
    handlers = RegistrationContext.get().event_handlers
    full = state_cls.get_full_name()
    for name in _names(state_cls):
        registered = handlers.get(f"{full}.set_{name}")
        assert registered is None or getattr(registered.handler.fn, GUARD_ATTR, None) is not None


def test_update_vars_internal_sets_no_project_var():
    """Reflex's storage-sync event sets only rx.Cookie/LocalStorage vars, and we have none."""
    root = State()
    updater = root.get_substate(UpdateVarsInternalState.get_full_name().split(".")[1:])
    payload, before = {}, {}
    for cls in PROJECT_STATES:
        state = root.get_substate(cls.get_full_name().split(".")[1:])
        before[cls] = _snapshot(state)
        for name in _fields(cls):
            assert not cls._is_client_storage(name), f"review browser-storage var {name}"
            payload[f"{cls.get_full_name()}.{name}"] = "hijacked"
    event_name = f"{UpdateVarsInternalState.get_full_name()}.update_vars_internal"
    run_async(_send(root, updater, event_name, {"vars": payload}))
    for cls in PROJECT_STATES:
        state = root.get_substate(cls.get_full_name().split(".")[1:])
        assert _snapshot(state) == before[cls], cls.__name__


def test_auto_setters_are_off_and_turning_them_on_refuses_to_start(monkeypatch):
    assert reflex_config.get_state_auto_setters() is False
    refuse_auto_setters()  # off: nothing to refuse
    monkeypatch.setattr(reflex_config, "_state_auto_setters", True)
    with pytest.raises(RuntimeError, match="auto-setters"):
        refuse_auto_setters()
