"""The clinic protocol: defaults with their sources, admin changes audited old -> new, and every
value checked at its own field."""

from __future__ import annotations

import pytest

from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.protocol import SETTINGS
from kapjourney.services import protocol
from kapjourney.services.uow import unit_of_work
from tests.support import audit_events

DEFAULTS = {s.name: s.default for s in SETTINGS}
FOLLOWUPS = "2h, 24h, 72h, 7d"


def _get(personas, who: str = "clinician"):
    with unit_of_work() as s:
        return protocol.get_protocol(session=s, actor=personas.actor(who))


def _values(view) -> dict[str, int]:
    return {s.name: s.value for s in view.settings}


def _update(personas, **values):
    with unit_of_work() as s:
        return protocol.update_protocol(
            session=s, actor=personas.actor("admin"), values={"followups": FOLLOWUPS} | values
        )


def test_a_clinic_starts_with_the_published_defaults_and_their_sources(engine, personas):
    view = _get(personas)
    assert (
        _values(view)
        == DEFAULTS
        == {
            "dosing_sessions": 6,
            "fasting_hours": 4,
            "bp_systolic_max": 160,
            "bp_diastolic_max": 100,
            "pulse_max": 120,
            "lapse_days": 90,
            "checkin_grace_hours": 12,
            "phq9_interval_days": 7,
            "pre_session_phq9_hours": 72,
            "gad7_interval_days": 7,
            "pcl5_interval_days": 14,
            "escalate_emergency_minutes": 5,  # the alert inbox (issue 6)
            "escalate_urgent_minutes": 15,
        }
    )
    assert all(s.source and s.low <= s.value <= s.high for s in view.settings)
    assert (view.followups, view.followups_default, view.updated) == (FOLLOWUPS, FOLLOWUPS, "")


def test_each_changed_setting_is_audited_old_to_new(engine, personas):
    view = _update(personas, fasting_hours="6", pulse_max=" 110 ", lapse_days="90")
    assert _values(view) == DEFAULTS | {"fasting_hours": 6, "pulse_max": 110}
    assert view.updated != ""
    assert [(e.actor_id, e.target, e.detail) for e in audit_events(engine, "protocol_changed")] == [
        (personas.admin.id, "fasting_hours", "4->6"),
        (personas.admin.id, "pulse_max", "120->110"),
    ]
    assert _values(_get(personas)) == _values(view)


def test_saving_without_changes_records_nothing(engine, personas):
    view = _update(personas, **{k: str(v) for k, v in DEFAULTS.items()})
    assert (view.updated, audit_events(engine, "protocol_changed")) == ("", [])


def test_follow_up_times_change_and_are_audited(engine, personas):
    view = _update(personas, followups="7d, 30m,1d")
    assert view.followups == "30m, 24h, 7d"
    [event] = audit_events(engine, "protocol_changed")
    assert (event.target, event.detail) == (
        "followup_minutes",
        "120,1440,4320,10080->30,1440,10080",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("dosing_sessions", "0"),
        ("dosing_sessions", "49"),
        ("dosing_sessions", "six"),
        ("fasting_hours", "13"),
        ("fasting_hours", "-1"),
        ("fasting_hours", "4.5"),
        ("bp_systolic_max", "99"),
        ("bp_systolic_max", "221"),
        ("bp_diastolic_max", "59"),
        ("bp_diastolic_max", "141"),
        ("pulse_max", "59"),
        ("pulse_max", "181"),
        ("lapse_days", "13"),
        ("lapse_days", "731"),
        ("lapse_days", ""),
        ("lapse_days", None),
        ("lapse_days", True),
        ("lapse_days", "9" * 30),
    ],
)
def test_a_value_outside_its_range_is_refused_at_its_field(engine, personas, name, value):
    with pytest.raises(ValidationFailed) as raised:
        _update(personas, **{name: value})
    assert set(raised.value.fields) == {name}
    assert "whole number" in raised.value.fields[name]
    assert _values(_get(personas)) == DEFAULTS
    assert audit_events(engine, "protocol_changed") == []


def test_the_diastolic_limit_must_be_below_the_systolic_one(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _update(personas, bp_systolic_max="120", bp_diastolic_max="120")
    assert set(raised.value.fields) == {"bp_diastolic_max"}


def test_several_bad_values_are_all_named(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _update(personas, fasting_hours="x", pulse_max="500", followups="soon")
    assert set(raised.value.fields) == {"fasting_hours", "pulse_max", "followups"}


@pytest.mark.parametrize(
    "followups",
    ["", " , ", "2x", "2h, 2h", "10m", "61d", "2h,3h,4h,5h,6h,7h,8h,9h,10h", "2h;24h", "x" * 201],
)
def test_bad_follow_up_times_are_refused(engine, personas, followups):
    with pytest.raises(ValidationFailed) as raised:
        _update(personas, followups=followups)
    assert set(raised.value.fields) == {"followups"}
    assert _get(personas).followups == FOLLOWUPS


def test_changing_one_setting_keeps_the_follow_up_times(engine, personas):
    with unit_of_work() as s:
        protocol.update_protocol(
            session=s, actor=personas.actor("admin"), values={"fasting_hours": "6"}
        )
    assert _get(personas).followups == FOLLOWUPS
    assert [e.target for e in audit_events(engine, "protocol_changed")] == ["fasting_hours"]


def test_a_superscript_digit_is_refused_at_its_field(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _update(personas, fasting_hours="²")
    assert set(raised.value.fields) == {"fasting_hours"}


@pytest.mark.parametrize("values", [None, [], "fasting_hours=6"])
def test_values_that_are_not_a_mapping_change_nothing(engine, personas, values):
    with unit_of_work() as s:
        view = protocol.update_protocol(session=s, actor=personas.actor("admin"), values=values)
    assert _values(view) == DEFAULTS
