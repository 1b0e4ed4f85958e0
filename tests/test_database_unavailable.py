"""When the database does not answer (a PostgreSQL restart), a guarded handler neither crashes
the page nor loses what was typed: the check-in keeps the tap and the note in its tab and says
so at its form; other pages get one calm toast; any other fault still raises.

The database here is a real PostgreSQL URL on a port where nothing listens (connection refused),
so the driver raises its real error. The browser version, with a real restart, is
tests/browser/test_scaled_faults.py (scaled tier).
"""

from __future__ import annotations

import asyncio

import pytest
from reflex.istate.data import RouterData
from reflex.state import State

from kapjourney import db
from kapjourney.ui import guard
from kapjourney.ui.guard import UNAVAILABLE
from kapjourney.ui.pages.checkin import CheckInState
from kapjourney.ui.session_state import SessionState

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
COOKIE = "kj_session=" + "a" * 43


@pytest.fixture
def database_down():
    engine = db.make_engine(NOWHERE)
    db.set_engine(engine)
    yield
    db.set_engine(None)
    engine.dispose()


def _state(cls):
    root = State()
    root.router = RouterData.from_router_data({"headers": {"cookie": COOKIE}, "ip": "10.0.0.7"})
    return root.get_substate(cls.get_full_name().split(".")[1:])


def test_checkin_keeps_the_tap_and_note_and_says_so_at_the_form(database_down):
    state = _state(CheckInState)
    assert asyncio.run(state.tap("sleep", "4")) is None
    assert asyncio.run(state.type_note("Slept well after.")) is None
    assert state.answers["sleep"] == "4"
    assert state.note == "Slept well after."
    assert state.problems["form"] == UNAVAILABLE
    # What no page sends is not kept.
    asyncio.run(state.tap("not-a-scale", "4"))
    asyncio.run(state.tap("mood", "<b>"))
    assert "not-a-scale" not in state.answers and state.answers.get("mood", "") == ""


def test_other_pages_get_one_calm_toast(database_down):
    spec = asyncio.run(_state(SessionState).route_home())
    assert spec.handler.fn.__qualname__ == "_call_function"  # how rx.toast reaches the page
    assert UNAVAILABLE in str(spec.args)


def test_only_database_outages_are_answered_this_way():
    from sqlalchemy import exc

    refused = exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert guard._unavailable(refused)
    assert guard._unavailable(exc.InterfaceError("SELECT 1", {}, Exception("closed")))
    assert not guard._unavailable(exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not guard._unavailable(ValueError("a bug"))


def test_the_two_step_sign_in_pages_get_the_same_calm_toast(database_down):
    """Their own guard (``@pending_step``) reads the pending sign-in from the database first."""
    from kapjourney.ui.pages.two_factor_signin import EnrolState, VerifyState

    for spec in (
        asyncio.run(_state(EnrolState).load()),
        asyncio.run(_state(VerifyState).load()),
        asyncio.run(_state(VerifyState).toggle_recovery(True)),
    ):
        assert spec.handler.fn.__qualname__ == "_call_function"
        assert UNAVAILABLE in str(spec.args)
