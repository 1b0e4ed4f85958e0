"""People for the load and fault tests, written straight into the running server's database: a
clinic of its own per run, one clinician whose caseload is every client, and N clients with a
course under way (the check-in needs no signed consent, see services/checkins.py).

The clinician's session is made in the database, fully signed in, as the browser tests do
(tests/browser/test_account_lifecycle.py): staff sign-in needs two steps, and this test is
about what happens after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.auth.passwords import hash_password
from kapjourney.clock import now
from kapjourney.domain.enums import CourseStatus, DosingRoute, DosingSetting, DosingStatus, Role
from kapjourney.domain.models import (
    Clinic,
    ClinicianAssignment,
    Course,
    DosingSession,
    User,
)
from kapjourney.services import dashboard
from kapjourney.services.protocol import ensure_clinic_defaults

PASSWORD = "load-test steady lantern"  # noqa: S105 - a throwaway test account's password
TZ = "America/Los_Angeles"
REPORT_OFFSET = 1440  # the day-after symptom report (a default follow-up of every clinic)


@dataclass
class Person:
    user_id: int
    email: str
    dosing_session_id: int = 0  # a session dosed 25 hours ago, when asked for


@dataclass
class Cohort:
    clinic_id: int
    clinician: Person
    clinician_token: str
    clients: list[Person] = field(default_factory=list)


def seed_cohort(db_url: str, n: int, *, dosed: int = 0) -> Cohort:
    """A clinic with one clinician and ``n`` clients in her caseload. The first ``dosed`` clients
    had a session 25 hours ago, so their day-after symptom report is due."""
    tag = uuid.uuid4().hex[:8]
    hashed = hash_password(PASSWORD)  # one hash for all: seeding is not what is measured
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            clinic = Clinic(name=f"Load {tag}", slug=f"load-{tag}", timezone=TZ)
            s.add(clinic)
            s.flush()
            ensure_clinic_defaults(s, clinic_id=clinic.id or 0)
            clinician = User(
                clinic_id=clinic.id,
                role=Role.CLINICIAN,
                email=f"carer-{tag}@load.example",
                display_name="Load Clinician",
                timezone=TZ,
                password_hash=hashed,
            )
            s.add(clinician)
            s.flush()
            clients = [
                User(
                    clinic_id=clinic.id,
                    role=Role.CLIENT,
                    email=f"client-{tag}-{i:04d}@load.example",
                    display_name=f"Client {i:04d}",
                    timezone=TZ,
                    password_hash=hashed,
                )
                for i in range(n)
            ]
            s.add_all(clients)
            s.flush()
            people = []
            for i, client in enumerate(clients):
                s.add(ClinicianAssignment(clinician_id=clinician.id, client_id=client.id))
                course = Course(
                    client_id=client.id,
                    clinic_id=clinic.id,
                    status=CourseStatus.DOSING,
                    start_date=(now() - timedelta(days=14)).date(),
                    planned_sessions=6,
                )
                s.add(course)
                s.flush()
                person = Person(user_id=client.id or 0, email=client.email)
                if i < dosed:
                    dosing = DosingSession(
                        course_id=course.id or 0,
                        client_id=client.id or 0,
                        number=1,
                        scheduled_at=now().replace(microsecond=0) - timedelta(hours=25),
                        route=DosingRoute.SUBLINGUAL_LOZENGE,
                        setting=DosingSetting.AT_HOME,
                        status=DosingStatus.COMPLETED,
                    )
                    s.add(dosing)
                    s.flush()
                    person.dosing_session_id = dosing.id or 0
                people.append(person)
            s.flush()
            dashboard.refresh_all(s, clinic_id=clinic.id)
            token = sessions.create_session(
                s, user=clinician, ip="127.0.0.1", user_agent="load test"
            )
            return Cohort(
                clinic_id=clinic.id or 0,
                clinician=Person(user_id=clinician.id or 0, email=clinician.email),
                clinician_token=token,
                clients=people,
            )
    finally:
        engine.dispose()
