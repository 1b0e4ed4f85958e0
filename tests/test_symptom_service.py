"""Post-session symptom reports, the clinic's safety-rule settings and the support screen,
through the services: drafts, grading, triage, alerts in the same transaction (a failing alert
rolls the report back), idempotent replays, Today's to-dos, and who may reach what."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.enums import AlertSeverity, AlertStatus
from kapjourney.domain.errors import AccessDenied, NotFound, ValidationFailed
from kapjourney.domain.models import (
    Alert,
    AuditEvent,
    Clinic,
    DosingSession,
    SafetyPlan,
    SubmissionReceipt,
    SymptomReport,
)
from kapjourney.domain.safety import RULES, SYMPTOM_ITEMS
from kapjourney.services import alerts, inbox, plan, safety_rules, symptoms
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, schedule
from tests.support import audit_events, count

DOSED = BASE + timedelta(days=1)  # the session's dosing time (a completed session)
CALM = {key: 0 for key, _ in SYMPTOM_ITEMS}
H24 = 1440


def at(hours: float):
    return time_machine.travel(DOSED + timedelta(hours=hours), tick=False)


def call(fn, actor, **kwargs):
    with unit_of_work() as s:
        return fn(session=s, actor=actor, **kwargs)


@pytest.fixture
def dosing_id(engine, personas) -> int:
    """Ada's first session, dosed at DOSED and marked done by her clinician."""
    cleo = personas.actor("clinician")
    with time_machine.travel(BASE, tick=False):
        dosing = schedule(cleo, personas.client.id, days_ahead=1)
    with time_machine.travel(DOSED + timedelta(minutes=1), tick=False):
        call(plan.complete_session, cleo, dosing_session_id=dosing)
    return dosing


def save(personas, dosing, field, value, offset=H24, who="client"):
    return call(
        symptoms.save_report_answer,
        personas.actor(who),
        dosing_session_id=dosing,
        offset_minutes=offset,
        field=field,
        value=value,
    )


def submit(personas, dosing, offset=H24, sid="sub-0001-abcdef", who="client", **kwargs):
    return call(
        symptoms.submit_report,
        personas.actor(who),
        dosing_session_id=dosing,
        offset_minutes=offset,
        submission_id=sid,
        **kwargs,
    )


def report_row(engine) -> SymptomReport:
    with db.session_scope(engine) as s:
        return s.exec(select(SymptomReport)).one()


def alerts_of(engine) -> list[Alert]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(Alert).where(Alert.source_kind == "symptom_report")).all())


# --- The form ---------------------------------------------------------------------------------


def test_the_form_lists_every_item_with_five_severities(personas, dosing_id):
    with at(25):
        view = call(
            symptoms.get_report,
            personas.actor("client"),
            dosing_session_id=dosing_id,
            offset_minutes=str(H24),  # as the URL carries it
        )
    assert view.title == "24 hours after session 1"
    assert len(view.items) == len(SYMPTOM_ITEMS) == view.required
    assert [c.label for c in view.items[0].choices] == [
        "None",
        "Mild",
        "Moderate",
        "Severe",
        "Very severe",
    ]
    assert (view.submitted, view.answered, view.hours_since_dosing) == (False, 0, 25.0)
    assert view.emergency_number == "911"


@pytest.mark.parametrize(
    ("hours", "offset"),
    [(1.9, 120), (23.0, H24), (25, 60), (25, 0), (25, -120), (25, "24h"), (25, None)],
)
def test_a_report_not_yet_due_or_not_in_the_protocol_is_not_found(
    personas, dosing_id, hours, offset
):
    with at(hours), pytest.raises(NotFound):
        call(
            symptoms.get_report,
            personas.actor("client"),
            dosing_session_id=dosing_id,
            offset_minutes=offset,
        )


def test_a_session_not_yet_done_has_no_report(engine, personas):
    with time_machine.travel(BASE, tick=False):
        upcoming = schedule(personas.actor("clinician"), personas.client.id, days_ahead=1)
    with at(30), pytest.raises(NotFound):
        call(
            symptoms.get_report,
            personas.actor("client"),
            dosing_session_id=upcoming,
            offset_minutes=H24,
        )


# --- Drafts -----------------------------------------------------------------------------------


def test_each_answer_is_saved_to_a_draft_as_it_is_given(engine, personas, dosing_id):
    with at(25):
        save(personas, dosing_id, "nausea", "1")
        save(personas, dosing_id, "headache", 0)
        save(personas, dosing_id, "systolic", "128")
        view = save(personas, dosing_id, "note", "  Tired but fine  ")
    assert view.answered == 2 and view.systolic == "128" and view.note == "Tired but fine"
    assert {i.key: i.answer for i in view.items}["nausea"] == "1"
    row = report_row(engine)
    assert (row.status, json.loads(row.answers)) == ("draft", {"headache": 0, "nausea": 1})
    assert row.due_at.replace(tzinfo=None) == (DOSED + timedelta(hours=24)).replace(tzinfo=None)
    assert alerts_of(engine) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nausea", "7", "Choose one of the answers."),
        ("nausea", -1, "Choose one of the answers."),
        ("nausea", True, "Choose one of the answers."),
        ("systolic", "300", "Enter a number from 60 to 260."),
        ("systolic", "59", "Enter a number from 60 to 260."),
        ("diastolic", "161", "Enter a number from 30 to 160."),
        ("pulse", "29", "Enter a number from 30 to 220."),
        ("pulse", "<script>alert(1)</script>", "Enter the pulse as a number, like 120."),
        ("systolic", "1" * 5000, "Enter the upper number as a number, like 120."),
        ("note", "x" * 1_000_000, "Please keep your note to 2,000 characters (it has 1,000,000)."),
        ("note", 42, "Write your note as text."),
    ],
)
def test_bad_input_gets_a_message_at_its_field_and_nothing_is_stored(
    engine, personas, dosing_id, field, value, message
):
    with at(25), pytest.raises(ValidationFailed) as raised:
        save(personas, dosing_id, field, value)
    assert raised.value.fields == {field: message}
    assert count(engine, SymptomReport) == 0


