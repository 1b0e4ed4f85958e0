"""The demo clinic: one clinic, an admin, two clinicians, six clients at different stages.

Deterministic: the same people, courses and passwords every time; session dates are placed
relative to the day the seed runs so "tomorrow's session" is always tomorrow.

The caseload dashboard shows every state it has: clients in each recency tier (Alex, Dana and Eli
checked in within 2 days, Chris within 7, Farah longer ago, Bea never), next sessions with each
readiness light (Dana green, Alex amber, Chris red; Bea, Eli and Farah have none), and alerts
open, escalated, acknowledged and resolved (``seed_alerts``). The summary rows are built last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.auth import passwords
from kapjourney.auth.sessions import hash_token
from kapjourney.clock import as_utc, now
from kapjourney.domain.consent_text import parse
from kapjourney.domain.enums import CourseStatus, DosingRoute, DosingSetting, DosingStatus, Role
from kapjourney.domain.instruments import INSTRUMENTS, score
from kapjourney.domain.models import (
    Clinic,
    ClinicianAssignment,
    ConsentProgress,
    ConsentSignature,
    ConsentWithdrawal,
    Course,
    DosingSession,
    Invite,
    QuestionnaireResponse,
    User,
)
from kapjourney.domain.safety import Facts
from kapjourney.seed_alerts import clinician_of, seed_fresh_alert
from kapjourney.seed_history import seed_history
from kapjourney.services import audit, dashboard, inbox, safety
from kapjourney.services.checklists import items_for, sync_checklist
from kapjourney.services.consent import current_document
from kapjourney.services.protocol import ensure_clinic_defaults

CLINIC_TZ = "America/Los_Angeles"
CLIENT_PASSWORD = "journey-demo-client"  # noqa: S105 - demo data, documented in the README
STAFF_PASSWORD = "journey-demo-staff"  # noqa: S105 - demo data, documented in the README


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    password: str
    note: str


DEMO_LOGINS = [
    DemoLogin(
        "client",
        "Alex Rivera",
        "alex@riverbend.example",
        CLIENT_PASSWORD,
        "mid-course: session 3 of 6 is tomorrow",
    ),
    DemoLogin(
        "clinician",
        "Dr. Maya Chen",
        "maya.chen@riverbend.example",
        STAFF_PASSWORD,
        "cares for Alex, Bea, Chris and Farah; an urgent alert waits in her inbox",
    ),
    DemoLogin(
        "clinician",
        "Sam Okafor, LMFT",
        "sam.okafor@riverbend.example",
        STAFF_PASSWORD,
        "cares for Dana and Eli; Eli's urgent alert has escalated",
    ),
    DemoLogin(
        "admin",
        "Jordan Reyes",
        "jordan.reyes@riverbend.example",
        STAFF_PASSWORD,
        "clinic admin: sees every client",
    ),
]

# name, email, clinician, course status, completed sessions, upcoming (days ahead), route, setting
CLIENTS = [
    (
        "Alex Rivera",
        "alex@riverbend.example",
        "maya",
        CourseStatus.DOSING,
        2,
        [1, 8, 15, 22],
        DosingRoute.SUBLINGUAL_LOZENGE,
        DosingSetting.IN_CLINIC,
    ),
    (
        "Bea Thompson",
        "bea@riverbend.example",
        "maya",
        CourseStatus.SCREENING,
        0,
        [],
        DosingRoute.SUBLINGUAL_LOZENGE,
        DosingSetting.IN_CLINIC,
    ),
    (
        "Chris Nguyen",
        "chris@riverbend.example",
        "maya",
        CourseStatus.PREPARATION,
        0,
        [5, 12],
        DosingRoute.SUBLINGUAL_LOZENGE,
        DosingSetting.AT_HOME,
    ),
    (
        "Dana Kowalski",
        "dana@riverbend.example",
        "sam",
        CourseStatus.DOSING,
        4,
        [3, 10],
        DosingRoute.INTRAVENOUS,
        DosingSetting.IN_CLINIC,
    ),
    (
        "Eli Haddad",
        "eli@riverbend.example",
        "sam",
        CourseStatus.INTEGRATION,
        6,
        [],
        DosingRoute.INTRAMUSCULAR,
        DosingSetting.IN_CLINIC,
    ),
    (
        "Farah Said",
        "farah@riverbend.example",
        "maya",
        CourseStatus.COMPLETED,
        6,
        [],
        DosingRoute.NASAL_SPRAY,
        DosingSetting.IN_CLINIC,
    ),
]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(CLINIC_TZ))


def is_empty(session: Session) -> bool:
    return session.exec(select(Clinic.id)).first() is None


def seed_demo(session: Session) -> list[DemoLogin]:
    """Insert the demo clinic into an empty database and return the demo sign-ins."""
    today = as_utc(now()).astimezone(ZoneInfo(CLINIC_TZ)).date()
    clinic = Clinic(
        name="Riverbend Ketamine Clinic (demo)",
        slug="riverbend",
        timezone=CLINIC_TZ,
        crisis_phone="(555) 010-0199",
    )
    session.add(clinic)
    session.flush()
    client_hash = passwords.hash_password(CLIENT_PASSWORD)
    staff_hash = passwords.hash_password(STAFF_PASSWORD)

    def user(name: str, email: str, role: Role, pw_hash: str | None) -> User:
        row = User(
            clinic_id=clinic.id,
            role=role,
            email=email,
            display_name=name,
            timezone=CLINIC_TZ,
            password_hash=pw_hash,
        )
        session.add(row)
        session.flush()
        return row

    staff = {
        "maya": user("Dr. Maya Chen", "maya.chen@riverbend.example", Role.CLINICIAN, staff_hash),
        "sam": user("Sam Okafor, LMFT", "sam.okafor@riverbend.example", Role.CLINICIAN, staff_hash),
    }
    admin = user("Jordan Reyes", "jordan.reyes@riverbend.example", Role.ADMIN, staff_hash)
    for name, email, who, status, completed, upcoming, route, setting in CLIENTS:
        joined = status != CourseStatus.SCREENING
        client = user(name, email, Role.CLIENT, client_hash if joined else None)
        session.add(ClinicianAssignment(clinician_id=staff[who].id, client_id=client.id))
        start = today - timedelta(days=7 * completed + 14)
        # Issue 6 (dashboard): the account dates from the course start, as its history does, so
        # adherence (counted from the later of the two) covers the seeded check-ins.
        client.created_at = as_utc(_at(start, 9))
        course = Course(
            client_id=client.id,
            clinic_id=clinic.id,
            status=status,
            start_date=start,
            planned_sessions=6,
        )
        session.add(course)
        session.flush()
        number = 0
        for i in range(completed):
            number += 1
            session.add(
                DosingSession(
                    course_id=course.id,
                    client_id=client.id,
                    number=number,
                    scheduled_at=_at(today - timedelta(days=7 * (completed - i)), 10),
                    route=route,
                    setting=setting,
                    status=DosingStatus.COMPLETED,
                )
            )
        for days in upcoming:
            number += 1
            session.add(
                DosingSession(
                    course_id=course.id,
                    client_id=client.id,
                    number=number,
                    scheduled_at=_at(today + timedelta(days=days), 10),
                    route=route,
                    setting=setting,
                    status=DosingStatus.SCHEDULED,
                )
            )
        if not joined:
            # A pending invite whose link nobody knows (only a hash is stored); a clinician can
            # issue a fresh link from the client list.
            session.add(
                Invite(
                    token_hash=hash_token(f"seed-{email}"),
                    user_id=client.id,
                    created_by_id=staff[who].id,
                    expires_at=now() + timedelta(days=7),
                )
            )
    session.flush()
    ensure_clinic_defaults(session, clinic_id=clinic.id or 0)
    _journeys(session, clinic, today)
    seed_history(session, today=today, tz=CLINIC_TZ)
    seed_fresh_alert(session, now())
    audit.record(session, action="demo_seeded", actor_id=admin.id)
    # What the worker's first tick would do: escalate Eli's alert, left past the clinic's minutes.
    # It commits, the seed so far and then the escalation, as the worker's own transactions do.
    inbox.escalate_due(session, now())
    dashboard.refresh_all(session, clinic_id=clinic.id)
    return DEMO_LOGINS


# Where each demo client stands in consent, screening and preparation. Together they show every
# readiness light: Alex amber (steps still to do, none late), Chris red (screening unreviewed
# and an open alert), Dana green (everything done, blood pressure within limits).
BASELINE = {"phq9": [2, 2, 1, 2, 1, 1, 1, 0, 0, 1], "gad7": [2, 1, 2, 1, 1, 1, 1]}
JOURNEYS = {
    "alex@riverbend.example": ("current", "reviewed", ("ride", "benzodiazepines")),
    "chris@riverbend.example": ("current", "unreviewed_alert", ()),
    "dana@riverbend.example": ("current", "reviewed", "all"),
    "eli@riverbend.example": ("current", "reviewed", ()),
    "farah@riverbend.example": ("withdrawn", "reviewed", ()),
}


def _journeys(session: Session, clinic: Clinic, today: date) -> None:
    document = current_document(session, clinic.id or 0)
    assert document is not None
    sections = len(parse(document.source_text).sections)
    for email, (consent_state, screening_state, done_steps) in JOURNEYS.items():
        client = session.exec(select(User).where(User.email == email)).one()
        course = session.exec(select(Course).where(Course.client_id == client.id)).one()
        signed_at = as_utc(_at(course.start_date, 11))
        session.add(
            ConsentProgress(
                client_id=client.id or 0,
                document_id=document.id or 0,
                acknowledged=json.dumps(list(range(sections))),
                quiz_attempts=1,
                quiz_passed_at=signed_at,
            )
        )
        signature = ConsentSignature(
            client_id=client.id or 0,
            clinic_id=clinic.id or 0,
            document_id=document.id or 0,
            document_version=document.version,
            document_sha256=document.sha256,
            signed_name=client.display_name,
            signed_at=signed_at,
            user_agent="Demo seed",
        )
        session.add(signature)
        session.flush()
        if consent_state == "withdrawn":
            session.add(
                ConsentWithdrawal(
                    signature_id=signature.id or 0,
                    client_id=client.id or 0,
                    recorded_by_id=client.id or 0,
                    withdrawn_at=signed_at + timedelta(days=60),
                    reason="Course finished; no further sessions planned.",
                )
            )
        course.screening_requested_at = signed_at
        _baseline(session, client, signed_at, alert=screening_state == "unreviewed_alert")
        if screening_state == "reviewed":
            course.screening_reviewed_at = signed_at + timedelta(days=1)
            course.screening_reviewed_by_id = clinician_of(session, client)
        session.add(course)
        _prepare(session, client, clinic, done_steps)


def _baseline(session: Session, client: User, at: datetime, *, alert: bool) -> None:
    answers = {
        "intake": {k: 0 for k in ("pregnancy", "psychosis", "mania", "blood_pressure")}
        | {"substance_use": 0, "benzodiazepines": 1 if alert else 0, "bladder": 0},
        "phq9": dict(zip([f"q{n}" for n in range(1, 11)], BASELINE["phq9"], strict=True)),
        "gad7": dict(zip([f"q{n}" for n in range(1, 8)], BASELINE["gad7"], strict=True)),
    }
    if alert:
        answers["phq9"]["q9"] = 1
    for key, given in answers.items():
        instrument = INSTRUMENTS[key]
        result = score(instrument, given)
        response = QuestionnaireResponse(
            client_id=client.id or 0,
            clinic_id=client.clinic_id,
            instrument=key,
            instrument_version=instrument.version,
            status="submitted",
            answers=json.dumps(given),
            score=result.total,
            band=result.band,
            flags=json.dumps(list(result.flags)),
            started_at=at,
            updated_at=at,
            submitted_at=at + timedelta(minutes=5),
        )
        session.add(response)
        session.flush()
        safety.apply(
            session,
            client=client,
            facts=Facts(key, given),
            source_kind="questionnaire",
            source_id=response.id or 0,
        )


def _prepare(session: Session, client: User, clinic: Clinic, done_steps) -> None:
    upcoming = session.exec(
        select(DosingSession)
        .where(DosingSession.client_id == client.id, DosingSession.status == "scheduled")
        .order_by(DosingSession.scheduled_at)
    ).all()
    for n, dosing in enumerate(upcoming):
        sync_checklist(session, dosing, clinic_id=clinic.id or 0)
        if n:
            continue
        for item in items_for(session, dosing.id or 0):
            if done_steps != "all" and item.key not in done_steps:
                continue
            item.value = json.dumps(DEMO_VALUES.get(item.key, {}))
            item.done_at = now() - timedelta(minutes=30)
            item.done_by_id = client.id
            session.add(item)
    session.flush()


DEMO_VALUES = {
    "intention": {"text": "To be kinder to myself."},
    "vitals": {"systolic": "128", "diastolic": "82", "pulse": "72"},
    "chaperone": {"name": "Sam Kowalski", "phone": "(555) 010-0142"},
}
