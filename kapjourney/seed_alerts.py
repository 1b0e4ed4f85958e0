"""The demo's alerts, in every state the alert inbox and the caseload dashboard show.

Each alert is raised by the clinic's safety rules from the report that causes it
(``services.safety.apply``) and dated when that report came in; what the care team did with it
follows the story below. Together, for the demo clinicians:

* open and unacknowledged: Chris's screening PHQ-9 (item 9), raised as the demo starts (see
  ``seed._baseline``), so it is still within the clinic's escalation minutes;
* escalated: Eli's PHQ-9 of this week, sent 40 minutes before the seed runs, answers item 9;
  nobody acknowledged it, so the seed escalates it exactly as the worker's next tick would
  (``services.inbox.escalate_due``): marked once, pushed to every clinician and admin, audited;
* acknowledged: Farah's moderate dizziness after her last session, seen by Dr. Maya Chen the
  next morning, to be discussed with her;
* open routine: Dana's moderate nausea after session 4, waiting for Sam's review;
* resolved with an outcome and a note: Eli's dissociation the day after session 5, and Farah's
  urinary symptoms after session 4.

No client with a session ahead is held by an urgent alert except Chris (the readiness demo
relies on it: Alex amber, Dana green).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from kapjourney.clock import as_utc
from kapjourney.domain.enums import AlertStatus
from kapjourney.domain.instruments import INSTRUMENTS, score
from kapjourney.domain.models import (
    Alert,
    ClinicianAssignment,
    DosingSession,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.domain.protocol import DEFAULT_FOLLOWUP_MINUTES
from kapjourney.domain.safety import SYMPTOM_ITEMS, Facts, evaluate, grades
from kapjourney.services import safety


@dataclass(frozen=True)
class Handled:
    """What the care team did with a report's alert, counted from when the report came in."""

    status: str  # open | acknowledged | resolved
    acknowledged_after: timedelta | None = None
    resolved_after: timedelta | None = None
    outcome: str = ""  # a code of services.inbox.OUTCOMES
    note: str = ""


OPEN = Handled(AlertStatus.OPEN)

# Post-session reports the demo shows: (client, session number, offset in minutes) -> (answers
# beyond "none", blood pressure and pulse, what became of its alert). Ordinary reports (no alert)
# are sent for every session at 2 h and 24 h; the later follow-ups only where listed here.
REPORTS = {
    ("eli@riverbend.example", 5, 1440): (
        {"detached": 1, "nausea": 1},
        None,
        Handled(
            AlertStatus.RESOLVED,
            timedelta(minutes=12),
            timedelta(hours=3),
            "contacted_client",
            "Called Eli: the detached feeling was fading; settled by the evening. Plan noted.",
        ),
    ),
    ("farah@riverbend.example", 4, 4320): (
        {"urinary": 2},
        None,
        Handled(
            AlertStatus.RESOLVED,
            timedelta(minutes=25),
            timedelta(hours=5),
            "referred",
            "Referred to her GP for a urine test the same day; dose kept under review.",
        ),
    ),
    ("farah@riverbend.example", 6, 120): (
        {"dizziness": 2, "headache": 1},
        (150, 92, 84),
        Handled(AlertStatus.ACKNOWLEDGED, timedelta(hours=19)),
    ),
    ("dana@riverbend.example", 4, 120): ({"nausea": 2, "dizziness": 1}, (138, 88, 80), OPEN),
    ("dana@riverbend.example", 3, 1440): ({"headache": 1}, None, None),
    ("alex@riverbend.example", 2, 120): ({"nausea": 1, "blurred_vision": 1}, (132, 84, 76), None),
    ("alex@riverbend.example", 1, 1440): ({"low_mood": 1}, None, None),
}

# This week's PHQ-9 of a client in integration: item 9 answered "several days" (total 9, mild).
FRESH = "eli@riverbend.example"
# Items q1..q10 (q10, how difficult: unscored).
FRESH_PHQ9 = dict(zip([f"q{n}" for n in range(1, 11)], (1, 2, 1, 2, 0, 1, 1, 0, 1, 1), strict=True))
FRESH_AGO = timedelta(minutes=40)