def test_an_unknown_field_is_refused(engine, personas, dosing_id):
    with at(25), pytest.raises(ValidationFailed) as raised:
        save(personas, dosing_id, "answers", "{}")
    assert set(raised.value.fields) == {"form"}


def test_a_script_in_the_note_is_kept_as_plain_text(engine, personas, dosing_id):
    hostile = "<script>alert(1)</script> felt odd"
    with at(25):
        view = save(personas, dosing_id, "note", hostile)
    assert view.note == hostile
    events = audit_events(engine)
    assert all("script" not in e.detail and "odd" not in e.detail for e in events)


def test_clearing_a_reading_removes_it(engine, personas, dosing_id):
    with at(25):
        save(personas, dosing_id, "pulse", "88")
        view = save(personas, dosing_id, "pulse", "  ")
    assert view.pulse == "" and report_row(engine).pulse is None


def test_a_worrying_answer_in_an_unfinished_report_reaches_the_care_team(
    engine, personas, dosing_id
):
    with at(25):
        view = save(personas, dosing_id, "detached", "1")
    [alert] = alerts_of(engine)
    assert (alert.severity, alert.reason_code, alert.status) == (
        "urgent",
        "dissociation_persistent",
        "open",
    )
    assert alert.source_id == report_row(engine).id and view.alert_tier == "urgent"


def test_feeling_detached_two_hours_after_dosing_is_expected(engine, personas, dosing_id):
    with at(2.5):
        save(personas, dosing_id, "detached", "1", offset=120)
    assert alerts_of(engine) == []


def test_later_saves_raise_the_same_alert_never_lower_it(engine, personas, dosing_id):
    with at(25):
        save(personas, dosing_id, "nausea", "2")
        [routine] = alerts_of(engine)
        save(personas, dosing_id, "chest_pain", "1")
        save(personas, dosing_id, "chest_pain", "0")
    [alert] = alerts_of(engine)
    assert alert.id == routine.id
    assert (alert.severity, alert.reason_code) == ("emergency", "chest_pain")
    assert json.loads(alert.rules) == ["symptom_moderate", "chest_pain"]


# --- Sending ----------------------------------------------------------------------------------


def test_missing_answers_are_named_at_each_field_and_the_draft_is_kept(engine, personas, dosing_id):
    with at(25):
        save(personas, dosing_id, "nausea", "0")
        with pytest.raises(ValidationFailed) as raised:
            submit(personas, dosing_id)
    assert set(raised.value.fields) == set(CALM) - {"nausea"}
    assert raised.value.fields["headache"].startswith("Please choose an answer")
    row = report_row(engine)
    assert (row.status, json.loads(row.answers)) == ("draft", {"nausea": 0})
    assert count(engine, SubmissionReceipt) == 0


def test_submitting_the_draft_grades_and_triages_it(engine, personas, dosing_id):
    with at(25):
        for key, value in (CALM | {"detached": 1, "nausea": 2, "headache": 4}).items():
            save(personas, dosing_id, key, value)
        save(personas, dosing_id, "systolic", "150")
        save(personas, dosing_id, "diastolic", "95")
        result = submit(personas, dosing_id)
    assert (result.tier, result.follow_cssrs, result.replayed) == ("urgent", False, False)
    row = report_row(engine)
    assert (row.status, row.max_grade, row.triage) == ("submitted", 3, "urgent")
    graded = json.loads(row.grades)
    assert (graded["nausea"], graded["headache"], graded["detached"], graded["dizziness"]) == (
        2,
        3,
        1,
        0,
    )
    assert (row.systolic, row.diastolic) == (150, 95)
    assert row.captured_at is not None and row.submitted_at is not None
    [alert] = alerts_of(engine)
    assert alert.severity == "urgent"
    assert set(json.loads(alert.rules)) >= {"dissociation_persistent", "severe_grade"}
    events = audit_events(engine, "symptom_report_submitted")
    assert [(e.actor_id, e.subject_client_id, e.detail) for e in events] == [
        (personas.client.id, personas.client.id, "")
    ]


def test_blood_pressure_needs_both_numbers_upper_above_lower(engine, personas, dosing_id):
    with at(25):
        with pytest.raises(ValidationFailed) as one:
            submit(personas, dosing_id, answers=CALM, systolic="124")
        with pytest.raises(ValidationFailed) as swapped:
            submit(personas, dosing_id, answers=CALM, systolic="80", diastolic="120")
        with pytest.raises(ValidationFailed) as wild:
            submit(personas, dosing_id, answers=CALM, systolic="999", diastolic="80", pulse="x")
    assert one.value.fields == {
        "diastolic": "Enter both blood pressure numbers, or leave both empty."
    }
    assert swapped.value.fields == {
        "diastolic": "The lower number must be smaller than the upper number."
    }
    assert set(wild.value.fields) == {"systolic", "pulse"}
    assert count(engine, SymptomReport) == 0


