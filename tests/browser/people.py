"""People made for one browser test alone, on the server's own database, so no other browser
test's seeded client is touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from kapjourney import db
from kapjourney.auth.passwords import hash_password
from kapjourney.clock import now
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Clinic, User
from kapjourney.domain.schemas import Actor, InviteCreate, SessionSchedule
from kapjourney.seed import CLINIC_TZ
from kapjourney.services.accounts import accept_invite, create_invite
from kapjourney.services.plan import complete_session, schedule_session
from kapjourney.services.protocol import ensure_clinic_defaults

SAM = "sam.okafor@riverbend.example"  # the demo clinician


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
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            clinic = Clinic(
                name=clinic_name, slug=slug, timezone=CLINIC_TZ, crisis_phone=clinic_phone
            )
            s.add(clinic)
            s.flush()
            ensure_clinic_defaults(s, clinic_id=clinic.id)
            if configure is not None:
                configure(s, clinic)
            client = User(
                clinic_id=clinic.id,
                role=Role.CLIENT,
                email=email,
                display_name=name,
                timezone=CLINIC_TZ,
                password_hash=hash_password(password),
            )
            s.add(client)
            s.flush()
            return client.id
    finally:
        engine.dispose()


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
