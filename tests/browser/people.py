"""People made for one browser test alone, on the server's own database, so no other browser
test's seeded client is touched."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from kapjourney import db
from kapjourney.auth.passwords import hash_password
from kapjourney.domain.enums import Role
from kapjourney.domain.models import Clinic, User
from kapjourney.seed import CLINIC_TZ
from kapjourney.services.protocol import ensure_clinic_defaults


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