def test_a_calm_report_is_logged_without_an_alert(engine, personas, dosing_id):
    with at(25):
        result = submit(
            personas, dosing_id, answers=CALM | {"nausea": 1}, systolic=124, diastolic=80
        )
    assert (result.tier, result.follow_cssrs) == ("", False)
    assert report_row(engine).triage == "none" and alerts_of(engine) == []


def test_moderate_side_effects_are_routine(engine, personas, dosing_id):
    with at(25):
        result = submit(personas, dosing_id, answers=CALM | {"dizziness": 2})
    assert result.tier == "routine"
    [alert] = alerts_of(engine)
    assert alert.severity == "routine"


def test_thoughts_of_self_harm_send_the_client_on_to_the_cssrs(engine, personas, dosing_id):
    with at(3):
        result = submit(personas, dosing_id, offset=120, answers=CALM | {"self_harm": 1})
    assert (result.tier, result.follow_cssrs) == ("urgent", True)


def test_chest_pain_or_a_pressure_crisis_with_symptoms_is_an_emergency(engine, personas, dosing_id):
    with at(3):
        result = submit(
            personas,
            dosing_id,
            offset=120,
            answers=CALM | {"severe_headache": 1},
            systolic="182",
            diastolic="100",
        )
    assert result.tier == "emergency"
    [alert] = alerts_of(engine)
    assert alert.reason_code == "bp_crisis_with_symptoms"


def test_a_replay_returns_the_first_result_and_stores_nothing_new(engine, personas, dosing_id):
    answers = CALM | {"detached": 2}
    with at(25):
        first = submit(personas, dosing_id, answers=answers)
        again = submit(personas, dosing_id, answers=answers)
        replay_of_draft = submit(personas, dosing_id)  # answers None: still the same receipt
    assert (again.report_id, again.tier, again.replayed) == (first.report_id, "urgent", True)
    assert replay_of_draft == again
    assert count(engine, SymptomReport) == 1 and count(engine, SubmissionReceipt) == 1
    assert len(alerts_of(engine)) == 1
    assert len(audit_events(engine, "symptom_report_submitted")) == 1


def test_a_second_submission_of_a_sent_report_is_refused(engine, personas, dosing_id):
    with at(25):
        submit(personas, dosing_id, answers=CALM)
        with pytest.raises(ValidationFailed) as again:
            submit(personas, dosing_id, sid="another-submission", answers=CALM | {"nausea": 3})
        with pytest.raises(ValidationFailed) as edit:
            save(personas, dosing_id, "nausea", "3")
    assert again.value.fields == {"form": "You have already sent this report. Thank you."}
    assert edit.value.fields == again.value.fields
    assert report_row(engine).triage == "none"


@pytest.mark.parametrize("sid", ["", "short", "x" * 65, "has space1", None, 12345678, "é" * 10])
def test_a_malformed_submission_id_is_refused(engine, personas, dosing_id, sid):
    with at(25), pytest.raises(ValidationFailed) as raised:
        submit(personas, dosing_id, sid=sid, answers=CALM)
    assert set(raised.value.fields) == {"form"}
    assert count(engine, SymptomReport) == 0


def test_a_submission_id_is_not_reused_across_reports(engine, personas, dosing_id):
    with at(25):
        submit(personas, dosing_id, offset=120, answers=CALM)
        with pytest.raises(ValidationFailed):
            submit(personas, dosing_id, offset=H24, answers=CALM)


def test_an_offline_report_keeps_when_it_was_written(engine, personas, dosing_id):
    written = DOSED + timedelta(hours=26)
    with at(40):
        result = submit(
            personas, dosing_id, answers=CALM | {"hallucinations": 1}, captured_at=written
        )
    assert result.tier == "urgent"
    assert report_row(engine).captured_at.replace(tzinfo=None) == written.replace(tzinfo=None)


def test_a_capture_time_before_the_due_time_counts_from_the_due_time(engine, personas, dosing_id):
    """A phone's clock cannot move a 24-hour report under the 24-hour line."""
    with at(25):
        result = submit(
            personas,
            dosing_id,
            answers=CALM | {"detached": 1},
            captured_at=(DOSED + timedelta(hours=20)).isoformat(),
        )
    assert result.tier == "urgent"


@pytest.mark.parametrize(
    "captured",
    [
        (DOSED - timedelta(hours=1)).isoformat(),  # before the session
        (DOSED + timedelta(hours=30)).isoformat(),  # in the future (now is 25 h)
        (DOSED + timedelta(hours=24)).replace(tzinfo=None).isoformat(),  # no time zone
        "yesterday",
        "9" * 500,
        12,
    ],
)
def test_an_impossible_capture_time_is_refused(engine, personas, dosing_id, captured):
    with at(25), pytest.raises(ValidationFailed) as raised:
        submit(personas, dosing_id, answers=CALM, captured_at=captured)
    assert set(raised.value.fields) == {"captured_at"}


