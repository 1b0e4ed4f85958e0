"""The settings page's handlers, built directly under pytest: each one is a public endpoint, so
each is called here the way any connected browser could call it."""

from __future__ import annotations

import pytest
from sqlmodel import select

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney import db
from kapjourney.domain.models import AuditEvent, PushSubscription, ReminderPreference, User
from kapjourney.services import reminders
from kapjourney.ui.pages.client_detail.reminders_panel import RemindersPanelState
from kapjourney.ui.pages.settings.state import NOT_TURNED_ON, SettingsState
from tests.conftest import run_async
from tests.test_handlers import _cookie_for, _is_redirect, _state

DENIED = "Reminders are blocked for this site. Allow notifications in your browser settings."
QUIET_CLASH = "Choose a time outside your quiet hours, or change them."


def _signed_in(engine, user: User):
    return _state(SettingsState, _cookie_for(engine, user))


def _device(engine, user: User, name: str) -> int:
    """A phone's subscription, stored as the subscribe route stores it."""
    with db.session_scope(engine) as s:
        actor = reminders.Actor.from_user(s.get(User, user.id))
        view = reminders.save_device(
            session=s,
            actor=actor,
            device=reminders.NewDevice(f"https://fcm.googleapis.com/fcm/send/{name}", "k", "a"),
            user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36",
        )
        return view.device_id


def _preference(engine, user: User) -> ReminderPreference | None:
    with db.session_scope(engine) as s:
        return s.get(ReminderPreference, user.id)


def _form(**changes) -> dict:
    return {
        "checkin_enabled": "on",
        "checkin_time": "19:00",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
    } | changes


def test_a_client_sees_the_defaults_and_no_devices(engine, personas):
    state = _signed_in(engine, personas.client)
    run_async(state.load())
    assert (state.loaded, state.failed, state.is_client) == (True, False, True)
    assert (state.checkin_enabled, state.checkin_time) == (True, "19:00")
    assert (state.quiet_start, state.quiet_end) == ("22:00", "08:00")
    assert state.devices == []


def test_a_clinician_opens_settings_without_the_checkin_form(engine, personas):
    state = _signed_in(engine, personas.clinician)
    run_async(state.load())
    assert state.loaded and not state.is_client
    # The check-in reminder is a client's: the save handler sends staff home.
    assert _is_redirect(run_async(state.save(form_data=_form())), "/clinician")
    assert _preference(engine, personas.clinician) is None


def test_signed_out_browser_is_sent_to_sign_in_and_learns_nothing(engine, personas):
    state = _state(SettingsState)
    assert _is_redirect(run_async(state.load()), "/signin")
    assert _is_redirect(run_async(state.subscribed(result={"ok": True})), "/signin")
    assert state.loaded is False and state.devices == []


def test_a_reminder_time_inside_quiet_hours_is_refused_at_the_field(engine, personas):
    state = _signed_in(engine, personas.client)
    run_async(state.load())
    key = state.form_key
    run_async(state.save(form_data=_form(checkin_time="23:15")))
    assert state.problems["checkin_time"] == QUIET_CLASH
    assert state.saved == "" and state.form_key == key  # the boxes keep what was typed
    assert _preference(engine, personas.client) is None

    run_async(state.save(form_data=_form(checkin_time="20:30", quiet_start="23:00")))
    assert state.problems["checkin_time"] == "" and state.saved == "Saved"
    stored = _preference(engine, personas.client)
    assert (stored.checkin_enabled, stored.checkin_time, stored.quiet_start) == (
        True,
        "20:30",
        "23:00",
    )


def test_the_switch_off_is_saved(engine, personas):
    state = _signed_in(engine, personas.client)
    form = _form()
    del form["checkin_enabled"]  # an unchecked switch sends nothing
    run_async(state.save(form_data=form))
    assert _preference(engine, personas.client).checkin_enabled is False


@pytest.mark.parametrize(
    "form",
    [
        "not a form",
        None,
        {"checkin_time": "x" * 1_000_000, "quiet_start": "<b>1</b>", "quiet_end": 7},
        {"checkin_time": "25:00", "quiet_start": "07:60", "quiet_end": ["08:00"]},
    ],
)
def test_hostile_forms_get_field_messages_and_store_nothing(engine, personas, form):
    state = _signed_in(engine, personas.client)
    run_async(state.save(form_data=form))
    assert state.problems["checkin_time"] == "Choose a time as hours and minutes, like 19:00."
    assert all(len(message) <= 300 for message in state.problems.values())
    assert _preference(engine, personas.client) is None


def test_turning_on_reads_the_devices_again_and_says_so(engine, personas):
    state = _signed_in(engine, personas.client)
    run_async(state.load())
    _device(engine, personas.client, "phone-1")  # what the browser's POST stored meanwhile
    run_async(state.subscribed(result={"ok": True, "device": {"device_id": 1}}))
    assert state.notice == "Reminders are on for this phone."
    assert state.problems["push"] == ""
    assert [(d.label, d.status) for d in state.devices] == [("Chrome on Android", "active")]


@pytest.mark.parametrize(
    ("result", "shown"),
    [
        ({"ok": False, "errors": {"push": DENIED}}, DENIED),
        ({"ok": False, "errors": {"subscription": "Not a push service."}}, "Not a push service."),
        ({"ok": False, "errors": {"push": "x" * 100_000}}, "x" * 300),
        ({"ok": False, "errors": {"push": {"nested": 1}}}, NOT_TURNED_ON),
        ({"ok": "true"}, NOT_TURNED_ON),
        ("a string", NOT_TURNED_ON),
        (None, NOT_TURNED_ON),
    ],
)
def test_a_failed_turn_on_shows_a_clear_message_at_the_button(engine, personas, result, shown):
    state = _signed_in(engine, personas.client)
    run_async(state.subscribed(result=result))
    assert state.problems["push"] == shown
    assert state.notice == ""


def test_turning_off_a_device_of_ones_own(engine, personas):
    device_id = _device(engine, personas.client, "phone-2")
    state = _signed_in(engine, personas.client)
    run_async(state.load())
    run_async(state.turn_off(device_id=device_id))
    assert state.notice == "Reminders are off for Chrome on Android."
    assert state.devices == []
    with db.session_scope(engine) as s:
        assert s.get(PushSubscription, device_id).status == "unsubscribed"


@pytest.mark.parametrize("hostile", ["1", None, [1], 1.0, 10**30])
def test_turning_off_someone_elses_device_looks_like_a_missing_one(engine, personas, hostile):
    device_id = _device(engine, personas.other_client, "otto-phone")
    state = _signed_in(engine, personas.client)
    for target in (device_id, hostile):
        run_async(state.turn_off(device_id=target))
        assert state.problems["devices"] == (
            "That device was not found. The list has been refreshed."
        )
    with db.session_scope(engine) as s:
        assert s.get(PushSubscription, device_id).status == "active"
        denied = s.exec(select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert [(d.actor_id, d.target) for d in denied] == [(personas.client.id, "device")] * 2


def test_the_panel_state_has_no_handlers_to_call():
    """The care team's reminders panel is filled by the page's load and has nothing to click."""
    assert set(RemindersPanelState.event_handlers) <= {"setvar"}
