"""Finishing a staff password sign-in over HTTP in service-tier tests, as the browser would.

Since issue 7, part 2, a clinician's or admin's POST /auth/signin opens only a pending session;
``complete_two_factor`` enrols them (or gives a code) through the real /auth/two-factor routes,
so the test client's cookie jar ends up holding a full session.
"""

from __future__ import annotations

import pyotp
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions, two_factor
from kapjourney.clock import now
from kapjourney.domain.models import TotpCredential
from kapjourney.http.two_factor import ENROL_CONFIRM, VERIFY
from kapjourney.routes import SIGNIN_ENROL, SIGNIN_VERIFY
from kapjourney.settings import ensure_local_secrets


def complete_two_factor(client, response) -> None:
    """After ``response`` to POST /auth/signin: nothing for a client; for staff, the owed step."""
    try:
        owed = response.json().get("next")
    except ValueError:
        return
    if owed not in (SIGNIN_ENROL, SIGNIN_VERIFY):
        return
    settings = client.app.state.settings
    ensure_local_secrets(settings)  # the secret is encrypted under the server's key
    token = client.cookies.get(settings.session_cookie_name)
    with db.session_scope() as s:
        pending = sessions.resolve_pending(s, token=token, settings=settings)
        assert pending is not None, "the sign-in left no pending session"
        if owed == SIGNIN_ENROL:
            secret = two_factor.start_enrolment(
                s, user_id=pending.user_id, settings=settings
            ).secret
            last = 0
        else:
            credential = s.exec(
                select(TotpCredential).where(TotpCredential.user_id == pending.user_id)
            ).one()
            secret = two_factor.decrypt_secret(credential.secret_encrypted, settings)
            last = credential.last_used_step
    current = int(now().timestamp()) // two_factor.STEP_SECONDS
    step = max(current - two_factor.VALID_WINDOW, last + 1)
    assert step <= current + two_factor.VALID_WINDOW, "every code in the window is used: wait 30 s"
    code = pyotp.TOTP(secret).at(step * two_factor.STEP_SECONDS)
    done = client.post(ENROL_CONFIRM if owed == SIGNIN_ENROL else VERIFY, json={"code": code})
    assert done.status_code == 200, done.text
