"""The caseload dashboard page: what it puts into words and SVG, and its handlers as endpoints.

The figures themselves are the dashboard service's (tests/test_dashboard*.py); here: the words of
a row ("5 of 7 on time (1 late)"), the sparkline's gaps and label, and that search, filter and
paging take any argument a browser could send, authorize on every call and show only the
actor's own caseload.
"""

from __future__ import annotations

import pytest

from kapjourney.ui.components.sparkline import sparkline_shape
from kapjourney.ui.pages.clients.state import QUERY_MAX, ClientsState, checkins_text
from tests.conftest import run_async
from tests.test_handlers import _cookie_for, _is_redirect, _state


@pytest.mark.parametrize(
    ("on_time", "late", "days", "text"),
    [
        (5, 1, 7, "5 of 7 on time (1 late)"),
        (7, 0, 7, "7 of 7 on time"),
        (0, 0, 3, "0 of 3 on time"),  # joined three days ago, no check-in yet
        (0, 0, 0, "No days yet"),
    ],
)
def test_checkins_are_put_in_words(on_time, late, days, text):
    assert checkins_text(on_time, late, days) == text


def test_sparkline_leaves_gaps_for_missing_days_and_names_the_change():
    moods = [3, None, 4, 5, None, None, 2, None, None, None, None, None, None, 4]
    line, dots, label = sparkline_shape(moods)
    # Only days next to each other are joined: day 2 to day 3; the others are dots alone.
    assert line == "M20 9.5 L30 4"
    assert dots.split(" M") == ["M0 15h0", "20 9.5h0", "30 4h0", "60 20.5h0", "130 9.5h0"]
    assert label == "Mood over 14 days: 3 to 4 (low 2, high 5), 5 of 14 days recorded"


def test_sparkline_of_no_check_ins_is_empty_but_still_named():
    assert sparkline_shape([None] * 14) == ("", "", "Mood over 14 days: no check-ins")
    assert (
        sparkline_shape([2] + [None] * 13)[2]
        == "Mood over 14 days: 2 each time, 1 of 14 days recorded"
    )


def test_out_of_range_moods_stay_inside_the_drawing():
    line, _, _ = sparkline_shape([9, -3])
    assert line == "M0 4 L10 26"  # drawn as 5 and 1, the ends of the scale


def test_clinician_sees_her_one_client_and_search_narrows(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.load())
    assert [r.name for r in state.rows] == ["Ada Client"] and state.loaded
    assert state.rows[0].href == f"/clinician/client/{personas.client.id}"
    assert state.rows[0].spark_label.startswith("Mood over 14 days: ")
    run_async(state.search("otto"))  # another clinician's client: not found by name either
    assert state.rows == [] and state.total == 0
    run_async(state.search("  ADA "))
    assert [r.name for r in state.rows] == ["Ada Client"] and state.query == "ADA"


def test_unassigned_clinician_finds_none_of_another_clinicians_clients(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.other_clinician))
    run_async(state.search("Ada"))
    assert state.rows == [] and state.total == 0


def test_admin_sees_the_whole_clinic_neediest_first(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.admin))
    run_async(state.load())
    assert sorted(r.name for r in state.rows) == ["Ada Client", "Otto Other"]


@pytest.mark.parametrize("hostile", [None, 7, ["ada"], {"q": "ada"}, "x" * 1_000_000, "%_"])
def test_search_takes_anything_a_browser_sends(engine, personas, hostile):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.search(hostile))
    assert len(state.query) <= QUERY_MAX and state.page == 1
    assert state.rows == [] or [r.name for r in state.rows] == ["Ada Client"]


@pytest.mark.parametrize("hostile", [None, "all", ["2d"], "2d OR 1=1", 3])
def test_unknown_recency_filter_means_everyone(engine, personas, hostile):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.filter_recency(hostile))
    assert state.recency == "" and [r.name for r in state.rows] == ["Ada Client"]


def test_recency_filter_shows_one_tier(engine, personas):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.filter_recency("never"))  # Ada has never checked in
    assert [r.recency for r in state.rows] == ["never"]
    run_async(state.filter_recency("2d"))
    assert state.rows == [] and state.recency == "2d"
    run_async(state.clear_filters())
    assert state.recency == "" and len(state.rows) == 1


@pytest.mark.parametrize("hostile", [None, -1, 0, 10**30, "2", "abc", [2], True, 1.5])
def test_paging_takes_anything_and_stays_on_a_real_page(engine, personas, hostile):
    state = _state(ClientsState, _cookie_for(engine, personas.clinician))
    run_async(state.go_to_page(hostile))
    assert state.page == 1 and state.pages == 1 and len(state.rows) == 1


@pytest.mark.parametrize("handler", ["search", "filter_recency", "go_to_page", "clear_filters"])
def test_client_calling_a_caseload_handler_is_sent_home_with_nothing(engine, personas, handler):
    state = _state(ClientsState, _cookie_for(engine, personas.client))
    args = () if handler == "clear_filters" else ("a",)
    result = run_async(getattr(state, handler)(*args))
    assert _is_redirect(result, "/today")
    assert state.rows == [] and state.total == 0


def test_signed_out_search_is_sent_to_sign_in(engine, personas):
    state = _state(ClientsState)
    assert _is_redirect(run_async(state.search("Ada")), "/signin")
    assert state.rows == []


def test_account_states_cover_only_clients_within_reach(engine, personas):
    from kapjourney import db
    from kapjourney.services.clients import account_states

    ids = [personas.client.id, personas.other_client.id, "1", None, 10**30]
    with db.session_scope(engine) as s:
        mine = account_states(session=s, actor=personas.actor("clinician"), client_ids=ids)
        admin = account_states(session=s, actor=personas.actor("admin"), client_ids=ids)
        foreign = account_states(session=s, actor=personas.actor("foreign_admin"), client_ids=ids)
        client = account_states(session=s, actor=personas.actor("client"), client_ids=ids)
    assert mine == {personas.client.id: "active"}
    assert admin == {personas.client.id: "active", personas.other_client.id: "active"}
    assert foreign == {} and client == {}
