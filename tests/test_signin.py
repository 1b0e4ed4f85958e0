"""Password sign-in: outcomes, audit rows, input limits, throttling and session fixation."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import passwords, sessions, signin
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import AuthSession, SignInFailure, User
from kapjourney.settings import Settings
from tests.conftest import PASSWORD
from tests.support import T0, audit_events, count

WRONG = "wrong horse battery staple"
ATTACKER_IP = "203.0.113.9"


def _signin(
    engine,
    email,
    password,
    *,
    settings: Settings,
    ip: str = "127.0.0.1",
    previous_token: str | None = None,
) -> signin.SignInOutcome:
    with db.session_scope(engine) as s:
        return signin.authenticate(
            session=s,
            email=email,
            password=password,
            ip=ip,
            user_agent="pytest",
            previous_token=previous_token,
            settings=settings,
        )


def _resolve(engine, token, settings):
    with db.session_scope(engine) as s:
        return sessions.resolve_session(s, token=token, settings=settings)


# --- outcomes and audit --------------------------------------------------------------------------


def test_it_signs_in_with_the_right_password_and_audits_it(engine, personas, settings):
    outcome = _signin(engine, "ada@test.example", PASSWORD, settings=settings, ip="198.51.100.4")
    assert outcome.ok
    assert (outcome.user_id, outcome.role, outcome.errors) == (
        personas.client.id,
        Role.CLIENT,
        None,
    )
    actor = _resolve(engine, outcome.token, settings)
    assert actor is not None and actor.user_id == personas.client.id
    [event] = audit_events(engine, "signin")
    assert (event.actor_id, event.outcome, event.ip) == (personas.client.id, "ok", "198.51.100.4")
    with db.session_scope(engine) as s:
        assert s.get(User, personas.client.id).last_sign_in_at is not None


def test_it_accepts_the_email_in_any_case_and_with_spaces(engine, personas, settings):
    assert _signin(engine, "  Cleo@TEST.example ", PASSWORD, settings=settings).ok


@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_it_reports_the_role_of_staff(engine, personas, settings, who):
    outcome = _signin(engine, getattr(personas, who).email, PASSWORD, settings=settings)
    assert outcome.ok and outcome.role == Role(getattr(personas, who).role)


def test_it_answers_wrong_password_and_unknown_email_identically(engine, personas, settings):
    wrong_password = _signin(engine, "ada@test.example", WRONG, settings=settings)
    unknown_email = _signin(engine, "nobody@test.example", WRONG, settings=settings)
    assert wrong_password == unknown_email
    assert not wrong_password.ok
    assert wrong_password.errors == {"form": "Email or password is incorrect."}
    assert count(engine, AuthSession) == 0
    failed = audit_events(engine, "signin_failed")
    assert [(e.actor_id, e.outcome) for e in failed] == [
        (personas.client.id, "denied"),
        (None, "denied"),
    ]
    assert audit_events(engine, "signin") == []


@pytest.mark.parametrize(
    ("email", "password", "fields"),
    [
        ("", "", {"email": "Enter your email address.", "password": "Enter your password."}),
        ("   ", PASSWORD, {"email": "Enter your email address."}),
        (None, None, {"email": "Enter your email address.", "password": "Enter your password."}),
        ("ada@test.example", "", {"password": "Enter your password."}),
    ],
    ids=["both_empty", "blank_email", "none", "empty_password"],
)
def test_it_asks_for_missing_fields(engine, personas, settings, email, password, fields):
    with pytest.raises(ValidationFailed) as raised:
        _signin(engine, email, password, settings=settings)
    assert raised.value.fields == fields
    assert count(engine, SignInFailure) == 0


def test_it_refuses_a_one_megabyte_email_quickly_with_a_clear_message(engine, personas, settings):
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as raised:
        _signin(engine, "a" * 1_000_000 + "@test.example", "x" * 1_000_000, settings=settings)
    assert time.perf_counter() - started < 1.0
    assert raised.value.fields["email"] == "That is longer than any email address can be."
    assert "password" in raised.value.fields


def test_it_refuses_a_one_megabyte_password_without_hashing_it(
    engine, personas, settings, monkeypatch
):
    def no_hashing(*_args, **_kwargs):
        raise AssertionError("a 1 MB password must not reach argon2")

    monkeypatch.setattr(passwords, "verify_password", no_hashing)
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as raised:
        _signin(engine, "ada@test.example", "p" * 1_000_000, settings=settings)
    assert time.perf_counter() - started < 1.0
    assert raised.value.fields == {"password": "Email or password is incorrect."}


def test_it_refuses_an_invited_client_who_has_no_password_yet(engine, personas, settings):
    with db.session_scope(engine) as s:
        s.add(
            User(
                clinic_id=personas.client.clinic_id,
                role=Role.CLIENT,
                email="ivy@test.example",
                display_name="Ivy Invited",
                password_hash=None,
            )
        )
    # Not even with the password behind the dummy hash used for accounts without one.
    for attempt in (PASSWORD, "not-a-real-password-but-the-same-cost"):
        outcome = _signin(engine, "ivy@test.example", attempt, settings=settings)
        assert not outcome.ok
        assert outcome.errors == {"form": signin.WRONG_CREDENTIALS}
    assert count(engine, AuthSession) == 0


def test_it_refuses_an_unknown_email_with_the_dummy_hash_password(engine, personas, settings):
    outcome = _signin(
        engine, "ghost@test.example", "not-a-real-password-but-the-same-cost", settings=settings
    )
    assert not outcome.ok and outcome.errors == {"form": signin.WRONG_CREDENTIALS}


def test_it_refuses_a_deactivated_account_with_the_usual_message(engine, personas, settings):
    with db.session_scope(engine) as s:
        user = s.get(User, personas.clinician.id)
        user.is_active = False
        s.add(user)
    outcome = _signin(engine, "cleo@test.example", PASSWORD, settings=settings)
    assert outcome.errors == {"form": signin.WRONG_CREDENTIALS}
    [event] = audit_events(engine, "signin_failed")
    assert (event.actor_id, event.detail) == (personas.clinician.id, "inactive")


# --- session fixation ----------------------------------------------------------------------------


def test_it_revokes_the_session_the_browser_already_held(engine, personas, settings):
    first = _signin(engine, "ada@test.example", PASSWORD, settings=settings)
    second = _signin(
        engine, "ada@test.example", PASSWORD, settings=settings, previous_token=first.token
    )
    assert second.ok and second.token != first.token
    assert _resolve(engine, first.token, settings) is None
    assert _resolve(engine, second.token, settings) is not None


def test_it_revokes_a_planted_session_of_someone_else(engine, personas, settings):
    planted = _signin(engine, "otto@test.example", PASSWORD, settings=settings)
    mine = _signin(
        engine, "ada@test.example", PASSWORD, settings=settings, previous_token=planted.token
    )
    assert _resolve(engine, planted.token, settings) is None
    assert _resolve(engine, mine.token, settings).user_id == personas.client.id


# --- throttling ----------------------------------------------------------------------------------


def test_it_throttles_an_account_after_five_failures_until_the_window_passes(
    engine, personas, settings
):
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(5):
            assert _signin(engine, "ada@test.example", WRONG, settings=settings).errors == {
                "form": signin.WRONG_CREDENTIALS
            }
        blocked = _signin(engine, "ada@test.example", PASSWORD, settings=settings)
        assert not blocked.ok
        assert 0 < blocked.retry_after_seconds <= 15 * 60
        assert blocked.errors["form"].startswith("Too many attempts")
        assert len(audit_events(engine, "signin_throttled")) == 1
        assert count(engine, AuthSession) == 0

        traveller.shift(timedelta(minutes=10))
        still = _signin(engine, "ada@test.example", PASSWORD, settings=settings)
        assert not still.ok and 0 < still.retry_after_seconds <= 5 * 60

        traveller.shift(timedelta(minutes=6))  # 16 minutes after the failures
        assert _signin(engine, "ada@test.example", PASSWORD, settings=settings).ok


def test_it_counts_failures_per_account_whatever_the_email_spelling(engine, personas, tmp_path):
    strict = Settings(data_dir=tmp_path, signin_max_failures_per_account=3)
    for spelling in ("ADA@test.example", " Ada@Test.Example ", "ada@TEST.EXAMPLE"):
        _signin(engine, spelling, WRONG, settings=strict)
    assert _signin(engine, "ada@test.example", PASSWORD, settings=strict).retry_after_seconds


def test_it_does_not_throttle_other_accounts_for_one_accounts_failures(engine, personas, tmp_path):
    strict = Settings(data_dir=tmp_path, signin_max_failures_per_account=2)
    for _ in range(2):
        _signin(engine, "ada@test.example", WRONG, settings=strict, ip="198.51.100.1")
    assert _signin(
        engine, "ada@test.example", PASSWORD, settings=strict, ip="198.51.100.1"
    ).retry_after_seconds
    assert _signin(engine, "cleo@test.example", PASSWORD, settings=strict, ip="198.51.100.1").ok


def test_it_throttles_an_address_after_fifty_failures_across_emails(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        # 49 earlier failures from one address, each for a different email (inserted directly:
        # 49 argon2 verifications would only slow the suite down) ...
        with db.session_scope(engine) as s:
            for n in range(49):
                s.add(
                    SignInFailure(
                        account_key=signin.account_key(f"guess{n}@test.example"), ip=ATTACKER_IP
                    )
                )
        assert _signin(
            engine, "cleo@test.example", PASSWORD, settings=settings, ip=ATTACKER_IP
        ).ok  # 49 is still under the limit
        # ... and the fiftieth through the real code path.
        assert not _signin(
            engine, "guess49@test.example", WRONG, settings=settings, ip=ATTACKER_IP
        ).ok
        blocked = _signin(engine, "ada@test.example", PASSWORD, settings=settings, ip=ATTACKER_IP)
        assert not blocked.ok and blocked.retry_after_seconds > 0
        assert blocked.errors["form"].startswith("Too many attempts")
        # The same account from another address is not held back by that address.
        assert _signin(
            engine, "ada@test.example", PASSWORD, settings=settings, ip="198.51.100.77"
        ).ok
        traveller.shift(timedelta(minutes=16))
        assert _signin(engine, "ada@test.example", PASSWORD, settings=settings, ip=ATTACKER_IP).ok


def test_it_throttles_an_address_with_the_configured_limit_end_to_end(engine, personas, tmp_path):
    strict = Settings(data_dir=tmp_path, signin_max_failures_per_address=3)
    for n in range(3):
        _signin(engine, f"guess{n}@test.example", WRONG, settings=strict, ip=ATTACKER_IP)
    assert (
        _signin(
            engine, "ada@test.example", PASSWORD, settings=strict, ip=ATTACKER_IP
        ).retry_after_seconds
        > 0
    )


# Regression guard: failures were stored with ``ip[:64]`` but counted against the untruncated
# address, so addresses longer than 64 characters escaped the per-address limit.
def test_it_throttles_a_long_address_too(engine, personas, tmp_path):
    strict = Settings(data_dir=tmp_path, signin_max_failures_per_address=2)
    long_ip = "2001:db8::1, " + "10.0.0.1, " * 8
    assert len(long_ip) > 64
    for n in range(2):
        _signin(engine, f"guess{n}@test.example", WRONG, settings=strict, ip=long_ip)
    assert (
        _signin(
            engine, "ada@test.example", PASSWORD, settings=strict, ip=long_ip
        ).retry_after_seconds
        > 0
    )


def test_it_clears_the_failure_count_after_a_successful_sign_in(engine, personas, tmp_path):
    strict = Settings(data_dir=tmp_path, signin_max_failures_per_account=3)
    key = signin.account_key("ada@test.example")
    for _ in range(2):
        _signin(engine, "ada@test.example", WRONG, settings=strict)
    assert count(engine, SignInFailure, SignInFailure.account_key == key) == 2
    assert _signin(engine, "ada@test.example", PASSWORD, settings=strict).ok
    assert count(engine, SignInFailure, SignInFailure.account_key == key) == 0
    for _ in range(2):
        _signin(engine, "ada@test.example", WRONG, settings=strict)
    # Four failures in the window, but only two since the success: not throttled.
    assert _signin(engine, "ada@test.example", PASSWORD, settings=strict).ok


def test_it_stores_failures_under_a_hashed_account_key(engine, personas, settings):
    _signin(engine, "ada@test.example", WRONG, settings=settings, ip=ATTACKER_IP)
    with db.session_scope(engine) as s:
        [row] = s.exec(select(SignInFailure)).all()
    assert row.account_key == signin.account_key("ada@test.example")
    assert "ada" not in row.account_key and len(row.account_key) == 64
    assert row.ip == ATTACKER_IP


def test_sign_out_revokes_and_audits_only_a_live_session(engine, personas, settings):
    outcome = _signin(engine, "ada@test.example", PASSWORD, settings=settings)
    with db.session_scope(engine) as s:
        signin.sign_out(session=s, token=outcome.token)
    with db.session_scope(engine) as s:
        signin.sign_out(session=s, token=outcome.token)
        signin.sign_out(session=s, token=None)
    assert _resolve(engine, outcome.token, settings) is None
    assert [e.actor_id for e in audit_events(engine, "signout")] == [personas.client.id]
