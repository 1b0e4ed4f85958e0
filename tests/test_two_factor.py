"""Two-factor sign-in for staff (issue 7, part 2): enrolment, codes in and out of the time window,
replay, recovery codes, throttling, the admin's reset, encryption at rest, the pending session
that nothing but the two-factor step accepts, trusted browsers, and the HTTP routes."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import text
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions, signin, two_factor
from kapjourney.domain.errors import NotFound
from kapjourney.domain.models import AuthSession, RecoveryCode, TotpCredential, TrustedDevice
from kapjourney.http.app import create_api
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings, ensure_local_secrets
from kapjourney.ui.pages.clients import ClientsState
from tests.conftest import PASSWORD, run_async
from tests.support import T0, audit_events, count
from tests.test_handlers import _is_redirect, _state

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

RECOVERY = re.compile(r"^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{2}$")
STEP = 30


def _code(secret: str, at=T0, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(at + timedelta(seconds=STEP * steps))


def _enrol(engine, user, settings, *, at=T0, steps: int = 0):
    """Start and confirm enrolment at ``at`` with the code ``steps`` away; (secret, codes)."""
    with db.session_scope(engine) as s:
        secret = two_factor.start_enrolment(s, user_id=user.id, settings=settings).secret
    with db.session_scope(engine) as s:
        check = two_factor.confirm_enrolment(
            s, user_id=user.id, code=_code(secret, at, steps), settings=settings
        )
    assert check.ok, check.errors
    return secret, check.recovery_codes


def _verify(engine, user, code, settings, ip: str = "10.0.0.1") -> two_factor.CodeCheck:
    with db.session_scope(engine) as s:
        return two_factor.verify(s, user_id=user.id, code=code, ip=ip, settings=settings)


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_gives_a_key_a_qr_code_and_an_otpauth_uri(engine, personas, settings):
    with db.session_scope(engine) as s:
        enrolment = two_factor.start_enrolment(s, user_id=personas.clinician.id, settings=settings)
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret)
    assert enrolment.uri.startswith("otpauth://totp/KAP%20Journey:cleo%40test.example?")
    assert f"secret={enrolment.secret}" in enrolment.uri and "issuer=KAP%20Journey" in enrolment.uri
    assert enrolment.qr_svg.startswith("<svg") and two_factor.QR_DARK in enrolment.qr_svg
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml;base64,")
    assert enrolment.key_groups.replace(" ", "") == enrolment.secret
    assert all(len(group) == 4 for group in enrolment.key_groups.split())


def test_the_secret_is_encrypted_at_rest(engine, personas, settings):
    with db.session_scope(engine) as s:
        secret = two_factor.start_enrolment(
            s, user_id=personas.clinician.id, settings=settings
        ).secret
    with engine.connect() as conn:
        cells = [str(c) for row in conn.execute(text("SELECT * FROM totpcredential")) for c in row]
    assert cells and not any(secret in cell for cell in cells)
    with db.session_scope(engine) as s:
        stored = s.exec(select(TotpCredential)).one().secret_encrypted
    assert stored != secret
    assert two_factor.decrypt_secret(stored, settings) == secret
    other = Settings(data_dir=settings.data_dir.parent / "elsewhere")
    ensure_local_secrets(other)
    assert two_factor.decrypt_secret(stored, other) is None  # another server secret: unreadable


def test_a_wrong_code_does_not_confirm_and_is_audited_without_the_code(engine, personas, settings):
    with time_machine.travel(T0, tick=False), db.session_scope(engine) as s:
        secret = two_factor.start_enrolment(
            s, user_id=personas.clinician.id, settings=settings
        ).secret
        right = _code(secret)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        check = two_factor.confirm_enrolment(
            s, user_id=personas.clinician.id, code=wrong, ip="10.0.0.1", settings=settings
        )
        assert not check.ok and check.errors["code"] == two_factor.WRONG_CODE
        assert not two_factor.has_confirmed_factor(s, user_id=personas.clinician.id)
        check = two_factor.confirm_enrolment(
            s, user_id=personas.clinician.id, code=right, settings=settings
        )
    assert check.ok and len(check.recovery_codes) == 10
    assert all(RECOVERY.fullmatch(code) for code in check.recovery_codes)
    assert len(set(check.recovery_codes)) == 10
    [failed] = audit_events(engine, "two_factor_failed")
    assert failed.actor_id == personas.clinician.id and failed.outcome == "denied"
    assert len(audit_events(engine, "two_factor_enrolled")) == 1
    everything = " ".join(f"{e.target} {e.detail}" for e in audit_events(engine))
    assert wrong not in everything and right not in everything and secret not in everything
    with engine.connect() as conn:
        cells = {str(c) for row in conn.execute(text("SELECT * FROM recoverycode")) for c in row}
    assert not any(code in cell for code in check.recovery_codes for cell in cells)


def test_a_reload_keeps_the_key_a_later_start_replaces_it_and_a_confirmed_one_stays(
    engine, personas, settings
):
    def start(at):
        with time_machine.travel(at, tick=False), db.session_scope(engine) as s:
            return two_factor.start_enrolment(s, user_id=personas.clinician.id, settings=settings)

    first = start(T0)
    assert start(T0 + timedelta(minutes=5)).secret == first.secret  # the page was reloaded
    second = start(T0 + timedelta(minutes=20))  # a new sign-in, long after
    assert second.secret != first.secret
    assert count(engine, TotpCredential) == 1
    later = T0 + timedelta(minutes=21)
    with time_machine.travel(later, tick=False):
        with db.session_scope(engine) as s:
            assert two_factor.confirm_enrolment(
                s,
                user_id=personas.clinician.id,
                code=_code(second.secret, later),
                settings=settings,
            ).ok
        with pytest.raises(NotFound), db.session_scope(engine) as s:
            two_factor.start_enrolment(s, user_id=personas.clinician.id, settings=settings)


def test_clients_have_nothing_to_enrol(engine, personas, settings):
    with pytest.raises(NotFound), db.session_scope(engine) as s:
        two_factor.start_enrolment(s, user_id=personas.client.id, settings=settings)


# --- the time window and replay ------------------------------------------------------------------


def test_a_code_is_accepted_once_and_never_replayed(engine, personas, settings):
    with time_machine.travel(T0, tick=False):
        secret, _ = _enrol(engine, personas.clinician, settings)
        # The code that confirmed enrolment cannot sign in, even within its 30 seconds.
        replay = _verify(engine, personas.clinician, _code(secret), settings)
        assert not replay.ok and replay.errors["code"] == two_factor.WRONG_CODE
    with time_machine.travel(T0 + timedelta(seconds=STEP), tick=False):
        fresh = _code(secret, T0, 1)
        assert _verify(engine, personas.clinician, fresh, settings).ok
        assert not _verify(engine, personas.clinician, fresh, settings).ok


def test_one_step_either_side_is_accepted(engine, personas, settings):
    with time_machine.travel(T0, tick=False):
        secret, _ = _enrol(engine, personas.clinician, settings, steps=-1)  # a slow phone
        assert _verify(engine, personas.clinician, _code(secret, steps=1), settings).ok  # fast


@pytest.mark.parametrize("steps", [-2, 2, 10])
def test_two_steps_off_is_refused(engine, personas, settings, steps):
    with time_machine.travel(T0, tick=False), db.session_scope(engine) as s:
        secret = two_factor.start_enrolment(
            s, user_id=personas.clinician.id, settings=settings
        ).secret
        check = two_factor.confirm_enrolment(
            s, user_id=personas.clinician.id, code=_code(secret, steps=steps), settings=settings
        )
    assert not check.ok


@pytest.mark.parametrize(
    "code", ["", "   ", None, 123456, "12345", "1234567", "abcdef", "x" * 10_000, ["123456"]]
)
def test_malformed_codes_are_refused_with_a_message(engine, personas, settings, code):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
        check = _verify(engine, personas.clinician, code, settings)
    assert not check.ok and check.errors["code"]


# --- recovery codes ------------------------------------------------------------------------------


def test_a_recovery_code_works_once(engine, personas, settings):
    with time_machine.travel(T0, tick=False):
        _, codes = _enrol(engine, personas.clinician, settings)
        typed = "  " + codes[3].upper().replace("-", " - ") + " "  # as people type them
        check = _verify(engine, personas.clinician, typed, settings)
        assert check.ok and check.used_recovery_code
        again = _verify(engine, personas.clinician, codes[3], settings)
        assert not again.ok and again.errors["code"] == two_factor.WRONG_RECOVERY
    [used] = audit_events(engine, "recovery_code_used")
    assert used.detail == "left=9" and codes[3] not in used.detail
    with db.session_scope(engine) as s:
        assert len(s.exec(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()) == 1


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(
    engine, personas, settings
):
    actor = personas.actor("clinician")
    with time_machine.travel(T0, tick=False):
        secret, old = _enrol(engine, personas.clinician, settings)
        with db.session_scope(engine) as s:
            refused = two_factor.regenerate_recovery_codes(
                s, actor=actor, code="000000", settings=settings
            )
        assert not refused.ok
    with time_machine.travel(T0 + timedelta(seconds=STEP), tick=False):
        with db.session_scope(engine) as s:
            check = two_factor.regenerate_recovery_codes(
                s, actor=actor, code=_code(secret, T0, 1), settings=settings
            )
        assert check.ok and len(check.recovery_codes) == 10
        assert not _verify(engine, personas.clinician, old[0], settings).ok
        assert _verify(engine, personas.clinician, check.recovery_codes[0], settings).ok
        with db.session_scope(engine) as s:
            view = two_factor.status(s, actor=actor)
    assert view.enabled and view.recovery_codes_left == 9 and view.since is not None


# --- throttling ----------------------------------------------------------------------------------


def test_five_wrong_codes_lock_the_person_out_for_fifteen_minutes(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        secret, _ = _enrol(engine, personas.clinician, settings)
        for n in range(5):
            traveller.shift(timedelta(seconds=1))
            assert not _verify(engine, personas.clinician, "000000", settings, ip=f"10.0.0.{n}").ok
        traveller.shift(timedelta(seconds=STEP))
        locked = _verify(engine, personas.clinician, _code(secret, T0, 1), settings, ip="10.9.9.9")
        assert not locked.ok and locked.retry_after_seconds > 0
        assert re.fullmatch(r"Too many tries\. Wait 1[45] minutes\.", locked.errors["code"])
        assert audit_events(engine, "two_factor_throttled")
        traveller.shift(timedelta(minutes=15))
        assert _verify(engine, personas.clinician, _code(secret, T0, 32), settings).ok


def test_five_wrong_codes_from_one_address_lock_that_address(engine, personas, settings):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
        other_secret, _ = _enrol(engine, personas.other_clinician, settings)
        for _ in range(5):
            assert not _verify(engine, personas.clinician, "000000", settings, ip="10.6.6.6").ok
    with time_machine.travel(T0 + timedelta(seconds=STEP), tick=False):
        code = _code(other_secret, T0, 1)
        locked = _verify(engine, personas.other_clinician, code, settings, ip="10.6.6.6")
        assert locked.retry_after_seconds > 0
        assert _verify(engine, personas.other_clinician, code, settings, ip="10.7.7.7").ok


# --- an admin's reset ----------------------------------------------------------------------------


def test_an_admin_of_the_same_clinic_resets_a_clinicians_second_factor(engine, personas, settings):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
        with db.session_scope(engine) as s:
            token = sessions.create_session(
                s, user=s.get(type(personas.clinician), personas.clinician.id)
            )
            two_factor.trust_browser(s, user_id=personas.clinician.id)
        with unit_of_work() as s:
            two_factor.reset_for_user(
                s, actor=personas.actor("admin"), user_id=personas.clinician.id
            )
        with db.session_scope(engine) as s:
            assert sessions.resolve_session(s, token=token) is None
            assert not two_factor.has_confirmed_factor(s, user_id=personas.clinician.id)
    assert count(engine, TotpCredential) == 0 and count(engine, RecoveryCode) == 0
    assert count(engine, TrustedDevice) == 0
    [event] = audit_events(engine, "two_factor_reset")
    assert event.actor_id == personas.admin.id and event.target == f"user:{personas.clinician.id}"


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("foreign_admin", "clinician"),  # another clinic's admin
        ("clinician", "other_clinician"),  # not an admin
        ("client", "clinician"),
        ("admin", "client"),  # clients have no second factor
        ("admin", "admin"),  # not oneself
    ],
)
def test_anyone_else_resetting_gets_not_found_and_is_audited(
    engine, personas, settings, who, target
):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
    with pytest.raises(NotFound), unit_of_work() as s:
        two_factor.reset_for_user(
            s, actor=personas.actor(who), user_id=getattr(personas, target).id
        )
    [denied] = audit_events(engine, "access_denied")
    assert denied.actor_id == getattr(personas, who).id
    assert count(engine, TotpCredential) == 1 and audit_events(engine, "two_factor_reset") == []


def test_an_unknown_user_id_is_not_found(engine, personas):
    for wanted in (10_000, "1", None, -1):
        with pytest.raises(NotFound), unit_of_work() as s:
            two_factor.reset_for_user(s, actor=personas.actor("admin"), user_id=wanted)


# --- the pending session -------------------------------------------------------------------------


def _password_sign_in(engine, email: str, trusted: str | None = None) -> signin.SignInOutcome:
    with db.session_scope(engine) as s:
        return signin.authenticate(
            session=s, email=email, password=PASSWORD, ip="10.0.0.1", trusted_browser=trusted
        )


def test_staff_password_sign_in_is_pending_and_clients_are_not(engine, personas, settings):
    assert _password_sign_in(engine, "ada@test.example").stage == sessions.FULL
    assert _password_sign_in(engine, "cleo@test.example").stage == sessions.ENROL
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
        outcome = _password_sign_in(engine, "cleo@test.example")
        assert outcome.stage == sessions.VERIFY
        with db.session_scope(engine) as s:
            assert sessions.resolve_session(s, token=outcome.token) is None
            pending = sessions.resolve_pending(s, token=outcome.token)
    assert pending.user_id == personas.clinician.id and pending.stage == sessions.VERIFY


def test_a_pending_session_is_refused_by_a_guarded_handler(engine, personas):
    outcome = _password_sign_in(engine, "cleo@test.example")
    state = _state(ClientsState, cookie=f"kj_session={outcome.token}")
    result = run_async(state.load())
    assert _is_redirect(result, "/signin")
    assert state.rows == [] and state.loaded is False


def test_a_trusted_browser_skips_the_code_until_every_session_is_revoked(
    engine, personas, settings
):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, settings)
        with db.session_scope(engine) as s:
            device = two_factor.trust_browser(s, user_id=personas.clinician.id)
        assert _password_sign_in(engine, "cleo@test.example", device).stage == sessions.FULL
        # Another person's trusted browser, or a made-up token, counts for nothing.
        assert _password_sign_in(engine, "uma@test.example", device).stage == sessions.ENROL
        assert _password_sign_in(engine, "cleo@test.example", "x" * 43).stage == sessions.VERIFY
        with db.session_scope(engine) as s:
            sessions.revoke_all_sessions(s, user_id=personas.clinician.id)
        assert _password_sign_in(engine, "cleo@test.example", device).stage == sessions.VERIFY
    with time_machine.travel(T0 + timedelta(days=31), tick=False), db.session_scope(engine) as s:
        late = two_factor.trust_browser(s, user_id=personas.clinician.id)
    with time_machine.travel(T0 + timedelta(days=62), tick=False):
        assert _password_sign_in(engine, "cleo@test.example", late).stage == sessions.VERIFY


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def http_settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "http-data", public_url="http://testserver")
    ensure_local_secrets(s)
    return s


@pytest.fixture
def client(engine, http_settings):
    with TestClient(create_api(http_settings), raise_server_exceptions=False) as c:
        yield c


def _signin(c, email: str):
    return c.post("/auth/signin", json={"email": email, "password": PASSWORD})


def _set_cookie(response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def test_enrolment_over_http_swaps_the_pending_session_for_a_full_one(
    client, engine, personas, http_settings
):
    with time_machine.travel(T0, tick=False):
        assert _signin(client, "cleo@test.example").json() == {"ok": True, "next": "/signin/enrol"}
        pending = client.cookies.get("kj_session")
        # Half signed in: the consent PDF route (any HTTP route) answers as if signed out.
        assert client.get("/api/consent/1.pdf").status_code == 401
        with db.session_scope(engine) as s:
            secret = two_factor.start_enrolment(
                s, user_id=personas.clinician.id, settings=http_settings
            ).secret
        wrong = client.post("/auth/two-factor/enrol/confirm", json={"code": "000000"})
        assert wrong.status_code == 400 and wrong.json()["errors"]["code"]
        assert "set-cookie" not in wrong.headers
        # The verify route is for a sign-in that owes a code, not one that owes enrolment.
        assert (
            client.post("/auth/two-factor/verify", json={"code": _code(secret)}).status_code == 401
        )
        response = client.post("/auth/two-factor/enrol/confirm", json={"code": _code(secret)})
        assert response.status_code == 200, response.text
        full = client.cookies.get("kj_session")
        with db.session_scope(engine) as s:
            assert sessions.resolve_pending(s, token=pending) is None
            assert sessions.resolve_session(s, token=pending) is None
            assert sessions.resolve_session(s, token=full).user_id == personas.clinician.id
    body = response.json()
    assert body["ok"] and body["next"] == "/clinician" and len(body["codes"]) == 10
    assert response.headers["cache-control"] == "no-store"
    assert "httponly" in _set_cookie(response, "kj_session").lower()
    assert full and full != pending


def test_verifying_over_http_can_trust_this_browser(client, engine, personas, http_settings):
    with time_machine.travel(T0, tick=False):
        secret, _ = _enrol(engine, personas.clinician, http_settings)
    with time_machine.travel(T0 + timedelta(seconds=STEP), tick=False):
        assert _signin(client, "cleo@test.example").json()["next"] == "/signin/verify"
        response = client.post(
            "/auth/two-factor/verify", json={"code": _code(secret, T0, 1), "trust_device": "on"}
        )
        assert response.json() == {"ok": True, "next": "/clinician"}
        header = _set_cookie(response, "kj_trusted").lower()
        attributes = {part.strip() for part in header.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= attributes
        assert "max-age=2592000" in attributes and "secure" not in attributes
        client.post("/auth/signout")
        assert _signin(client, "cleo@test.example").json()["next"] == "/clinician"
    with db.session_scope(engine) as s:
        assert len(s.exec(select(AuthSession).where(AuthSession.stage == "full")).all()) == 2


def test_a_native_post_of_the_verify_form_still_finishes_the_sign_in(
    client, engine, personas, http_settings
):
    """A tap on "Verify" before the page's script has started posts the form itself
    (urlencoded, never a GET): a wrong code goes back to the code page with no session, the
    right one signs in and goes home, as the script would have."""
    with time_machine.travel(T0, tick=False):
        secret, _ = _enrol(engine, personas.clinician, http_settings)
    with time_machine.travel(T0 + timedelta(seconds=STEP), tick=False):
        assert _signin(client, "cleo@test.example").json()["next"] == "/signin/verify"
        pending = client.cookies.get("kj_session")
        for code in ("000000", "<script>alert(1)</script>", "9" * 5000):
            wrong = client.post(
                "/auth/two-factor/verify", data={"code": code}, follow_redirects=False
            )
            assert wrong.status_code == 303 and wrong.headers["location"] == "/signin/verify"
            assert "set-cookie" not in wrong.headers
            assert client.cookies.get("kj_session") == pending
        right = client.post(
            "/auth/two-factor/verify",
            data={"code": _code(secret, T0, 1), "trust_device": "on"},
            follow_redirects=False,
        )
        assert right.status_code == 303 and right.headers["location"] == "/clinician"
        assert "httponly" in _set_cookie(right, "kj_session").lower()
        assert "httponly" in _set_cookie(right, "kj_trusted").lower()
        full = client.cookies.get("kj_session")
        with db.session_scope(engine) as s:
            assert sessions.resolve_pending(s, token=pending) is None
            assert sessions.resolve_session(s, token=full).user_id == personas.clinician.id
        # The sign-in is over: another native post goes back to sign-in, not to an error page.
        client.cookies.clear()
        gone = client.post(
            "/auth/two-factor/verify", data={"code": "123456"}, follow_redirects=False
        )
        assert gone.status_code == 303 and gone.headers["location"] == "/signin"
        foreign = client.post(
            "/auth/two-factor/verify",
            data={"code": "123456"},
            headers={"origin": "https://evil"},
            follow_redirects=False,
        )
        assert foreign.status_code == 403


def test_two_factor_routes_refuse_other_sites_and_no_session(client, engine, personas):
    for route in ("/auth/two-factor/verify", "/auth/two-factor/enrol/confirm"):
        foreign = client.post(route, json={"code": "123456"}, headers={"origin": "https://evil"})
        assert foreign.status_code == 403
        assert client.post(route, json={"code": "123456"}).status_code == 401
        assert client.post(route, content=b"[not json").status_code == 400


def test_the_two_factor_pages_serve_only_the_sign_in_that_owes_their_step(engine, personas):
    from kapjourney.settings import get_settings
    from kapjourney.ui.pages.two_factor_signin import EnrolState, VerifyState

    ensure_local_secrets(get_settings())  # the page encrypts with the app's own secret
    owes_enrolment = _password_sign_in(engine, "cleo@test.example").token
    state = _state(EnrolState, cookie=f"kj_session={owes_enrolment}")
    assert run_async(state.load()) is None
    assert state.ready and state.qr.startswith("data:image/svg+xml;base64,")
    assert state.key_groups.replace(" ", "") == state.secret
    # The verify page sends this sign-in to enrolment; a full session goes home; none, to sign-in.
    assert _is_redirect(
        run_async(_state(VerifyState, cookie=f"kj_session={owes_enrolment}").load()),
        "/signin/enrol",
    )
    full = _password_sign_in(engine, "ada@test.example").token
    assert _is_redirect(run_async(_state(EnrolState, cookie=f"kj_session={full}").load()), "/today")
    refused = _state(EnrolState)
    assert _is_redirect(run_async(refused.load()), "/signin") and refused.secret == ""


def test_the_sixth_wrong_code_over_http_is_a_429_with_retry_after(
    client, engine, personas, http_settings
):
    with time_machine.travel(T0, tick=False):
        _enrol(engine, personas.clinician, http_settings)
        assert _signin(client, "cleo@test.example").json()["next"] == "/signin/verify"
        for _ in range(5):
            wrong = client.post("/auth/two-factor/verify", json={"code": "000000"})
            assert wrong.status_code == 400
        locked = client.post("/auth/two-factor/verify", json={"code": "000000"})
    assert locked.status_code == 429 and 840 <= int(locked.headers["retry-after"]) <= 900
    assert locked.json()["errors"] == {"code": "Too many tries. Wait 15 minutes."}