def test_a_clinic_that_raises_a_tier_gets_that_tier(engine, personas, dosing_id):
    call(
        safety_rules.update_safety_rule,
        personas.actor("admin"),
        code="symptom_moderate",
        tier="urgent",
    )
    with at(25):
        result = submit(personas, dosing_id, answers=CALM | {"nausea": 2})
    assert result.tier == "urgent"


# --- No report without its alert --------------------------------------------------------------


def _alert_insert_fails(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("alert table unavailable")

    monkeypatch.setattr(alerts, "raise_alert", boom)


def test_no_report_is_stored_without_its_alert(engine, personas, dosing_id, monkeypatch):
    _alert_insert_fails(monkeypatch)
    with at(25), pytest.raises(RuntimeError):
        submit(personas, dosing_id, answers=CALM | {"detached": 1})
    assert count(engine, SymptomReport) == 0
    assert count(engine, SubmissionReceipt) == 0
    assert audit_events(engine, "symptom_report_submitted") == []


def test_no_draft_answer_is_stored_without_its_alert(engine, personas, dosing_id, monkeypatch):
    with at(25):
        save(personas, dosing_id, "nausea", "0")
    _alert_insert_fails(monkeypatch)
    with at(25), pytest.raises(RuntimeError):
        save(personas, dosing_id, "chest_pain", "2")
    assert json.loads(report_row(engine).answers) == {"nausea": 0}


def test_a_report_that_needs_no_alert_does_not_touch_the_alert_table(
    engine, personas, dosing_id, monkeypatch
):
    _alert_insert_fails(monkeypatch)
    with at(25):
        assert submit(personas, dosing_id, answers=CALM).tier == ""
    assert report_row(engine).status == "submitted"


# --- Today ------------------------------------------------------------------------------------


def _todos(engine, personas, hours: float):
    with at(hours), db.session_scope(engine) as s:
        client = s.get(type(personas.client), personas.client.id)
        return symptoms.todos(s, client, DOSED + timedelta(hours=hours))


@pytest.mark.parametrize(
    ("hours", "keys"),
    [
        (1.9, []),
        (2.0, ["120"]),
        (23.9, ["120"]),
        (24.0, ["1440"]),
        (71.9, ["1440"]),
        (72.0, ["4320"]),
        (168.0, ["10080"]),
        (335.9, ["10080"]),
        (336.0, []),
    ],
)
def test_a_report_is_on_today_from_its_due_time_until_the_next_is_due(
    engine, personas, dosing_id, hours, keys
):
    items = _todos(engine, personas, hours)
    assert [i.key for i in items] == [f"report-{dosing_id}-{k}" for k in keys]


def test_a_todo_links_to_its_form_and_leaves_once_sent(engine, personas, dosing_id):
    [item] = _todos(engine, personas, 25)
    assert item.title == "How are you feeling? (24 hours after session 1)"
    assert item.href == f"/report/{dosing_id}/1440"
    assert not item.urgent and item.detail == "About 2 minutes"
    with at(25):
        save(personas, dosing_id, "nausea", "0")
    assert _todos(engine, personas, 25)[0].detail.startswith("Started")
    with at(25):
        submit(personas, dosing_id, answers=CALM)
    assert _todos(engine, personas, 25) == []


def test_a_cancelled_or_other_clients_session_has_no_todos(engine, personas, dosing_id):
    with db.session_scope(engine) as s:
        other = s.get(type(personas.client), personas.other_client.id)
        assert symptoms.todos(s, other, DOSED + timedelta(hours=25)) == []


# --- The care team's list ---------------------------------------------------------------------


def test_the_care_team_sees_grades_of_what_was_present_and_vitals(engine, personas, dosing_id):
    with at(3):
        submit(
            personas,
            dosing_id,
            offset=120,
            answers=CALM | {"nausea": 2, "headache": 4},
            systolic="150",
            diastolic="95",
            pulse="88",
            note="Slept it off",
        )
    with at(25):
        save(personas, dosing_id, "detached", "1")
        save(personas, dosing_id, "note", "")  # a draft with an answer is listed
        rows = call(
            symptoms.list_reports, personas.actor("clinician"), client_id=personas.client.id
        )
    assert [(r.offset_label, r.status, r.triage) for r in rows] == [
        ("24 hours", "Not sent yet", "none"),
        ("2 hours", "Sent", "urgent"),  # very severe headache: grade 3
    ]
    sent = rows[1]
    assert sent.present == [
        "Nausea or vomiting: Grade 2 (moderate)",
        "Headache: Grade 3 (severe)",
    ]
    assert (sent.max_grade, sent.max_grade_label) == (3, "Grade 3 (severe)")
    assert (sent.vitals, sent.note, sent.session_number) == ("150/95, pulse 88", "Slept it off", 1)


# --- Safety rules and crisis numbers -------------------------------------------------------------


def test_every_rule_is_listed_with_its_default_for_all_staff(personas, engine):
    for who in ("clinician", "other_clinician", "admin", "foreign_admin"):
        view = call(safety_rules.get_safety_rules, personas.actor(who))
        assert view.can_edit == (who in ("admin", "foreign_admin"))
        assert [r.code for r in view.rules] == [r.code for r in RULES]
    pulse = next(r for r in view.rules if r.code == "pulse_high")
    assert (pulse.tier, pulse.threshold, pulse.has_threshold, pulse.changed) == (
        "urgent",
        "120",
        True,
        False,
    )
    assert pulse.tier_choices == ["emergency", "urgent"]
    bp = next(r for r in view.rules if r.code == "bp_very_high")
    assert (bp.has_pressure, bp.systolic, bp.diastolic, bp.has_threshold) == (
        True,
        "180",
        "110",
        False,
    )
    assert (view.emergency_number, view.crisis_line_number) == ("911", "988")


def test_an_admin_changes_a_rule_and_the_change_is_audited_by_code_only(engine, personas):
    view = call(
        safety_rules.update_safety_rule,
        personas.actor("admin"),
        code="pulse_high",
        tier="emergency",
        threshold="110",
    )
    pulse = next(r for r in view.rules if r.code == "pulse_high")
    assert (pulse.tier, pulse.threshold, pulse.changed) == ("emergency", "110", True)
    [event] = audit_events(engine, "safety_rule_changed")
    assert (event.actor_id, event.target, event.detail) == (personas.admin.id, "pulse_high", "")
    # the same values again change nothing and are not audited again
    call(
        safety_rules.update_safety_rule,
        personas.actor("admin"),
        code="pulse_high",
        tier="emergency",
        threshold=110,
    )
    assert len(audit_events(engine, "safety_rule_changed")) == 1
    # back to the defaults
    view = call(
        safety_rules.update_safety_rule,
        personas.actor("admin"),
        code="pulse_high",
        tier="urgent",
        threshold="",
    )
    assert not next(r for r in view.rules if r.code == "pulse_high").changed


def test_another_clinics_admin_changes_only_their_own_clinic(engine, personas, dosing_id):
    call(
        safety_rules.update_safety_rule,
        personas.actor("foreign_admin"),
        code="symptom_moderate",
        tier="urgent",
    )
    view = call(safety_rules.get_safety_rules, personas.actor("clinician"))
    assert next(r for r in view.rules if r.code == "symptom_moderate").tier == "routine"
    with at(25):
        assert submit(personas, dosing_id, answers=CALM | {"nausea": 2}).tier == "routine"


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"code": "chest_pain", "tier": "routine"}, {"tier"}),
        ({"code": "chest_pain", "tier": "panic"}, {"tier"}),
        ({"code": "pulse_high", "tier": "urgent", "threshold": "500"}, {"threshold"}),
        ({"code": "pulse_high", "tier": "urgent", "threshold": "<script>"}, {"threshold"}),
        ({"code": "phq9_item9", "tier": "urgent", "threshold": "2"}, {"threshold"}),
        ({"code": "bp_very_high", "tier": "urgent", "systolic": "30"}, {"systolic"}),
        (
            {"code": "bp_very_high", "tier": "urgent", "systolic": "140", "diastolic": "150"},
            {"diastolic"},
        ),
        ({"code": "chest_pain", "tier": "emergency", "systolic": "150"}, {"systolic"}),
        ({"code": "no_such_rule", "tier": "urgent"}, {"form"}),
        ({"code": ["chest_pain"], "tier": "urgent"}, {"form"}),
    ],
)
def test_a_setting_out_of_bounds_gets_a_message_at_its_field(engine, personas, kwargs, fields):
    with pytest.raises(ValidationFailed) as raised:
        call(safety_rules.update_safety_rule, personas.actor("admin"), **kwargs)
    assert set(raised.value.fields) == fields
    assert audit_events(engine, "safety_rule_changed") == []