def clinician_of(session: Session, client: User) -> int | None:
    return session.exec(
        select(ClinicianAssignment.clinician_id).where(ClinicianAssignment.client_id == client.id)
    ).first()


def seed_reports(session: Session, client: User, email: str, done: list[DosingSession]) -> None:
    """The client's post-session reports, each triaged by the clinic's rules as the app does;
    an alert is dated when its report came in and handled as ``REPORTS`` says."""
    clinician_id = clinician_of(session, client)
    for dosing in done:
        for offset in DEFAULT_FOLLOWUP_MINUTES:
            story = REPORTS.get((email, dosing.number, offset))
            if story is None and offset > 1440:
                continue  # the later follow-ups are often skipped
            present, vitals, handled = story or ({}, None, None)
            answers = {key: 0 for key, _ in SYMPTOM_ITEMS} | present
            dosed = as_utc(dosing.scheduled_at)
            submitted = dosed + timedelta(minutes=offset + 40)
            systolic, diastolic, pulse = vitals or (None, None, None)
            graded = grades(answers)
            facts = Facts(
                "symptoms",
                answers,
                hours_after_dosing=(submitted - dosed).total_seconds() / 3600,
                systolic=systolic,
                diastolic=diastolic,
                pulse=pulse,
            )
            triage = evaluate(facts, safety.rules_for(session, client.clinic_id))
            report = SymptomReport(
                client_id=client.id or 0,
                clinic_id=client.clinic_id,
                dosing_session_id=dosing.id or 0,
                offset_minutes=offset,
                due_at=dosed + timedelta(minutes=offset),
                status="submitted",
                answers=json.dumps(answers),
                systolic=systolic,
                diastolic=diastolic,
                pulse=pulse,
                max_grade=max(graded.values()),
                grades=json.dumps(graded),
                triage=str(triage.tier or "none"),
                captured_at=submitted,
                submitted_at=submitted,
                updated_at=submitted,
            )
            session.add(report)
            session.flush()
            _, alert = safety.apply(
                session,
                client=client,
                facts=facts,
                source_kind="symptom_report",
                source_id=report.id or 0,
            )
            if alert is not None:
                _handle(session, alert, handled or OPEN, submitted, clinician_id)


def _handle(session, alert: Alert, handled: Handled, at: datetime, clinician_id) -> None:
    alert.created_at = at  # raised when the report came in
    alert.status = handled.status
    if handled.acknowledged_after is not None:
        alert.acknowledged_at = at + handled.acknowledged_after
        alert.acknowledged_by_id = clinician_id
    if handled.resolved_after is not None:
        alert.resolved_at = at + handled.resolved_after
        alert.resolved_by_id = clinician_id
        alert.outcome = handled.outcome
        alert.resolution_note = handled.note
    session.add(alert)


def seed_fresh_alert(session: Session, at: datetime) -> Alert | None:
    """Eli's PHQ-9 of this week, sent ``FRESH_AGO`` before ``at``: its item 9 raises an urgent
    alert that nobody has acknowledged yet."""
    client = session.exec(select(User).where(User.email == FRESH)).one()
    form = INSTRUMENTS["phq9"]
    answers = FRESH_PHQ9
    result = score(form, answers)
    sent = at - FRESH_AGO
    response = QuestionnaireResponse(
        client_id=client.id or 0,
        clinic_id=client.clinic_id,
        instrument=form.key,
        instrument_version=form.version,
        purpose="weekly",
        status="submitted",
        answers=json.dumps(answers),
        score=result.total,
        band=result.band,
        flags=json.dumps(list(result.flags)),
        started_at=sent - timedelta(minutes=4),
        updated_at=sent,
        submitted_at=sent,
    )
    session.add(response)
    session.flush()
    _, alert = safety.apply(
        session,
        client=client,
        facts=Facts(form.key, answers),
        source_kind="questionnaire",
        source_id=response.id or 0,
    )
    if alert is not None:
        alert.created_at = sent
        session.add(alert)
    session.flush()
    return alert
