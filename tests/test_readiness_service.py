"""The readiness gate end to end: consent, screening and review, preparation steps, vitals
against the clinic's limits, urgent alerts, new consent versions, withdrawal and the lapse rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.errors import ValidationFailed
from kapjourney.services import alerts, consent, inbox, plan, protocol, readiness, screening
from kapjourney.services.uow import unit_of_work
from tests.journey_support import (
    BASE,
    alert_ids,
    complete_screening,
    complete_steps,
    review,
    schedule,
    sign_consent,
)

EDITED = DEFAULT_CONSENT_TEXT + "\n## Questions\nAsk your care team anything, any time.\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(BASE, tick=False) as traveller:
        yield traveller


def _ready(personas, dosing_id: int, who: str = "clinician"):
    with unit_of_work() as s:
        view = readiness.get_readiness(
            session=s, actor=personas.actor(who), dosing_session_id=dosing_id
        )
    return view


def _level(personas, dosing_id: int) -> tuple[str, list[str]]:
    view = _ready(personas, dosing_id)
    return view.level, [r.code for r in view.reasons if r.blocking]


def _prepared(personas, days_ahead: float = 7, bp=(120, 80, 70), phq9_item9: int = 0) -> int:
    """Ada signed, screened and reviewed, with a session ``days_ahead`` away, every step done."""
    ada, cleo = personas.actor("client"), personas.actor("clinician")
    sign_consent(ada)
    complete_screening(ada, phq9_item9=phq9_item9)
    review(cleo, personas.client.id)
    dosing_id = schedule(cleo, personas.client.id, days_ahead)
    complete_steps(ada, dosing_id, bp)
    return dosing_id


def _set_protocol(personas, **values) -> None:
    with unit_of_work() as s:
        protocol.update_protocol(
            session=s,
            actor=personas.actor("admin"),
            values={k: str(v) for k, v in values.items()} | {"followups": "2h, 24h, 72h, 7d"},
        )


def test_a_new_client_is_red_for_consent_and_screening(engine, personas):
    dosing_id = schedule(personas.actor("clinician"), personas.client.id, 7)
    view = _ready(personas, dosing_id)
    assert (view.level, view.label) == ("red", "Not ready")
    assert [r.code for r in view.reasons if r.blocking] == ["consent_none", "screening_incomplete"]
    assert {r.code for r in view.reasons if not r.blocking} == {"step_due"}
    mine = _ready(personas, dosing_id, who="client")
    assert [r.text for r in mine.reasons if r.blocking] == [
        "Sign your consent",
        "Finish your health screening",
    ]


def test_an_unreviewed_screening_keeps_it_red(engine, personas):
    sign_consent(personas.actor("client"))
    complete_screening(personas.actor("client"))
    dosing_id = schedule(personas.actor("clinician"), personas.client.id, 7)
    assert _level(personas, dosing_id) == ("red", ["screening_unreviewed"])


def test_everything_done_within_limits_is_green(engine, personas):
    dosing_id = _prepared(personas)
    view = _ready(personas, dosing_id)
    assert (view.level, view.label, view.reasons) == ("green", "Ready", [])
    assert _ready(personas, dosing_id, who="client").level == "green"


def test_steps_still_to_do_are_amber_until_they_are_late(engine, personas, frozen):
    ada, cleo = personas.actor("client"), personas.actor("clinician")
    sign_consent(ada)
    complete_screening(ada)
    review(cleo, personas.client.id)
    dosing_id = schedule(cleo, personas.client.id, 7)
    view = _ready(personas, dosing_id)
    assert (view.level, view.label) == ("amber", "On track")
    frozen.shift(timedelta(days=5, minutes=1))  # the benzodiazepine talk was due 48 h before
    assert _level(personas, dosing_id) == ("red", ["step_late"])


def test_an_open_urgent_alert_keeps_it_red_until_resolved(engine, personas):
    dosing_id = _prepared(personas, phq9_item9=1)
    assert _level(personas, dosing_id) == ("red", ["open_alert"])
    [alert_id] = alert_ids(personas.client.id)
    cleo = personas.actor("clinician")

    def status() -> str:
        with unit_of_work() as s:
            [row] = alerts.list_client_alerts(session=s, actor=cleo, client_id=personas.client.id)
        return row.status

    with unit_of_work() as s:
        inbox.acknowledge(session=s, actor=cleo, alert_id=alert_id)
    assert status() == "acknowledged"
    assert _level(personas, dosing_id) == ("red", ["open_alert"])
    for note in ("", "  ok ", None):
        with pytest.raises(ValidationFailed) as raised, unit_of_work() as s:
            inbox.resolve(session=s, actor=cleo, alert_id=alert_id, note=note, outcome="referred")
        assert set(raised.value.fields) == {"note"}
    assert _level(personas, dosing_id) == ("red", ["open_alert"])
    with unit_of_work() as s:
        inbox.resolve(
            session=s,
            actor=cleo,
            alert_id=alert_id,
            note="Called her; safety plan agreed",
            outcome="contacted_client",
        )
    assert status() == "resolved"
    assert _level(personas, dosing_id) == ("green", [])


def test_alerts_are_listed_open_first(engine, personas):
    _prepared(personas, phq9_item9=1)
    [first] = alert_ids(personas.client.id)
    with unit_of_work() as s:
        inbox.resolve(
            session=s,
            actor=personas.actor("admin"),
            alert_id=first,
            note="Seen in clinic",
            outcome="session_held",
        )
    with unit_of_work() as s:
        screening.request_rescreen(
            session=s, actor=personas.actor("clinician"), client_id=personas.client.id
        )
    complete_screening(personas.actor("client"), phq9_item9=2)
    with unit_of_work() as s:
        rows = alerts.list_client_alerts(
            session=s, actor=personas.actor("clinician"), client_id=personas.client.id
        )
    assert [(r.status, r.severity) for r in rows] == [("open", "urgent"), ("resolved", "urgent")]
    assert rows[1].alert_id == first
    assert "item 9" in rows[0].reason


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ({"bp_systolic_max": 130}, "bp_high"),
        ({"bp_diastolic_max": 75}, "bp_high"),
        ({"pulse_max": 65}, "pulse_high"),
    ],
)
def test_vitals_above_the_clinics_limit_are_red(engine, personas, limits, code):
    dosing_id = _prepared(personas, bp=(140, 80, 70))
    assert _level(personas, dosing_id) == ("green", [])
    _set_protocol(personas, **limits)
    assert _level(personas, dosing_id) == ("red", [code])


def test_vitals_exactly_at_the_limit_are_green(engine, personas):
    dosing_id = _prepared(personas, bp=(160, 100, 120))
    assert _level(personas, dosing_id) == ("green", [])


def test_a_new_consent_version_is_red_until_signed_again(engine, personas):
    dosing_id = _prepared(personas)
    with unit_of_work() as s:
        consent.publish_document(session=s, actor=personas.actor("admin"), text=EDITED)
    assert _level(personas, dosing_id) == ("red", ["consent_outdated"])
    assert "sign it again" in _ready(personas, dosing_id, who="client").reasons[0].text
    sign_consent(personas.actor("client"), text=EDITED)
    assert _level(personas, dosing_id) == ("green", [])


def test_a_withdrawn_consent_is_red(engine, personas):
    dosing_id = _prepared(personas)
    with unit_of_work() as s:
        consent.withdraw_consent(session=s, actor=personas.actor("client"), reason="Not now")
    assert _level(personas, dosing_id) == ("red", ["consent_withdrawn"])


# --- The lapse rule ------------------------------------------------------------------------------


def _two_sessions(personas, frozen, gap_days: float) -> int:
    """Session 1 tomorrow (done), session 2 ``gap_days`` later; returns session 2, a day away."""
    first = _prepared(personas, days_ahead=1)
    second = schedule(personas.actor("clinician"), personas.client.id, 1 + gap_days)
    frozen.shift(timedelta(days=1, minutes=1))
    with unit_of_work() as s:
        plan.complete_session(session=s, actor=personas.actor("clinician"), dosing_session_id=first)
    frozen.shift(timedelta(days=gap_days - 1))
    complete_steps(personas.actor("client"), second)
    return second


def test_a_session_long_after_the_last_is_red_until_rescreened(engine, personas, frozen):
    second = _two_sessions(personas, frozen, gap_days=100)
    assert _level(personas, second) == ("red", ["lapsed"])
    cleo = personas.actor("clinician")
    with unit_of_work() as s:
        screening.request_rescreen(session=s, actor=cleo, client_id=personas.client.id)
    assert _level(personas, second) == ("red", ["screening_incomplete", "lapsed"])
    complete_screening(personas.actor("client"))
    assert _level(personas, second) == ("red", ["screening_unreviewed", "lapsed"])
    review(cleo, personas.client.id)
    assert _level(personas, second) == ("green", [])


@pytest.mark.parametrize(("gap_days", "lapsed"), [(90, False), (90 + 1 / 1440, True)])
def test_the_lapse_starts_after_the_clinics_number_of_days(
    engine, personas, frozen, gap_days, lapsed
):
    second = _two_sessions(personas, frozen, gap_days)
    assert _level(personas, second) == (("red", ["lapsed"]) if lapsed else ("green", []))


def test_the_clinic_sets_the_lapse(engine, personas, frozen):
    _set_protocol(personas, lapse_days=30)
    second = _two_sessions(personas, frozen, gap_days=31)
    view = _ready(personas, second)
    assert [r.text for r in view.reasons] == [
        "Last session more than 30 days ago: re-screen before dosing"
    ]