def test_crisis_numbers_are_checked_saved_and_audited(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        call(
            safety_rules.update_crisis_numbers,
            personas.actor("admin"),
            emergency_number="<script>",
            crisis_line_name="x" * 200,
            crisis_line_number="1" * 30,
        )
    assert set(raised.value.fields) == {
        "emergency_number",
        "crisis_line_name",
        "crisis_line_number",
    }
    view = call(
        safety_rules.update_crisis_numbers,
        personas.actor("admin"),
        emergency_number="999",
        crisis_line_name="Samaritans",
        crisis_line_number="+44 116 123",
    )
    assert (view.emergency_number, view.crisis_line_name, view.crisis_line_number) == (
        "999",
        "Samaritans",
        "+44 116 123",
    )
    [event] = audit_events(engine, "crisis_numbers_changed")
    assert (event.actor_id, event.detail) == (personas.admin.id, "")
    support = call(safety_rules.get_support, personas.actor("client"))
    assert (support.emergency_number, support.crisis_line_number) == ("999", "+44 116 123")


def test_a_crisis_line_needs_a_name_and_a_number_together(personas):
    with pytest.raises(ValidationFailed) as raised:
        call(
            safety_rules.update_crisis_numbers,
            personas.actor("admin"),
            emergency_number="112",
            crisis_line_name="",
            crisis_line_number="988",
        )
    assert set(raised.value.fields) == {"crisis_line_name"}
    view = call(
        safety_rules.update_crisis_numbers,
        personas.actor("admin"),
        emergency_number="112",
        crisis_line_name="",
        crisis_line_number="",
    )
    assert view.crisis_line_number == ""


# --- The support screen -----------------------------------------------------------------------


def test_support_shows_the_clinics_numbers_and_no_tier_without_a_recent_alert(personas):
    view = call(safety_rules.get_support, personas.actor("client"))
    assert (view.clinic_name, view.emergency_number, view.crisis_line_number) == (
        "Test Clinic",
        "911",
        "988",
    )
    assert (view.tier, view.has_safety_plan, view.follow_up_href) == ("", False, "")


def test_support_after_an_urgent_report(engine, personas, dosing_id):
    with at(25):
        submit(personas, dosing_id, answers=CALM | {"detached": 1})
        assert call(safety_rules.get_support, personas.actor("client")).tier == "urgent"
    with at(25 + 24.5):  # a day later the screen is calm again
        assert call(safety_rules.get_support, personas.actor("client")).tier == ""


def test_support_shows_the_gravest_recent_unresolved_alert(engine, personas, dosing_id):
    with at(3):
        submit(personas, dosing_id, offset=120, answers=CALM | {"chest_pain": 1})
    with at(25):
        submit(personas, dosing_id, sid="sub-0002-abcdef", answers=CALM | {"nausea": 2})
        assert call(safety_rules.get_support, personas.actor("client")).tier == "emergency"
        [emergency] = [a for a in alerts_of(engine) if a.severity == AlertSeverity.EMERGENCY]
        call(
            inbox.resolve,
            personas.actor("clinician"),
            alert_id=emergency.id,
            note="Called: indigestion",
            outcome="contacted_client",
        )
        assert call(safety_rules.get_support, personas.actor("client")).tier == "routine"


def test_support_shows_the_safety_plan_and_the_cssrs_next(engine, personas, dosing_id):
    with db.session_scope(engine) as s:
        s.add(
            SafetyPlan(
                client_id=personas.client.id,
                clinic_id=personas.client.clinic_id,
                warning_signs="Pacing at night",
                coping="Walk the dog",
            )
        )
    with at(25):
        submit(personas, dosing_id, answers=CALM | {"self_harm": 2})
        view = call(safety_rules.get_support, personas.actor("client"))
    assert (view.has_safety_plan, view.warning_signs, view.coping) == (
        True,
        "Pacing at night",
        "Walk the dog",
    )
    assert (view.tier, view.follow_up_href) == ("urgent", "/questionnaire/cssrs")


# --- Who may reach what -----------------------------------------------------------------------

STAFF_AND_OUTSIDERS = ["clinician", "other_clinician", "other_client", "admin", "foreign_admin"]


def _new_events(engine, after: int) -> list[AuditEvent]:
    return [e for e in audit_events(engine) if e.id > after]


def _last_event(engine) -> int:
    events = audit_events(engine)
    return events[-1].id if events else 0


CLIENT_CALLS = {
    "symptom_report_viewed": lambda p, d: call(
        symptoms.get_report, p[0], dosing_session_id=d, offset_minutes=H24
    ),
    "symptom_report_saved": lambda p, d: call(
        symptoms.save_report_answer,
        p[0],
        dosing_session_id=d,
        offset_minutes=H24,
        field="nausea",
        value="1",
    ),
    "symptom_report_submitted": lambda p, d: call(
        symptoms.submit_report,
        p[0],
        dosing_session_id=d,
        offset_minutes=H24,
        submission_id="outsider-0001",
        answers=CALM,
    ),
}


@pytest.mark.parametrize("purpose", list(CLIENT_CALLS))
@pytest.mark.parametrize("who", STAFF_AND_OUTSIDERS)
def test_only_the_client_reaches_her_own_report(engine, personas, dosing_id, purpose, who):
    before = _last_event(engine)
    actor = personas.actor(who)
    with at(25), pytest.raises(AccessDenied):
        CLIENT_CALLS[purpose]((actor,), dosing_id)
    [event] = _new_events(engine, before)
    assert (event.action, event.outcome, event.actor_id, event.target) == (
        "access_denied",
        "denied",
        actor.user_id,
        purpose,
    )
    assert event.subject_client_id is None  # nothing about Ada is echoed to an outsider
    assert count(engine, SymptomReport) == 0


@pytest.mark.parametrize("purpose", list(CLIENT_CALLS))
@pytest.mark.parametrize("raw", [0, -1, 2**31, "1; DROP TABLE user", None, 1.5, [1]])
def test_hostile_session_ids_are_not_found(engine, personas, dosing_id, purpose, raw):
    with at(25), pytest.raises(NotFound):
        CLIENT_CALLS[purpose]((personas.actor("client"),), raw)


def test_the_client_reaches_her_own_report(personas, dosing_id):
    with at(25):
        for fn in CLIENT_CALLS.values():
            fn((personas.actor("client"),), dosing_id)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("client", False),
        ("clinician", True),
        ("other_clinician", False),
        ("other_client", False),
        ("admin", True),
        ("foreign_admin", False),
    ],
)
def test_the_care_team_reads_the_reports(engine, personas, dosing_id, who, allowed):
    with at(25):
        submit(personas, dosing_id, answers=CALM)
    before = _last_event(engine)
    actor = personas.actor(who)
    if allowed:
        rows = call(symptoms.list_reports, actor, client_id=personas.client.id)
        assert len(rows) == 1
        [event] = _new_events(engine, before)
        assert (event.action, event.actor_id, event.subject_client_id) == (
            "symptom_reports_viewed",
            actor.user_id,
            personas.client.id,
        )
        return
    with pytest.raises(AccessDenied):
        call(symptoms.list_reports, actor, client_id=personas.client.id)
    [event] = _new_events(engine, before)
    assert (event.action, event.target) == ("access_denied", "symptom_reports_viewed")


