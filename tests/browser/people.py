"""People made for one browser test alone, on the server's own database, so no other browser
test's seeded client is touched; what they do there without a browser (an urgent report); and
what a test reads back (their check-ins)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from kapjourney import db
from kapjourney.auth.passwords import hash_password
from kapjourney.clock import now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Alert, CheckIn, Clinic, User
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.domain.schemas import Actor, InviteCreate, SessionSchedule
from kapjourney.seed import CLINIC_TZ, STAFF_PASSWORD
from kapjourney.services import symptoms
from kapjourney.services.accounts import accept_invite, create_invite
from kapjourney.services.plan import complete_session, schedule_session
from kapjourney.services.protocol import ensure_clinic_defaults

SAM = "sam.okafor@riverbend.example"  # the demo clinician
T = TypeVar("T")


def with_db(db_url: str, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one transaction on the server's database; what it returns."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            return work(s)
    finally:
        engine.dispose()


def _add_clinic(s: Session, *, name: str, slug: str, crisis_phone: str = "") -> Clinic:
    """A clinic with its defaults (protocol, preparation template, consent document), as the
    seed and the upgrade give every clinic."""
    clinic = Clinic(name=name, slug=slug, timezone=CLINIC_TZ, crisis_phone=crisis_phone)
    s.add(clinic)
    s.flush()
    ensure_clinic_defaults(s, clinic_id=clinic.id)
    return clinic


def _user(clinic: Clinic, *, role: Role, email: str, name: str, password_hash: str) -> User:
    return User(
        clinic_id=clinic.id,
        role=role,
        email=email,
        display_name=name,
        timezone=CLINIC_TZ,
        password_hash=password_hash,
    )


def make_clinic(
    db_url: str, *, name: str, slug: str, staff: Iterable[tuple[str, str, Role]]
) -> None:
    """A clinic of its own whose ``staff`` (email, name, role) sign in with the seed's staff
    password."""

    def work(s: Session) -> None:
        clinic = _add_clinic(s, name=name, slug=slug)
        hashed = hash_password(STAFF_PASSWORD)
        for email, person, role in staff:
            s.add(_user(clinic, role=role, email=email, name=person, password_hash=hashed))

    with_db(db_url, work)


def make_client(
    db_url: str,
    *,
    email: str,
    password: str,
    name: str,
    clinic_name: str,
    slug: str,
    clinic_phone: str = "",
    configure: Callable[[Session, Clinic], None] | None = None,
) -> int:
    """A client of a clinic of her own, which has its default protocol, preparation template and
    consent document as every clinic does (the seed and the upgrade give them); her user id.

    ``configure(session, clinic)`` may adjust the new clinic (say its protocol) before she joins.
    """

    def work(s: Session) -> int:
        clinic = _add_clinic(s, name=clinic_name, slug=slug, crisis_phone=clinic_phone)
        if configure is not None:
            configure(s, clinic)
        client = _user(
            clinic, role=Role.CLIENT, email=email, name=name, password_hash=hash_password(password)
        )
        s.add(client)
        s.flush()
        return client.id

    return with_db(db_url, work)


def invite_client_of_sam(
    db_url: str,
    *,
    email: str,
    name: str,
    password: str,
    dosed_hours_ago: float | None = None,
    clinician: str = SAM,
) -> int:
    """``name`` is invited by Sam (the demo clinician), or by the ``clinician`` of that email, and
    joins his clinic with ``password``, as his invite page and her sign-up would. With
    ``dosed_hours_ago``, Sam records a session for her that began that long ago (to the minute):
    scheduled while it was still ahead (the clock wound back to an hour before it), then marked
    done now, as he would after the session.

    Returns the session's id, or 0 without one.
    """
    engine = db.make_engine(db_url)
    dosed = now().replace(second=0, microsecond=0) - timedelta(hours=dosed_hours_ago or 0)
    try:
        with db.session_scope(engine) as s:
            sam = Actor.from_user(s.exec(select(User).where(User.email == clinician)).one())
            invite = create_invite(
                session=s,
                actor=sam,
                data=InviteCreate(display_name=name, email=email, timezone=""),
            )
            token = invite.path.split("#", 1)[1]
            accept_invite(session=s, token=token, password=password, confirm=password)
            client = s.exec(select(User).where(User.email == email)).one()
            client_id, tz = client.id, client.timezone
        if dosed_hours_ago is None:
            return 0
        with (
            time_machine.travel(dosed - timedelta(hours=1), tick=False),
            db.session_scope(engine) as s,
        ):
            local = dosed.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
            view = schedule_session(
                session=s,
                actor=sam,
                client_id=client_id,
                data=SessionSchedule(
                    local_datetime=local, route="sublingual_lozenge", setting="at_home"
                ),
            )
            dosing_id = view.sessions[0].dosing_session_id
        with db.session_scope(engine) as s:
            complete_session(session=s, actor=sam, dosing_session_id=dosing_id)
        return dosing_id
    finally:
        engine.dispose()


def send_urgent_report(db_url: str, *, email: str, dosing_id: int, tag: str) -> int:
    """The client of ``email`` sends an urgent report a day after her session, through the
    symptom service (as her phone's request would); the alert's id. ``tag`` names the test in
    the report's submission id."""

    def work(s: Session) -> int:
        client = s.exec(select(User).where(User.email == email)).one()
        result = symptoms.submit_report(
            session=s,
            actor=Actor.from_user(client),
            dosing_session_id=dosing_id,
            offset_minutes=1440,
            submission_id=f"{tag}-{dosing_id}-0001",
            answers={key: 0 for key, _ in SYMPTOM_ITEMS} | {"urinary": 2},
        )
        assert result.tier == "urgent"
        return s.exec(select(Alert.id).where(Alert.client_id == client.id)).one()

    return with_db(db_url, work)


def checkins_of(db_url: str, client_id: int) -> list[CheckIn]:
    return with_db(
        db_url,
        lambda s: list(s.exec(select(CheckIn).where(CheckIn.client_id == client_id)).all()),
    )


def wait_for_checkins(
    db_url: str, client_id: int, check: Callable[[list[CheckIn]], object], timeout: float = 15
) -> list[CheckIn]:
    """The client's check-ins once ``check(rows)`` holds, or at ``timeout`` seconds as they are
    (the page saves over a websocket)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = checkins_of(db_url, client_id)
        if check(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.25)
