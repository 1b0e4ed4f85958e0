"""The course plan (scheduling, moving, cancelling, completing sessions) and each session's
preparation checklist (values, drafts, ticking and unticking)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import ChecklistItem, DosingSession
from kapjourney.domain.schemas import SessionSchedule
from kapjourney.services import checklists, plan
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, CHAPERONE, item_ids, local_value, schedule
from tests.support import count

HOSTILE = '<img src=x onerror="alert(1)"> & <script>fetch("/api")</script>'
IN_CLINIC_STEPS = {"ride", "benzodiazepines", "intention", "no_alcohol", "fasting", "vitals"}
AT_HOME_STEPS = IN_CLINIC_STEPS - {"ride"} | {"chaperone", "space"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(BASE, tick=False) as traveller:
        yield traveller


def _schedule(
    personas, local: str, route="sublingual_lozenge", setting="in_clinic", who="clinician"
):
    with unit_of_work() as s:
        return plan.schedule_session(
            session=s,
            actor=personas.actor(who),
            client_id=personas.client.id,
            data=SessionSchedule(local_datetime=local, route=route, setting=setting),
        )


def _move(personas, dosing_id: int, local: str, **changes):
    with unit_of_work() as s:
        return plan.move_session(
            session=s,
            actor=personas.actor("clinician"),
            dosing_session_id=dosing_id,
            data=SessionSchedule(local_datetime=local, **changes),
        )


def _cancel(personas, dosing_id: int, reason: object = "Unwell"):
    with unit_of_work() as s:
        return plan.cancel_session(
            session=s, actor=personas.actor("clinician"), dosing_session_id=dosing_id, reason=reason
        )


def _complete_session(personas, dosing_id: int):
    with unit_of_work() as s:
        return plan.complete_session(
            session=s, actor=personas.actor("clinician"), dosing_session_id=dosing_id
        )


def _plan(personas, who: str = "client"):
    with unit_of_work() as s:
        return plan.get_plan(session=s, actor=personas.actor(who), client_id=personas.client.id)


def _numbers(personas) -> list[tuple[str, int, str]]:
    return [(s.local_value, s.number, s.status) for s in _plan(personas).sessions]


def _due(dosing_id: int) -> dict[str, datetime]:
    with db.session_scope() as s:
        rows = s.exec(
            select(ChecklistItem).where(ChecklistItem.dosing_session_id == dosing_id)
        ).all()
        return {r.key: r.due_at for r in rows}


def _tick(personas, item_id: object, values: object = None, who: str = "client"):
    with unit_of_work() as s:
        return checklists.complete_item(
            session=s, actor=personas.actor(who), item_id=item_id, values=values
        )


def _draft(personas, item_id: int, field: object, value: object):
    with unit_of_work() as s:
        checklists.save_item_draft(
            session=s, actor=personas.actor("client"), item_id=item_id, field=field, value=value
        )


def _checklist(personas, dosing_id: int, who: str = "client"):
    with unit_of_work() as s:
        return checklists.get_checklist(
            session=s, actor=personas.actor(who), dosing_session_id=dosing_id
        )


def _item(view, key: str):
    return next(i for i in view.items if i.key == key)


@pytest.fixture
def session_id(engine, personas) -> int:
    """An in-clinic session a week ahead."""
    return schedule(personas.actor("clinician"), personas.client.id, days_ahead=7)


@pytest.fixture
def home_session_id(engine, personas) -> int:
    return schedule(
        personas.actor("clinician"), personas.client.id, days_ahead=7, setting="at_home"
    )


# --- Scheduling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2030-01-15T10:00", datetime(2030, 1, 15, 15, 0, tzinfo=UTC)),  # EST, UTC-5
        ("2030-07-15T10:00", datetime(2030, 7, 15, 14, 0, tzinfo=UTC)),  # EDT, UTC-4
        ("2030-01-08T10:01", datetime(2030, 1, 8, 15, 1, tzinfo=UTC)),  # a minute from now
    ],
)
def test_times_are_read_in_the_clients_time_zone(engine, personas, local, utc):
    view = _schedule(personas, local)
    with db.session_scope(engine) as s:
        assert s.exec(select(DosingSession.scheduled_at)).one() == utc
    [row] = view.sessions
    assert (row.local_value, row.number, row.status, row.route, row.setting) == (
        local,
        1,
        "scheduled",
        "sublingual_lozenge",
        "in_clinic",
    )


@pytest.mark.parametrize(
    "local",
    [
        "2030-01-08T10:00",  # now
        "2030-01-08T09:59",  # a minute ago in New York (14:59 UTC)
        "2029-12-31T12:00",
        "2032-01-09T10:00",  # beyond two years
        "",
        "tomorrow",
        "2030-13-01T10:00",
        "2030-01-15 10:00",
    ],
)
def test_a_time_not_in_the_next_two_years_is_refused_at_its_field(engine, personas, local):
    with pytest.raises(ValidationFailed) as raised:
        _schedule(personas, local)
    assert set(raised.value.fields) == {"local_datetime"}
    assert count(engine, DosingSession) == 0


def test_a_bad_route_and_setting_are_refused_together(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _schedule(personas, "2030-01-15T10:00", route="by mouth", setting="Moon")
    assert set(raised.value.fields) == {"route", "setting"}
    assert count(engine, DosingSession) == 0


def test_sessions_are_numbered_in_time_order_skipping_cancelled_ones(engine, personas):
    _schedule(personas, "2030-01-20T10:00")
    _schedule(personas, "2030-01-12T10:00")
    _schedule(personas, "2030-01-15T10:00")
    assert [(v, n) for v, n, _ in _numbers(personas)] == [
        ("2030-01-12T10:00", 1),
        ("2030-01-15T10:00", 2),
        ("2030-01-20T10:00", 3),
    ]
    middle = _plan(personas).sessions[1].dosing_session_id
    _cancel(personas, middle)
    _schedule(personas, "2030-01-22T10:00")
    active = [(v, n) for v, n, status in _numbers(personas) if status != "cancelled"]
    assert active == [("2030-01-12T10:00", 1), ("2030-01-20T10:00", 2), ("2030-01-22T10:00", 3)]
    assert [status for _, _, status in _numbers(personas)].count("cancelled") == 1


def test_a_new_session_gets_the_steps_for_its_setting(
    engine, personas, session_id, home_session_id
):
    assert set(item_ids(session_id)) == IN_CLINIC_STEPS
    assert set(item_ids(home_session_id)) == AT_HOME_STEPS


def test_moving_a_session_moves_its_steps_and_its_number(engine, personas, session_id):
    later = schedule(personas.actor("clinician"), personas.client.id, days_ahead=8)
    before = _due(session_id)
    view = _move(personas, session_id, local_value(BASE + timedelta(days=9, hours=2)))
    after = _due(session_id)
    assert {k: after[k] - before[k] for k in before} == dict.fromkeys(
        before, timedelta(days=2, hours=2)
    )
    assert [(s.dosing_session_id, s.number) for s in view.sessions] == [(later, 1), (session_id, 2)]


def test_moving_to_a_home_session_swaps_the_ride_for_chaperone_and_space(
    engine, personas, session_id
):
    _tick(personas, item_ids(session_id)["benzodiazepines"])
    when = local_value(BASE + timedelta(days=7))
    _move(personas, session_id, when, setting="at_home", route="nasal_spray")
    assert set(item_ids(session_id)) == AT_HOME_STEPS
    view = _checklist(personas, session_id)
    assert (view.setting_label, view.route_label) == ("At home", "Nasal spray")
    assert _item(view, "benzodiazepines").done  # work already done is kept
    _move(personas, session_id, when, setting="in_clinic")
    assert set(item_ids(session_id)) == IN_CLINIC_STEPS


def test_a_move_to_the_past_or_a_bad_setting_is_refused(engine, personas, session_id):
    before = _due(session_id)
    with pytest.raises(ValidationFailed) as raised:
        _move(personas, session_id, "2030-01-01T10:00")
    assert set(raised.value.fields) == {"local_datetime"}
    with pytest.raises(ValidationFailed) as raised:
        _move(personas, session_id, local_value(BASE + timedelta(days=3)), setting="garden")
    assert set(raised.value.fields) == {"setting"}
    assert _due(session_id) == before


def test_a_cancel_reason_over_500_characters_is_refused(engine, personas, session_id):
    with pytest.raises(ValidationFailed) as raised:
        _cancel(personas, session_id, "x" * 501)
    assert set(raised.value.fields) == {"reason"}
    assert _plan(personas).sessions[0].status == "scheduled"


def test_a_session_is_marked_done_only_once_it_has_started(engine, personas, session_id, frozen):
    with pytest.raises(ValidationFailed):
        _complete_session(personas, session_id)
    frozen.shift(timedelta(days=7, minutes=1))
    view = _complete_session(personas, session_id)
    assert (view.done, view.sessions[0].status, view.sessions[0].status_label) == (
        1,
        "completed",
        "Done",
    )
    for change in (
        lambda: _complete_session(personas, session_id),
        lambda: _cancel(personas, session_id),
        lambda: _move(personas, session_id, local_value(BASE + timedelta(days=20))),
    ):
        with pytest.raises(ValidationFailed):
            change()


def test_the_plan_shows_the_course_and_the_next_step_for_the_client(engine, personas, session_id):
    view = _plan(personas)
    assert (view.client_id, view.has_course, view.planned, view.done) == (
        personas.client.id,
        True,
        6,
        0,
    )
    assert [s.state for s in view.stages] == ["current", "upcoming", "upcoming", "upcoming"]
    assert (view.next_action_href, view.sessions[0].is_next) == ("/consent", True)
    assert view.sessions[0].steps_total == len(IN_CLINIC_STEPS)


# --- Checklist values ----------------------------------------------------------------------------


def _bp(systolic, diastolic, pulse) -> dict[str, str]:
    return {"systolic": systolic, "diastolic": diastolic, "pulse": pulse}


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        (_bp("400", "80", "70"), "systolic", "400 is outside the range a systolic"),
        (_bp("59", "40", "70"), "systolic", "(60-260)"),
        (_bp("261", "80", "70"), "systolic", "(60-260)"),
        (_bp("120", "29", "70"), "diastolic", "(30-160)"),
        (_bp("200", "161", "70"), "diastolic", "(30-160)"),
        (_bp("120", "80", "29"), "pulse", "(30-220)"),
        (_bp("120", "80", "221"), "pulse", "(30-220)"),
        (_bp("120", "120", "70"), "diastolic", "below the upper"),
        (_bp("80", "120", "70"), "diastolic", "below the upper"),
        (_bp("", "80", "70"), "systolic", "Enter the systolic"),
        (_bp("120.5", "80", "70"), "systolic", "whole number"),
        (_bp("-120", "80", "70"), "systolic", "whole number"),
        (_bp("01200", "80", "70"), "systolic", "whole number"),
        (_bp("abc", "80", "70"), "systolic", "whole number"),
    ],
)
def test_blood_pressure_outside_physiology_is_refused_naming_the_field(
    engine, personas, session_id, values, field, words
):
    item_id = item_ids(session_id)["vitals"]
    with pytest.raises(ValidationFailed) as raised:
        _tick(personas, item_id, values)
    assert set(raised.value.fields) == {field}
    assert words in raised.value.fields[field]
    assert not _item(_checklist(personas, session_id), "vitals").done


@pytest.mark.parametrize(
    "values", [_bp("60", "30", "30"), _bp("260", "159", "220"), _bp(" 118 ", "76", "64")]
)
def test_blood_pressure_inside_the_ranges_is_kept(engine, personas, session_id, values):
    view = _tick(personas, item_ids(session_id)["vitals"], values)
    item = _item(view, "vitals")
    assert item.done and item.values == {k: v.strip() for k, v in values.items()}
    assert item.summary == "{systolic}/{diastolic} mmHg, pulse {pulse}".format(**item.values)


def test_a_superscript_digit_reading_is_refused_at_its_field(engine, personas, session_id):
    with pytest.raises(ValidationFailed) as raised:
        _tick(personas, item_ids(session_id)["vitals"], _bp("1²0", "80", "70"))
    assert set(raised.value.fields) == {"systolic"}


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({}, {"name", "phone"}),
        ({"name": "  ", "phone": CHAPERONE["phone"]}, {"name"}),
        ({"name": "Cara", "phone": ""}, {"phone"}),
        ({"name": "Cara", "phone": "call me maybe"}, {"phone"}),
        ({"name": "Cara", "phone": "12-34-56"}, {"phone"}),
        ({"name": "Cara", "phone": "+1 555 0100 <b>"}, {"phone"}),
        ({"name": "Cara\nChaperone", "phone": CHAPERONE["phone"]}, {"name"}),
        ({"name": "C" * 121, "phone": CHAPERONE["phone"]}, {"name"}),
        ({"name": ["Cara"], "phone": 5550100}, {"name", "phone"}),
    ],
)
def test_a_chaperone_needs_a_name_and_a_phone_number(
    engine, personas, home_session_id, values, fields
):
    with pytest.raises(ValidationFailed) as raised:
        _tick(personas, item_ids(home_session_id)["chaperone"], values)
    assert set(raised.value.fields) == fields


@pytest.mark.parametrize("name", [HOSTILE, "Zoë Ødegård-Nakamura"])
def test_a_chaperone_name_is_stored_exactly_as_typed(engine, personas, home_session_id, name):
    view = _tick(personas, item_ids(home_session_id)["chaperone"], CHAPERONE | {"name": name})
    item = _item(view, "chaperone")
    assert item.values == {"name": name, "phone": CHAPERONE["phone"]}
    assert item.summary == f"{name} · {CHAPERONE['phone']}"


@pytest.mark.parametrize(
    ("text", "problem"), [("", "Write"), ("   ", "Write"), ("i" * 1001, "1000"), (None, "Write")]
)
def test_an_intention_is_required_and_short(engine, personas, session_id, text, problem):
    with pytest.raises(ValidationFailed) as raised:
        _tick(personas, item_ids(session_id)["intention"], {"text": text})
    assert problem in raised.value.fields["text"]


@pytest.mark.parametrize("text", [HOSTILE, "i" * 1000])
def test_an_intention_is_kept_exactly(engine, personas, session_id, text):
    view = _tick(personas, item_ids(session_id)["intention"], {"text": text})
    assert _item(view, "intention").values == {"text": text}


def test_a_step_without_a_value_ignores_what_is_sent(engine, personas, session_id):
    view = _tick(personas, item_ids(session_id)["ride"], {"text": HOSTILE})
    item = _item(view, "ride")
    assert (item.done, item.values, item.summary) == (True, {}, "")


# --- Drafts, unticking and closed sessions -------------------------------------------------------


def test_typed_values_survive_before_ticking_and_after_a_refusal(engine, personas, home_session_id):
    item_id = item_ids(home_session_id)["chaperone"]
    _draft(personas, item_id, "name", "Cara Chap")
    _draft(personas, item_id, "phone", "555")
    _draft(personas, item_id, "nickname", "ignored")
    with pytest.raises(ValidationFailed):
        _tick(personas, item_id, {"name": "Cara Chap", "phone": "555"})
    item = _item(_checklist(personas, home_session_id), "chaperone")
    assert (item.done, item.values) == (False, {"name": "Cara Chap", "phone": "555"})


def test_unticking_keeps_the_value_to_edit(engine, personas, session_id):
    item_id = item_ids(session_id)["intention"]
    _tick(personas, item_id, {"text": "Be curious"}, who="clinician")
    with unit_of_work() as s:
        view = checklists.reopen_item(session=s, actor=personas.actor("client"), item_id=item_id)
    item = _item(view, "intention")
    assert (item.done, item.values, item.done_at) == (False, {"text": "Be curious"}, "")


def test_a_draft_never_overwrites_a_ticked_value(engine, personas, session_id):
    item_id = item_ids(session_id)["intention"]
    _tick(personas, item_id, {"text": "Be curious"})
    _draft(personas, item_id, "text", "changed")
    assert _item(_checklist(personas, session_id), "intention").values == {"text": "Be curious"}


def test_a_cancelled_sessions_steps_cannot_be_ticked_or_edited(engine, personas, session_id):
    ids = item_ids(session_id)
    _tick(personas, ids["ride"])
    _cancel(personas, session_id)
    client = personas.actor("client")
    for change in (
        lambda s: checklists.complete_item(session=s, actor=client, item_id=ids["fasting"]),
        lambda s: checklists.save_item_draft(
            session=s, actor=client, item_id=ids["intention"], field="text", value="late"
        ),
        lambda s: checklists.reopen_item(session=s, actor=client, item_id=ids["ride"]),
    ):
        with pytest.raises(ValidationFailed) as raised, unit_of_work() as s:
            change(s)
        assert "no longer scheduled" in raised.value.fields["form"]
    view = _checklist(personas, session_id)
    assert [i.key for i in view.items if i.done] == ["ride"]
    assert _item(view, "intention").values == {"text": ""}
