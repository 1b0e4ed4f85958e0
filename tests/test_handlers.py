"""Every Reflex event handler is a public endpoint: inventory and state-level authorization."""

from __future__ import annotations

import os
import re

import pytest
from sqlmodel import select

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.models import AuditEvent, User
from kapjourney.ui.guard import GUARD_ATTR, PUBLIC_HANDLERS
from kapjourney.ui.pages.clients import ClientsState
from kapjourney.ui.pages.today import TodayState
from tests.conftest import run_async

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly

import reflex as rx
from reflex.istate.data import RouterData
from reflex.state import State

# Reflex's own handlers on its built-in states. They touch only framework bookkeeping (hydration,
# browser-storage vars, on_load dispatch, client error reports) and no KAP Journey data. A new one
# after an upgrade fails this test until someone reviews it and lists it here.
# ``setvar`` is inherited by every state, ours included; with auto-setters off it can set nothing
# (see test_setvar_cannot_set_any_project_var).
FRAMEWORK_HANDLERS = {
    "setvar",
    "set_is_hydrated",
    "hydrate",
    "hydrate_and_load",
    "on_load_internal",
    "update_vars_internal",
    "handle_frontend_exception",
}


def _all_states(cls=rx.State):
    yield cls
    for sub in cls.get_substates():
        yield from _all_states(sub)


def _handlers():
    for state in _all_states():
        for name, handler in state.event_handlers.items():
            yield state, name, handler


def test_every_project_handler_is_guarded_or_listed_public():
    unguarded = []
    seen = 0
    for state, name, handler in _handlers():
        if not state.__module__.startswith("kapjourney") or name == "setvar":
            continue
        seen += 1
        fn = handler.fn
        if getattr(fn, GUARD_ATTR, None) is None and getattr(fn, "__kj_public__", None) is None:
            unguarded.append(f"{state.__name__}.{name}")
    assert seen >= 10, "the inventory found too few handlers: is the app imported?"
    assert unguarded == [], f"handlers with neither @authorized nor @public: {unguarded}"


def test_public_handlers_are_few_and_give_reasons():
    assert len(PUBLIC_HANDLERS) <= 8
    for name, reason in PUBLIC_HANDLERS.items():
        assert len(reason) > 20, f"{name} needs a real reason to be public"


def test_framework_handlers_are_the_reviewed_set():
    framework = {
        name
        for state, name, _ in _handlers()
        if not state.__module__.startswith("kapjourney") or name == "setvar"
    }
    assert framework <= FRAMEWORK_HANDLERS, (
        f"review new framework handlers: {framework - FRAMEWORK_HANDLERS}"
    )


def test_no_auto_setters_exist_on_project_states():
    for state, name, handler in _handlers():
        if state.__module__.startswith("kapjourney") and name.startswith("set_"):
            assert getattr(handler.fn, GUARD_ATTR, None) is not None, f"{state.__name__}.{name}"


PROJECT_STATES = [s for s in _all_states() if s.__module__.startswith("kapjourney")]


@pytest.mark.parametrize("state_cls", PROJECT_STATES, ids=lambda c: c.__name__)
def test_setvar_cannot_set_any_project_var(state_cls):
    state = _state(state_cls)
    for var in state_cls.base_vars:
        before = getattr(state, var)
        with pytest.raises(AttributeError):
            state.setvar(var, "hijacked")
        assert getattr(state, var) == before


def _state(cls, cookie: str = "", ip: str = "10.0.0.9"):
    root = State()
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "ip": ip}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _cookie_for(engine, user: User) -> str:
    with db.session_scope(engine) as s:
        token = sessions.create_session(s, user=s.get(User, user.id))
    return f"kj_session={token}"


def _is_redirect(spec, path: str) -> bool:
    args = {k._js_expr: getattr(v, "_var_value", None) for k, v in spec.args}
    return args.get("path") == path and "external" in args


def _audit(engine, action: str) -> list[AuditEvent]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_signed_out_call_redirects_to_sign_in_and_loads_nothing(engine, personas):
    state = _state(ClientsState)
    result = run_async(state.load())
    assert _is_redirect(result, "/signin")
    assert state.rows == [] and state.loaded is False


def test_client_calling_a_clinician_handler_is_sent_home_and_audited(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.client))
    result = run_async(state.load())
    assert _is_redirect(result, "/today")
    assert state.rows == []
    denied = _audit(engine, "access_denied")
    assert [(d.actor_id, d.outcome) for d in denied] == [(personas.client.id, "denied")]


def test_clinician_loads_only_her_clients(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.load())
    assert [r.client_id for r in state.rows] == [personas.client.id]


def test_it_denies_unassigned_clinician_by_id_like_a_missing_record(engine, personas):
    """IDOR through a handler argument: Uma asks for a new invite link for Cleo's client."""
    state = _state(ClientsState, _cookie_for(engine, personas.other_clinician))
    denied = run_async(state.reissue(client_id=personas.client.id))
    missing = run_async(state.reissue(client_id=999_999))
    assert state.invite_link == "" and state.dialog_open is False
    # Same toast either way: existence is not revealed.
    assert re.sub(r"0x[0-9a-f]+", "", str(denied)) == re.sub(r"0x[0-9a-f]+", "", str(missing))
    rows = _audit(engine, "access_denied")
    assert [(r.actor_id, r.subject_client_id, r.target) for r in rows] == [
        (personas.other_clinician.id, personas.client.id, "invite_reissue"),
        (personas.other_clinician.id, None, "invite_reissue"),
    ]


@pytest.mark.parametrize("hostile", ["1", None, [1], {"id": 1}, -1, 10**30, 1.5])
def test_reissue_refuses_malformed_ids_without_error(engine, personas, hostile):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    result = run_async(state.reissue(client_id=hostile))
    assert "not found" in str(result).lower()
    assert state.invite_link == ""


def test_revoked_session_cannot_call_handlers(engine, personas):
    cookie = _cookie_for(engine, personas.client)
    with db.session_scope(engine) as s:
        sessions.revoke_session(s, token=cookie.split("=", 1)[1])
    state = _state(TodayState, cookie)
    assert _is_redirect(run_async(state.load()), "/signin")
    assert state.first_name == ""


def test_today_loads_for_the_client_herself(engine, personas):
    state = _state(TodayState, _cookie_for(engine, personas.client))
    run_async(state.load())
    assert state.first_name == "Ada" and state.loaded is True


def test_create_invite_with_hostile_form_data_gives_field_messages(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(
        state.create_invite(
            form_data={
                "display_name": "x" * 1_000_000,
                "email": "<script>alert(1)</script>",
                "timezone": "Mars/Olympus",
                "is_admin": True,
            }
        )
    )
    assert state.name_error and state.email_error and state.timezone_error
    assert state.invite_link == ""
    run_async(state.create_invite(form_data="not a dict"))
    assert state.name_error == "Enter a name."
