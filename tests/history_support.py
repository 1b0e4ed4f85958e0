"""A client's records of every kind, at known instants, for the history timeline's tests."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from kapjourney.domain.enums import DosingRoute, DosingSetting, DosingStatus, ValueKind
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    ChecklistItem,
    ConsentSignature,
    ConsentWithdrawal,
    Course,
    DosingSession,
    ExerciseAssignment,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.services.consent import current_document

HOSTILE = '<script>window.kjPwned=1</script><img src=x onerror="alert(1)"> & <b>bold</b>'
LONG = "word " * 400  # 2,000 characters: clipped to the detail limit
# Frozen "now" for these tests: Sunday 20 January 2030, 10:00 in New York.
NOW = datetime(2030, 1, 20, 15, 0, tzinfo=UTC)
DOSED = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # session 1: Tue 8 Jan, 10:00 in New York
CHECKIN_AT = datetime(2030, 1, 5, 0, 5, tzinfo=UTC)  # Fri 4 Jan 19:05 NY; Sat 5 Jan 09:05 Tokyo


def dosing_session(s: Session, client: User, course: Course, number: int, at: datetime, **kw):
    row = DosingSession(
        course_id=course.id,
        client_id=client.id,
        number=number,
        scheduled_at=at,
        route=DosingRoute.SUBLINGUAL_LOZENGE,
        setting=DosingSetting.IN_CLINIC,
        **kw,
    )
    s.add(row)
    s.flush()
    return row


def response(client: User, instrument: str, at: datetime, **kw) -> QuestionnaireResponse:
    """A submitted questionnaire response (purpose "weekly" unless given)."""
    kw.setdefault("purpose", "weekly")
    return QuestionnaireResponse(
        client_id=client.id,
        clinic_id=client.clinic_id,
        instrument=instrument,
        instrument_version="1",
        status="submitted",
        submitted_at=at,
        **kw,
    )


def _checkin(client: User, day: date, at: datetime, **kw) -> CheckIn:
    values = {"mood": 4, "anxiety": 2, "sleep": 3, "energy": None} | kw
    return CheckIn(
        client_id=client.id,
        clinic_id=client.clinic_id,
        local_date=day,
        status="submitted",
        submitted_at=at,
        **values,
    )


def record_everything(s: Session, client: User, staff: User) -> None:
    """One or more records of each kind the timeline shows, plus drafts it must not show."""
    course = s.exec(select(Course).where(Course.client_id == client.id)).one()
    one = dosing_session(s, client, course, 1, DOSED, status=DosingStatus.COMPLETED)
    dosing_session(
        s,
        client,
        course,
        2,
        DOSED + timedelta(days=7),
        status=DosingStatus.CANCELLED,
        cancel_reason="Client unwell " + HOSTILE,
        updated_at=DOSED + timedelta(days=5),  # cancelled two days before
    )
    dosing_session(s, client, course, 3, NOW - timedelta(days=1))  # held? not marked done yet
    dosing_session(s, client, course, 4, NOW + timedelta(days=3))  # ahead: not history yet
    s.add_all(
        [
            _checkin(client, date(2030, 1, 4), CHECKIN_AT, note=HOSTILE, energy=5),
            _checkin(client, date(2030, 1, 5), CHECKIN_AT + timedelta(days=1, hours=10), late=True),
            _checkin(client, date(2030, 1, 6), CHECKIN_AT + timedelta(days=2), mood=1, note=LONG),
            CheckIn(  # a draft: not part of the record
                client_id=client.id, clinic_id=client.clinic_id, local_date=date(2030, 1, 19)
            ),
            response(client, "phq9", DOSED - timedelta(days=2), score=7, band="Mild"),
            response(client, "intake", DOSED - timedelta(days=6), flags='["pregnancy"]'),
        ]
    )
    s.add(
        SymptomReport(
            client_id=client.id,
            clinic_id=client.clinic_id,
            dosing_session_id=one.id,
            offset_minutes=120,
            due_at=DOSED + timedelta(hours=2),
            status="submitted",
            systolic=182,
            diastolic=112,
            pulse=96,
            note=HOSTILE,
            max_grade=3,
            grades=json.dumps({"nausea": 1, "headache": 3, "dizziness": 0}),
            triage="urgent",
            submitted_at=DOSED + timedelta(hours=2, minutes=10),
        )
    )
    document = current_document(s, client.clinic_id)
    signature = ConsentSignature(
        client_id=client.id,
        clinic_id=client.clinic_id,
        document_id=document.id,
        document_version=document.version,
        document_sha256=document.sha256,
        signed_name=HOSTILE,
        signed_at=DOSED - timedelta(days=7),
    )
    s.add(signature)
    s.flush()
    s.add(
        ConsentWithdrawal(
            signature_id=signature.id,
            client_id=client.id,
            recorded_by_id=staff.id,
            reason="Wants to pause",
            withdrawn_at=DOSED + timedelta(days=9),
        )
    )
    steps = [
        ("fast", "Nothing to eat for 4 hours", ValueKind.NONE, "", 4),
        (
            "bp",
            "Blood pressure",
            ValueKind.BLOOD_PRESSURE,
            '{"systolic": "128", "diastolic": "82", "pulse": "71"}',
            1,
        ),
        ("chaperone", "Chaperone", ValueKind.CHAPERONE, '{"name": "Cara", "phone": "555"}', 24),
        ("intention", "Intention", ValueKind.TEXT, json.dumps({"text": HOSTILE}), 30),
        ("ride", "A ride home", ValueKind.NONE, "", None),  # not done yet
    ]
    for key, label, kind, value, hours in steps:
        s.add(
            ChecklistItem(
                dosing_session_id=one.id,
                client_id=client.id,
                key=key,
                label=label,
                due_at=DOSED,
                value_kind=kind,
                value=value,
                done_at=DOSED - timedelta(hours=hours) if hours else None,
            )
        )
    for exercise, status, done in (("journal", "completed", 2), ("values", "assigned", None)):
        s.add(
            ExerciseAssignment(
                client_id=client.id,
                clinic_id=client.clinic_id,
                dosing_session_id=one.id,
                exercise=exercise,
                due_date=date(2030, 1, 12),
                status=status,
                response=HOSTILE if done else "a draft",
                assigned_by_id=staff.id,
                completed_at=DOSED + timedelta(days=done) if done else None,
            )
        )
    raised = DOSED + timedelta(hours=2, minutes=10)
    s.add(
        Alert(
            clinic_id=client.clinic_id,
            client_id=client.id,
            severity="urgent",
            status="resolved",
            reason_code="severe_grade",
            source_kind="symptom_report",
            source_id=1,
            created_at=raised,
            escalated_at=raised + timedelta(minutes=15),
            acknowledged_at=raised + timedelta(minutes=20),
            acknowledged_by_id=staff.id,
            resolved_at=raised + timedelta(hours=3),
            resolved_by_id=staff.id,
            outcome="contacted_client",
            resolution_note=HOSTILE,
        )
    )
    s.flush()


def record_a_year(s: Session, client: User, days: int = 365) -> int:
    """About a year of daily history (check-ins on most days, weekly PHQ-9 and GAD-7, six
    sessions with their reports); the number of records written."""
    rng = random.Random(7)  # repeatable test data
    course = s.exec(select(Course).where(Course.client_id == client.id)).one()
    start = NOW - timedelta(days=days)
    rows: list = []
    for n in range(days):
        at = start + timedelta(days=n, hours=rng.randint(0, 6))
        if rng.random() < 0.9:
            day = at.date()
            rows.append(_checkin(client, day, at, mood=rng.randint(1, 5), note="note " * 20))
        if n % 7 == 0:
            for form, score in (("phq9", rng.randint(0, 27)), ("gad7", rng.randint(0, 21))):
                rows.append(response(client, form, at + timedelta(hours=1), score=score))
    s.add_all(rows)
    for number in range(1, 7):
        dosing = dosing_session(
            s,
            client,
            course,
            number,
            start + timedelta(days=30 * number),
            status=DosingStatus.COMPLETED,
        )
        for offset in (120, 1440, 4320, 10080):
            s.add(
                SymptomReport(
                    client_id=client.id,
                    clinic_id=client.clinic_id,
                    dosing_session_id=dosing.id,
                    offset_minutes=offset,
                    due_at=dosing.scheduled_at + timedelta(minutes=offset),
                    status="submitted",
                    max_grade=2,
                    grades=json.dumps({"nausea": 2, "headache": 1}),
                    triage="routine",
                    submitted_at=dosing.scheduled_at + timedelta(minutes=offset + 30),
                )
            )
    s.flush()
    return len(rows) + 6 * (1 + 4)  # the sessions and their four reports each