@pytest.mark.parametrize("who", ["clinician", "admin", "foreign_admin"])
def test_support_is_for_clients_only(engine, personas, who):
    before = _last_event(engine)
    with pytest.raises(AccessDenied):
        call(safety_rules.get_support, personas.actor(who))
    [event] = _new_events(engine, before)
    assert (event.action, event.target) == ("access_denied", "support_viewed")


@pytest.mark.parametrize(
    ("fn", "kwargs", "purpose", "denied"),
    [
        (safety_rules.get_safety_rules, {}, "safety_rules_viewed", ["client", "other_client"]),
        (
            safety_rules.update_safety_rule,
            {"code": "craving", "tier": "emergency"},
            "safety_rule_changed",
            ["client", "clinician", "other_clinician", "other_client"],
        ),
        (
            safety_rules.update_crisis_numbers,
            {"emergency_number": "1", "crisis_line_name": "", "crisis_line_number": ""},
            "crisis_numbers_changed",
            ["client", "clinician", "other_clinician", "other_client"],
        ),
    ],
)
def test_only_staff_read_rules_and_only_admins_change_them(
    engine, personas, fn, kwargs, purpose, denied
):
    for who in denied:
        before = _last_event(engine)
        with pytest.raises(AccessDenied):
            call(fn, personas.actor(who), **kwargs)
        [event] = _new_events(engine, before)
        assert (event.action, event.actor_id, event.target) == (
            "access_denied",
            personas.actor(who).user_id,
            purpose,
        )
    with db.session_scope(engine) as s:
        clinic = s.get(Clinic, personas.client.clinic_id)
        assert clinic.emergency_number == "911"
    assert audit_events(engine, "safety_rule_changed") == []


