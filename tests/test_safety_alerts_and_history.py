"""One alert per source record (raised up, never down), the pre-dose blood-pressure alert, and
the demo history the seed writes (check-ins, questionnaires, reports with their alerts)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import as_utc
from kapjourney.domain.enums import AlertSeverity, AlertStatus
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ClientSummary,
    ClinicSafetyRule,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.domain.safety import Facts
from kapjourney.services import checklists, inbox, safety
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, item_ids, schedule


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(BASE, tick=False) as traveller:
        yield traveller


def _apply(client_id: int, facts: Facts, source_id: int = 1):
    with unit_of_work() as s:
        client = s.get(User, client_id)
        triage, alert = safety.apply(
            s, client=client, facts=facts, source_kind="symptom_report", source_id=source_id
        )
        return triage, (alert.id if alert else None)


def _alerts(client_id: int) -> list[Alert]:
    with unit_of_work() as s:
        return list(s.exec(select(Alert).where(Alert.client_id == client_id)).all())


def test_a_report_below_every_rule_raises_nothing(engine, personas):
    triage, alert_id = _apply(personas.client.id, Facts("symptoms", {"nausea": 1}))
    assert triage.tier is None and alert_id is None
    assert _alerts(personas.client.id) == []


def test_later_saves_raise_the_same_alert_up_and_add_rules_never_down(engine, personas):
    cid = personas.client.id
    _, first = _apply(cid, Facts("symptoms", {"nausea": 2}))
    _, same = _apply(cid, Facts("symptoms", {"nausea": 2, "urinary": 1}))
    _, again = _apply(cid, Facts("symptoms", {"nausea": 2, "urinary": 1, "chest_pain": 1}))
    _, calmer = _apply(cid, Facts("symptoms", {"nausea": 1}))
    assert first == same == again and calmer is None  # nothing met now; the alert stays
    (alert,) = _alerts(cid)
    assert alert.severity == AlertSeverity.EMERGENCY
    assert alert.reason_code == "chest_pain"
    assert json.loads(alert.rules) == ["symptom_moderate", "urinary_symptoms", "chest_pain"]


def test_a_resolved_alert_reopens_when_its_record_meets_a_graver_rule(engine, personas):
    cid = personas.client.id
    _, alert_id = _apply(cid, Facts("symptoms", {"nausea": 2}))
    with unit_of_work() as s:
        inbox.resolve(
            session=s,
            actor=personas.actor("clinician"),
            alert_id=alert_id,
            note="Called her.",
            outcome="contacted_client",
        )
    _apply(cid, Facts("symptoms", {"nausea": 2, "craving": 1}))
    (alert,) = _alerts(cid)
    assert alert.status == AlertStatus.OPEN and alert.severity == AlertSeverity.URGENT


def test_different_records_get_their_own_alerts(engine, personas):
    cid = personas.client.id
    _apply(cid, Facts("symptoms", {"urinary": 1}), source_id=1)
    _apply(cid, Facts("symptoms", {"urinary": 1}), source_id=2)
    assert len(_alerts(cid)) == 2


def test_a_clinic_raised_tier_applies_and_a_lowered_one_is_ignored(engine, personas):
    with unit_of_work() as s:
        s.add(
            ClinicSafetyRule(clinic_id=personas.client.clinic_id, code="craving", tier="emergency")
        )
        s.add(
            ClinicSafetyRule(clinic_id=personas.client.clinic_id, code="chest_pain", tier="routine")
        )
    triage, _ = _apply(personas.client.id, Facts("symptoms", {"craving": 1}), source_id=1)
    assert triage.tier == AlertSeverity.EMERGENCY
    triage, _ = _apply(personas.client.id, Facts("symptoms", {"chest_pain": 1}), source_id=2)
    assert triage.tier == AlertSeverity.EMERGENCY


def _tick_vitals(personas, dosing_id: int, systolic: str, diastolic: str, pulse: str):
    with unit_of_work() as s:
        return checklists.complete_item(
            session=s,
            actor=personas.actor("client"),
            item_id=item_ids(dosing_id)["vitals"],
            values={"systolic": systolic, "diastolic": diastolic, "pulse": pulse},
        )


@pytest.mark.parametrize(
    ("reading", "tier"),
    [
        (("179", "109", "80"), None),
        (("180", "90", "80"), AlertSeverity.URGENT),
        (("150", "110", "80"), AlertSeverity.URGENT),
        (("130", "85", "121"), AlertSeverity.URGENT),
        (("130", "85", "120"), None),
    ],
)
def test_a_very_high_pre_dose_reading_alerts_the_care_team(engine, personas, reading, tier):
    dosing_id = schedule(personas.actor("clinician"), personas.client.id, days_ahead=1)
    view = _tick_vitals(personas, dosing_id, *reading)
    found = _alerts(personas.client.id)
    if tier is None:
        assert found == []
    else:
        (alert,) = found
        assert alert.severity == tier and alert.source_kind == "checklist_item"
        assert view.readiness.level == "red"


# --- The demo history ------------------------------------------------------------------------

LA = ZoneInfo("America/Los_Angeles")
SEED_AT = datetime(2026, 11, 10, 20, 0, tzinfo=LA)


@pytest.fixture
def seeded(engine, monkeypatch):
    from kapjourney.auth import passwords
    from kapjourney.seed import seed_demo

    monkeypatch.setattr(passwords, "hash_password", lambda pw: "x")
    with time_machine.travel(SEED_AT, tick=False), db.session_scope(engine) as s:
        seed_demo(s)


def _by_email(s, email: str) -> User:
    return s.exec(select(User).where(User.email == email)).one()


def test_the_demo_has_weeks_of_check_ins_but_none_today(engine, seeded):
    today = SEED_AT.date()
    with unit_of_work() as s:
        rows = s.exec(select(CheckIn)).all()
        per_client = {c: [r for r in rows if r.client_id == c] for c in {r.client_id for r in rows}}
        assert len(per_client) == 5
        assert max(len(v) for v in per_client.values()) >= 30
        assert all(r.local_date < today for r in rows)
        assert all(1 <= r.mood <= 5 and 1 <= r.anxiety <= 5 and 1 <= r.sleep <= 5 for r in rows)
        assert any(r.late for r in rows) and not all(r.late for r in rows)
        assert len({(r.client_id, r.local_date) for r in rows}) == len(rows)


def test_the_demo_alerts_come_from_the_safety_rules(engine, seeded):
    with unit_of_work() as s:
        by_rule = {(a.reason_code, a.status) for a in s.exec(select(Alert)).all()}
        reports = s.exec(select(SymptomReport)).all()
        assert ("dissociation_persistent", "resolved") in by_rule
        assert ("urinary_symptoms", "resolved") in by_rule
        assert ("symptom_moderate", "open") in by_rule
        assert ("phq9_item9", "open") in by_rule
        assert {r.triage for r in reports} >= {"none", "routine", "urgent"}
        weekly = s.exec(
            select(QuestionnaireResponse).where(QuestionnaireResponse.purpose == "weekly")
        ).all()
        dana = _by_email(s, "dana@riverbend.example")
        scores = [
            r.score
            for r in sorted(weekly, key=lambda r: r.submitted_at)
            if r.client_id == dana.id and r.instrument == "phq9"
        ]
        assert len(scores) >= 4 and scores[-1] < scores[0]


def test_no_demo_client_with_a_session_ahead_is_held_by_an_urgent_alert_except_chris(
    engine, seeded
):
    with unit_of_work() as s:
        held = {
            s.get(User, a.client_id).email
            for a in s.exec(select(Alert)).all()
            if a.status != AlertStatus.RESOLVED and a.severity != AlertSeverity.ROUTINE
        }
        eli = _by_email(s, "eli@riverbend.example")
        summary = s.get(ClientSummary, eli.id)
    # Eli's escalated alert (seed_alerts) holds no session: his course has none ahead.
    assert held == {"chris@riverbend.example", "eli@riverbend.example"}
    assert summary.next_session_id is None


def test_seed_dates_are_local_days(engine, seeded):
    with unit_of_work() as s:
        eli = _by_email(s, "eli@riverbend.example")
        rows = s.exec(select(CheckIn).where(CheckIn.client_id == eli.id)).all()
        for row in rows:
            captured = as_utc(row.captured_at).astimezone(LA).date()
            assert captured in (row.local_date, row.local_date + timedelta(days=1))
            assert row.late == (captured != row.local_date)
    assert isinstance(SEED_AT.date(), date)


def test_an_urgent_alert_holds_the_next_session_until_it_is_resolved(engine, personas):
    from kapjourney.services import plan

    first = schedule(personas.actor("clinician"), personas.client.id, days_ahead=2)
    second = schedule(personas.actor("clinician"), personas.client.id, days_ahead=9)

    def labels():
        with unit_of_work() as s:
            view = plan.get_plan(session=s, actor=personas.actor("client"))
        return {v.dosing_session_id: v.status_label for v in view.sessions}

    assert labels() == {first: "Scheduled", second: "Scheduled"}
    _, alert_id = _apply(personas.client.id, Facts("symptoms", {"urinary": 1}))
    assert labels() == {first: plan.HOLD_LABEL, second: "Scheduled"}
    with unit_of_work() as s:
        inbox.resolve(
            session=s,
            actor=personas.actor("clinician"),
            alert_id=alert_id,
            note="Seen in clinic.",
            outcome="session_held",
        )
    assert labels()[first] == "Scheduled"


# --- Today lists what is due -----------------------------------------------------------------


def _today(personas):
    from kapjourney.services import today

    with unit_of_work() as s:
        return today.get_today(session=s, actor=personas.actor("client"))


def test_today_lists_the_check_in_and_marks_it_done_once_saved(engine, personas, frozen):
    from kapjourney.services import checkins

    todos = {t.key: t for t in _today(personas).todos}
    assert "checkin" in todos and not todos["checkin"].done
    with unit_of_work() as s:
        checkins.submit_checkin(
            session=s,
            actor=personas.actor("client"),
            submission_id="today-test-0001",
            day="today",
            mood=4,
            anxiety=2,
            sleep=3,
        )
    after = _today(personas).todos
    assert after[-1].key == "checkin" and after[-1].done


def test_today_puts_a_due_follow_up_report_before_the_check_in(engine, personas, frozen):
    from kapjourney.services import plan

    dosing_id = schedule(personas.actor("clinician"), personas.client.id, days_ahead=1)
    frozen.shift(timedelta(days=1, hours=3))
    with unit_of_work() as s:
        plan.complete_session(
            session=s, actor=personas.actor("clinician"), dosing_session_id=dosing_id
        )
    keys = [t.key for t in _today(personas).todos]
    assert f"report-{dosing_id}-120" in keys
    assert keys.index(f"report-{dosing_id}-120") < keys.index("checkin")


def test_every_icon_today_can_show_is_one_the_page_draws(engine, seeded):
    from kapjourney.clock import now
    from kapjourney.services import today
    from kapjourney.ui.pages.today import _TODO_ICONS

    icons = set()
    with unit_of_work() as s:
        for client in s.exec(select(User).where(User.role == "client")).all():
            icons |= {t.icon for t in today._todos(s, client, now())}
    assert icons and icons <= set(_TODO_ICONS)


def test_weekly_questionnaires_after_review_leave_screening_reviewed(engine, seeded):
    from kapjourney.domain.schemas import Actor
    from kapjourney.services import screening

    with unit_of_work() as s:
        for email in ("alex@riverbend.example", "dana@riverbend.example"):
            client = _by_email(s, email)
            complete, reviewed, _ = screening.screening_status(s, client)
            assert (complete, reviewed) == (True, True), email
        alex = Actor.from_user(_by_email(s, "alex@riverbend.example"))
    from kapjourney.services import today

    with time_machine.travel(SEED_AT + timedelta(minutes=5), tick=False), unit_of_work() as s:
        level = today.get_today(session=s, actor=alex).next_session.readiness.level
    assert level == "amber"
