"""The history panel's handlers on the client page: filter and "Show earlier", authorized in the
handler, denials shown as "not found" and audited."""

from __future__ import annotations

import os

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.models import User
from kapjourney.ui.pages.client_detail.history_panel import HistoryPanelState
from tests.conftest import run_async
from tests.history_support import record_a_year, record_everything
from tests.support import audit_events

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly

from reflex.istate.data import RouterData
from reflex.state import State


def _panel(engine, user: User | None, client_id: int) -> HistoryPanelState:
    cookie = ""
    if user is not None:
        with db.session_scope(engine) as s:
            cookie = f"kj_session={sessions.create_session(s, user=s.get(User, user.id))}"
    root = State()
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "ip": "10.0.0.9"}
    )
    state = root.get_substate(HistoryPanelState.get_full_name().split(".")[1:])
    state._client_id = client_id
    return state


def _record(engine, personas, year: bool = False) -> None:
    with db.session_scope(engine) as s:
        client = s.get(User, personas.client.id)
        if year:
            record_a_year(s, client)
        else:
            record_everything(s, client, s.get(User, personas.clinician.id))


def test_filter_shows_one_kind_and_all_again(engine, personas):
    _record(engine, personas)
    panel = _panel(engine, personas.clinician, personas.client.id)
    run_async(panel.filter("symptom_report"))
    assert [e.kind for e in panel.entries] == ["symptom_report"]
    assert panel.kind == "symptom_report" and not panel.has_more
    everything = panel.everything
    assert everything == sum(c.count for c in panel.counts) > 1
    run_async(panel.filter("<script>"))  # not a kind: every kind
    assert panel.kind == "" and len(panel.entries) == everything


def test_show_earlier_appends_the_next_page(engine, personas):
    _record(engine, personas, year=True)
    panel = _panel(engine, personas.clinician, personas.client.id)
    run_async(panel.filter(""))
    first = [e.key for e in panel.entries]
    assert len(first) == 30 and panel.has_more
    run_async(panel.more())
    keys = [e.key for e in panel.entries]
    assert len(keys) == 60 and keys[:30] == first and len(set(keys)) == 60
    assert len(audit_events(engine, "history_viewed")) == 2


def test_an_unassigned_clinician_sees_not_found_and_is_audited(engine, personas):
    _record(engine, personas)
    panel = _panel(engine, personas.other_clinician, personas.client.id)
    result = run_async(panel.filter("checkin"))
    assert "Client not found" in str(result)
    assert panel.entries == [] and panel._client_id == 0
    [denied] = audit_events(engine, "access_denied")
    assert (denied.actor_id, denied.target) == (personas.other_clinician.id, "history_viewed")


def test_a_client_calling_the_handler_is_sent_home(engine, personas):
    _record(engine, personas)
    panel = _panel(engine, personas.client, personas.client.id)
    result = run_async(panel.more())
    assert "/today" in str(result) and panel.entries == []
    assert audit_events(engine, "history_viewed") == []


def test_signed_out_calls_load_nothing(engine, personas):
    _record(engine, personas)
    panel = _panel(engine, None, personas.client.id)
    assert "/signin" in str(run_async(panel.filter("")))
    assert panel.entries == []