def test_the_dosing_row_is_untouched_by_reports(engine, personas, dosing_id):
    with at(25):
        submit(personas, dosing_id, answers=CALM | {"craving": 1})
    with db.session_scope(engine) as s:
        assert s.get(DosingSession, dosing_id).status == "completed"
    [alert] = alerts_of(engine)
    assert alert.status == AlertStatus.OPEN and alerts.BLOCKING.count(alert.severity) == 1


# --- Page handlers: every one guarded, and thin over the services ------------------------------


def _page_state(cls, cookie: str = "", query: dict | None = None):
    from reflex.istate.data import RouterData
    from reflex.state import State

    import kapjourney.kapjourney  # noqa: F401  (registers every page and state)

    root = State()
    root.router = RouterData.from_router_data(
        {
            "headers": {"cookie": cookie} if cookie else {},
            "ip": "10.0.0.9",
            "pathname": "/report",
            "query": query or {},
        }
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _cookie(engine, user) -> str:
    from kapjourney.auth import sessions

    with db.session_scope(engine) as s:
        return f"kj_session={sessions.create_session(s, user=s.get(type(user), user.id))}"


def _redirect_path(spec) -> str | None:
    spec = spec[0] if isinstance(spec, list) else spec
    args = {k._js_expr: getattr(v, "_var_value", None) for k, v in spec.args}
    return args.get("path")


def _report_state(engine, personas, dosing, who="client", offset="1440"):
    from kapjourney.ui.pages.symptoms.state import SymptomReportState

    cookie = _cookie(engine, getattr(personas, who)) if who else ""
    query = {"dosing_session_id": str(dosing), "offset_minutes": offset}
    return _page_state(SymptomReportState, cookie, query)


def _run(coro):
    from tests.conftest import run_async

    return run_async(coro)


def _handlers():
    from kapjourney.ui.pages.safety_rules import SafetyRulesState
    from kapjourney.ui.pages.support import SupportState
    from kapjourney.ui.pages.symptoms.state import SymptomReportState

    return {
        "report.load": (SymptomReportState, ("client",), lambda s: s.load()),
        "report.choose": (SymptomReportState, ("client",), lambda s: s.choose("nausea", "1")),
        "report.write": (SymptomReportState, ("client",), lambda s: s.write("pulse", "80")),
        "report.submit": (SymptomReportState, ("client",), lambda s: s.submit()),
        "support.load": (SupportState, ("client",), lambda s: s.load()),
        "rules.load": (SafetyRulesState, ("clinician", "admin"), lambda s: s.load()),
        "rules.save_rule": (
            SafetyRulesState,
            ("admin",),
            lambda s: s.save_rule({"code": "craving", "tier": "emergency"}),
        ),
        "rules.save_numbers": (
            SafetyRulesState,
            ("admin",),
            lambda s: s.save_numbers({"emergency_number": "112"}),
        ),
    }


HANDLER_NAMES = [
    "report.load",
    "report.choose",
    "report.write",
    "report.submit",
    "support.load",
    "rules.load",
    "rules.save_rule",
    "rules.save_numbers",
]


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_a_signed_out_call_goes_to_sign_in(engine, personas, name):
    cls, _, run = _handlers()[name]
    assert _redirect_path(_run(run(_page_state(cls)))) == "/signin"


@pytest.mark.parametrize("name", HANDLER_NAMES)
@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_a_handler_for_another_role_sends_home_and_is_audited(engine, personas, name, who):
    cls, roles, run = _handlers()[name]
    if who in roles:
        return
    before = _last_event(engine)
    result = _run(run(_page_state(cls, _cookie(engine, getattr(personas, who)))))
    assert _redirect_path(result) == ("/today" if who == "client" else "/clinician")
    denied = [e for e in _new_events(engine, before) if e.action == "access_denied"]
    assert [(e.actor_id, e.outcome) for e in denied] == [(getattr(personas, who).id, "denied")]
    assert count(engine, SymptomReport) == 0


def test_another_client_opening_adas_report_sees_not_found(engine, personas, dosing_id):
    before = _last_event(engine)
    with at(25):
        state = _report_state(engine, personas, dosing_id, who="other_client")
        _run(state.load())
        _run(state.choose("nausea", "1"))
    assert state.missing and state.items == []
    denied = [e for e in _new_events(engine, before) if e.action == "access_denied"]
    assert {e.target for e in denied} == {"symptom_report_viewed"}  # choose had nothing to save
    assert count(engine, SymptomReport) == 0


@pytest.mark.parametrize("query", [("abc", "1440"), ("1", "<script>"), ("-1", "1440"), ("", "")])
def test_a_malformed_report_address_shows_not_found(engine, personas, dosing_id, query):
    from kapjourney.ui.pages.symptoms.state import SymptomReportState

    with at(25):
        state = _page_state(
            SymptomReportState,
            _cookie(engine, personas.client),
            {"dosing_session_id": query[0], "offset_minutes": query[1]},
        )
        _run(state.load())
    assert state.loaded and state.missing


def test_the_report_page_saves_checks_and_sends_to_support(engine, personas, dosing_id):
    with at(25):
        state = _report_state(engine, personas, dosing_id)
        _run(state.load())
        assert state.title == "24 hours after session 1" and len(state.items) == len(CALM)
        _run(state.write("systolic", "<script>alert(1)</script>"))
        assert state.problems["systolic"] == "Enter the upper number as a number, like 120."
        _run(state.write("note", "x" * 1_000_000))
        assert state.problems["note"].startswith("Please keep your note to 2,000 characters")
        _run(state.write("bogus", "1"))
        _run(state.choose("not_an_item", "1"))
        _run(state.choose("nausea", "9"))
        assert state.problems["nausea"] == "Choose one of the answers."
        _run(state.submit())  # a reading on screen that was not saved holds the report back
        assert state.form_error.startswith("Please fix the field marked below")
        _run(state.write("systolic", ""))
        _run(state.write("note", "Foggy <b>still</b>"))
        assert state.problems["systolic"] == state.problems["note"] == ""
        _run(state.submit())
        assert state.problems["headache"].startswith("Please choose an answer")
        assert state.form_error == "Please check the answers marked below."
        for key in CALM:
            _run(state.choose(key, "1" if key == "detached" else "0"))
        assert state.alert_tier == "urgent" and state.answered == len(CALM)
        result = _run(state.submit())
    assert _redirect_path(result) == "/support"
    assert report_row(engine).triage == "urgent"


def test_a_double_tap_on_send_sends_once(engine, personas, dosing_id):
    with at(25):
        state = _report_state(engine, personas, dosing_id)
        _run(state.load())
        for key in CALM:
            _run(state.choose(key, "2" if key == "nausea" else "0"))
        _run(state.submit())
        assert state.submitted and state.result_tier == "routine"
        _run(state.submit())
    assert count(engine, SubmissionReceipt) == 1 and len(alerts_of(engine)) == 1


def test_the_support_page_shows_what_the_service_says(engine, personas, dosing_id):
    from kapjourney.ui.pages.support import SupportState

    with at(25):
        submit(personas, dosing_id, answers=CALM | {"chest_pain": 1})
        state = _page_state(SupportState, _cookie(engine, personas.client))
        _run(state.load())
    assert (state.tier, state.emergency_href, state.line_href, state.line_sms) == (
        "emergency",
        "tel:911",
        "tel:988",
        "sms:988",
    )


def test_the_rules_page_lets_a_clinician_read_and_an_admin_save(engine, personas):
    from kapjourney.ui.pages.safety_rules import SafetyRulesState

    reader = _page_state(SafetyRulesState, _cookie(engine, personas.clinician))
    _run(reader.load())
    assert reader.loaded and not reader.can_edit and len(reader.rules) == len(RULES)
    admin = _page_state(SafetyRulesState, _cookie(engine, personas.admin))
    _run(admin.load())
    _run(admin.save_rule({"code": "pulse_high", "tier": "urgent", "threshold": "9999"}))
    card = next(r for r in admin.rules if r.code == "pulse_high")
    assert card.e_threshold == "Enter a number from 90 to 180."
    _run(admin.save_rule({"code": "pulse_high", "tier": "urgent", "threshold": "110"}))
    card = next(r for r in admin.rules if r.code == "pulse_high")
    assert (card.threshold, card.changed, card.e_threshold) == ("110", True, "")
    _run(admin.save_numbers({"emergency_number": "<b>", "crisis_line_name": "", "x": 1}))
    assert admin.numbers_errors["emergency_number"].startswith("Use digits")
    _run(admin.save_rule("not a dict"))
