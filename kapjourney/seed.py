"""The demo clinic: one clinic, an admin, two clinicians, six clients at different stages.

Deterministic: the same people, courses and passwords every time; session dates are placed
relative to the day the seed runs so "tomorrow's session" is always tomorrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.auth import passwords
from kapjourney.auth.sessions import hash_token
from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import CourseStatus, DosingRoute, DosingSetting, DosingStatus, Role
from kapjourney.domain.models import (
    Clinic,
    ClinicianAssignment,
    Course,
    DosingSession,
    Invite,
    User,
)
from kapjourney.services import audit

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
        "cares for Alex, Bea, Chris and Farah",
    ),
    DemoLogin(
        "clinician",
        "Sam Okafor, LMFT",
        "sam.okafor@riverbend.example",
        STAFF_PASSWORD,
        "cares for Dana and Eli",
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
    audit.record(session, action="demo_seeded", actor_id=admin.id)
    return DEMO_LOGINS
