"""The HTTP routes in front of Reflex: sign-in, sign-out, invite acceptance and health, with
their cookies, origin checks, input limits, throttling and security headers."""

from __future__ import annotations

import json
import logging
import warnings
from datetime import timedelta

import pytest
import time_machine

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.auth.signin import RETRY_MESSAGES, retry_word
from kapjourney.domain.models import AuditEvent, AuthSession, SignInFailure
from kapjourney.domain.schemas import InviteCreate
from kapjourney.http.app import UNAVAILABLE, create_api
from kapjourney.services import accounts
from kapjourney.settings import Settings
from tests.conftest import PASSWORD
from tests.support import T0, audit_events, count

# starlette 1.10 warns at import that it wants the ``httpx2`` package; the project pins httpx.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

COOKIE = "kj_session"
NEW_PASSWORD = "lantern orchard velvet"
MB = 1_000_000


@pytest.fixture
def http_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", public_url="http://testserver")


@pytest.fixture
def client(engine, http_settings):
    with TestClient(create_api(http_settings), raise_server_exceptions=False) as c:
        yield c


def _signin(c, email: str, password: str = PASSWORD, **kwargs):
    return c.post("/auth/signin", json={"email": email, "password": password}, **kwargs)


def _session_set_cookie(response, name: str = COOKIE) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def _resolve(engine, token, settings):
    with db.session_scope(engine) as s:
        return sessions.resolve_session(s, token=token, settings=settings)


def _pending(engine, token, settings):
    with db.session_scope(engine) as s:
        return sessions.resolve_pending(s, token=token, settings=settings)


def _invite_token(engine, personas) -> str:
    with db.session_scope(engine) as s:
        created = accounts.create_invite(
            session=s,
            actor=personas.actor("clinician"),
            data=InviteCreate(display_name="Nia Newcomer", email="nia@test.example"),
        )
    return created.path.partition("#")[2]


def _assert_error_json(response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status
    body = response.json()
    assert body["ok"] is False
    assert isinstance(body["errors"], dict) and body["errors"]
    assert all(isinstance(v, str) and v for v in body["errors"].values())
    return body["errors"]


# --- signing in ----------------------------------------------------------------------------------


def test_signing_in_sets_a_strict_httponly_session_cookie(client, engine, personas, http_settings):
    response = _signin(client, "ada@test.example")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "next": "/today"}
    header = _session_set_cookie(response)
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain-HTTP public URL
    assert not any(a.startswith(("max-age", "expires", "domain")) for a in attributes)
    token = client.cookies.get(COOKIE)
    assert token and header.startswith(f"{COOKIE}={token};")
    actor = _resolve(engine, token, http_settings)
    assert actor is not None and actor.user_id == personas.client.id
    assert actor.ip == ""  # resolve was called without an address
    [event] = audit_events(engine, "signin")
    assert event.ip == "testclient"


def test_a_native_form_post_before_the_script_starts_still_signs_in(
    client, engine, personas, http_settings
):
    """A tap on "Sign in" before the page has hydrated posts the form itself (never a GET, so
    the password never reaches a URL): the server signs in and sends the browser home."""
    response = client.post(
        "/auth/signin",
        data={"email": "ada@test.example", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/today"
    assert "httponly" in _session_set_cookie(response).lower()
    actor = _resolve(engine, client.cookies.get(COOKIE), http_settings)
    assert actor is not None and actor.user_id == personas.client.id


@pytest.mark.parametrize(
    ("form", "word"),
    [
        ({"email": "ada@test.example", "password": "wrong horse battery staple"}, "failed"),
        ({"email": "", "password": ""}, "missing-email-password"),
        ({"email": "   ", "password": "x"}, "missing-email"),
        ({"email": "ada@test.example"}, "missing-password"),
        ({"email": "x" * 5000, "password": "<script>alert(1)</script>"}, "failed"),
    ],
)
def test_a_failed_native_form_post_goes_back_to_sign_in_with_no_session(
    client, engine, personas, form, word
):
    """Back to the sign-in page with a word naming its message (never what was typed)."""
    response = client.post("/auth/signin", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?signin={word}"
    assert word in RETRY_MESSAGES
    assert "set-cookie" not in response.headers
    assert count(engine, AuthSession) == 0


@pytest.mark.parametrize(
    ("email", "next_path"),
    [
        ("ada@test.example", "/today"),
        ("cleo@test.example", "/signin/enrol"),
        ("ari@test.example", "/signin/enrol"),
    ],
)
def test_signing_in_sends_each_role_to_its_next_page(client, personas, email, next_path):
    response = _signin(client, email)
    assert response.status_code == 200 and response.json()["next"] == next_path


def test_signing_in_again_replaces_the_session_the_browser_held(
    client, engine, personas, http_settings
):
    assert _signin(client, "ada@test.example").status_code == 200
    old = client.cookies.get(COOKIE)
    assert _signin(client, "ada@test.example").status_code == 200
    new = client.cookies.get(COOKIE)
    assert new and new != old
    assert _resolve(engine, old, http_settings) is None
    assert _resolve(engine, new, http_settings).user_id == personas.client.id


def test_a_wrong_password_is_a_400_with_the_generic_message(client, engine, personas):
    response = _signin(client, "ada@test.example", "wrong horse battery staple")
    assert _assert_error_json(response, 400) == {"form": "Email or password is incorrect."}
    assert "set-cookie" not in response.headers
    assert count(engine, SignInFailure) == 1


def test_throttled_sign_ins_get_429_with_retry_after(client, engine, personas):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            assert (
                _signin(client, "ada@test.example", "wrong horse battery staple").status_code == 400
            )
        response = _signin(client, "ada@test.example")
    errors = _assert_error_json(response, 429)
    assert errors["form"].startswith("Too many attempts")
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60
    assert "set-cookie" not in response.headers


# --- signing out ---------------------------------------------------------------------------------


def test_signing_out_revokes_the_session_and_clears_the_browser(
    client, engine, personas, http_settings
):
    _signin(client, "ada@test.example")
    token = client.cookies.get(COOKIE)
    response = client.post("/auth/signout")
    assert response.status_code == 200 and response.json() == {"ok": True, "next": "/signin"}
    assert response.headers["clear-site-data"] == '"cookies", "storage"'
    deletion = _session_set_cookie(response).lower()
    assert 'kj_session="";' in deletion or "kj_session=;" in deletion
    assert "max-age=0" in deletion
    assert client.cookies.get(COOKIE) is None
    assert _resolve(engine, token, http_settings) is None
    assert [e.actor_id for e in audit_events(engine, "signout")] == [personas.client.id]

    # Replaying the old cookie: harmless, and nothing more is recorded.
    client.cookies.set(COOKIE, token)
    again = client.post("/auth/signout")
    assert again.status_code == 200
    assert len(audit_events(engine, "signout")) == 1
    assert _resolve(engine, token, http_settings) is None


def test_signing_out_without_a_cookie_is_harmless(client, engine, personas):
    response = client.post("/auth/signout")
    assert response.status_code == 200
    assert audit_events(engine) == []


def test_a_staff_cookie_dies_after_fifteen_idle_minutes(client, engine, personas, http_settings):
    with time_machine.travel(T0, tick=False) as traveller:
        assert _signin(client, "cleo@test.example").status_code == 200
        token = client.cookies.get(COOKIE)
        traveller.shift(timedelta(minutes=14))
        # A staff password sign-in is pending until the second factor (auth/two_factor.py).
        assert _resolve(engine, token, http_settings) is None
        assert _pending(engine, token, http_settings) is not None
        traveller.shift(timedelta(minutes=16))
        assert _pending(engine, token, http_settings) is None
        # Signing out with the dead cookie is a clean 200 that clears the browser.
        response = client.post("/auth/signout")
    assert response.status_code == 200 and "clear-site-data" in response.headers
    assert client.cookies.get(COOKIE) is None
    assert audit_events(engine, "signout") == []  # nothing was live to sign out of


# --- cross-site requests -------------------------------------------------------------------------


FOREIGN_ORIGINS = [
    "https://evil.example",
    "null",
    "http://testserver.evil.example",
    "http://testserver:8080",
    "https://testserver",
]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_cannot_sign_in_and_leaves_no_trace(client, engine, personas, origin):
    before = (count(engine, AuditEvent), count(engine, SignInFailure), count(engine, AuthSession))
    response = _signin(client, "ada@test.example", headers={"Origin": origin})
    assert _assert_error_json(response, 403) == {"form": "This request came from another site."}
    assert "set-cookie" not in response.headers
    wrong = _signin(
        client, "ada@test.example", "wrong horse battery staple", headers={"Origin": origin}
    )
    assert wrong.status_code == 403
    assert (
        count(engine, AuditEvent),
        count(engine, SignInFailure),
        count(engine, AuthSession),
    ) == before


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS[:2])
def test_a_foreign_origin_cannot_sign_someone_out(client, engine, personas, http_settings, origin):
    _signin(client, "ada@test.example")
    token = client.cookies.get(COOKIE)
    response = client.post("/auth/signout", headers={"Origin": origin})
    assert response.status_code == 403
    assert _resolve(engine, token, http_settings) is not None
    assert audit_events(engine, "signout") == []


def test_a_foreign_origin_cannot_spend_an_invite(client, engine, personas):
    token = _invite_token(engine, personas)
    response = client.post(
        "/auth/invite/accept",
        headers={"Origin": "https://evil.example"},
        json={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 403
    with db.session_scope(engine) as s:
        assert accounts.invite_status(session=s, token=token).state == "valid"


def test_the_own_origin_is_accepted(client, personas):
    assert (
        _signin(client, "ada@test.example", headers={"Origin": "http://testserver"}).status_code
        == 200
    )


# --- hostile input -------------------------------------------------------------------------------


BAD_BODIES = {
    "malformed_json": b'{"email": "ada@test.example", "password": ',
    "json_list": b'["ada@test.example", "correct horse battery"]',
    "json_string": b'"ada@test.example"',
    "json_null": b"null",
    "json_number": b"42",
    "invalid_utf8": b'{"email": "\xff\xfe"}',
    "five_megabytes": b'{"email": "' + b"a" * (5 * 1024 * 1024) + b'"}',
}
OVERSIZED_FIELDS = {
    "three_megabyte_email": b'{"email": "' + b"a" * (3 * 1024 * 1024) + b'", "password": "x"}',
    "three_megabyte_token": b'{"token": "' + b"t" * (3 * 1024 * 1024) + b'"}',
}


@pytest.mark.parametrize("path", ["/auth/signin", "/auth/invite/accept"])
@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_bad_bodies_get_a_4xx_json_error_never_a_500(client, engine, personas, path, kind):
    response = client.post(
        path, content=BAD_BODIES[kind], headers={"content-type": "application/json"}
    )
    assert "form" in _assert_error_json(response, 400)
    assert count(engine, AuthSession) == 0


@pytest.mark.parametrize("path", ["/auth/signin", "/auth/invite/accept"])
@pytest.mark.parametrize("kind", list(OVERSIZED_FIELDS))
def test_a_three_megabyte_body_gets_a_4xx_json_error(client, engine, personas, path, kind):
    response = client.post(
        path, content=OVERSIZED_FIELDS[kind], headers={"content-type": "application/json"}
    )
    _assert_error_json(response, 400)
    assert count(engine, AuthSession) == 0


# Regression guard: json.loads raises RecursionError (not ValueError) on deeply nested arrays, so
# a 200 kB body of brackets, far under MAX_BODY_BYTES, used to be a 500.
@pytest.mark.parametrize("path", ["/auth/signin", "/auth/invite/accept"])
def test_deeply_nested_json_gets_a_4xx_not_a_500(client, engine, personas, path):
    response = client.post(
        path, content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"}
    )
    assert "form" in _assert_error_json(response, 400)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a" * MB + "@test.example", "password": PASSWORD}, {"email"}),
        ({"email": "ada@test.example", "password": "p" * MB}, {"password"}),
        ({"email": "a" * MB, "password": "p" * MB}, {"email", "password"}),
        ({}, {"email", "password"}),
        ({"email": 123, "password": ["x"]}, {"email", "password"}),
        ({"email": {"$ne": ""}, "password": {"$ne": ""}}, {"email", "password"}),
        ({"email": "ada@test.example", "password": PASSWORD, "extra": "x" * MB}, None),
    ],
    ids=[
        "mb_email",
        "mb_password",
        "mb_both",
        "empty_object",
        "wrong_types",
        "operator_objects",
        "mb_unknown_field",
    ],
)
def test_odd_sign_in_fields_get_field_errors(client, engine, personas, body, fields):
    response = client.post(
        "/auth/signin", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    if fields is None:  # unknown fields are ignored
        assert response.status_code == 200
        return
    errors = _assert_error_json(response, 400)
    assert set(errors) == fields
    assert count(engine, AuthSession) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"token": "t" * MB, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"token": ["t"], "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"token": None},
        {},
    ],
    ids=["mb_token", "list_token", "null_token", "empty_object"],
)
def test_odd_invite_fields_get_field_errors(client, engine, personas, body):
    _invite_token(engine, personas)
    errors = _assert_error_json(client.post("/auth/invite/accept", json=body), 400)
    assert "not valid" in errors["form"]


@pytest.mark.parametrize(
    "password",
    ["p" * MB, None, 12345678901, ["lantern orchard velvet"]],
    ids=["one_megabyte", "null", "number", "list"],
)
def test_odd_invite_passwords_get_a_password_error(client, engine, personas, password):
    token = _invite_token(engine, personas)
    response = client.post(
        "/auth/invite/accept", json={"token": token, "password": password, "confirm": password}
    )
    assert set(_assert_error_json(response, 400)) == {"password"}


# Regression guard: lone UTF-16 surrogates ("\ud800") parse into str values that cannot be
# encoded as UTF-8; account_key(), hash_token() and argon2 raised UnicodeEncodeError, a 500.
@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/auth/signin", b'{"email": "ada@test.example", "password": "\\ud800 long enough"}'),
        ("/auth/signin", b'{"email": "\\udfff@test.example", "password": "whatever it is"}'),
        ("/auth/invite/accept", b'{"token": "\\ud800", "password": "x", "confirm": "x"}'),
    ],
    ids=["signin_password", "signin_email", "invite_token"],
)
def test_lone_surrogates_in_fields_get_a_4xx_not_a_500(client, engine, personas, path, raw):
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    _assert_error_json(response)


# --- invites over HTTP ---------------------------------------------------------------------------


def test_accepting_an_invite_signs_the_client_in_once(client, engine, personas, http_settings):
    token = _invite_token(engine, personas)
    body = {"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = client.post("/auth/invite/accept", json=body)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "next": "/today"}
    header = _session_set_cookie(response).lower()
    assert "httponly" in header and "samesite=strict" in header
    actor = _resolve(engine, client.cookies.get(COOKIE), http_settings)
    assert actor is not None and actor.display_name == "Nia Newcomer"

    again = client.post("/auth/invite/accept", json=body)
    errors = _assert_error_json(again, 400)
    assert "already been used" in errors["form"]
    assert "set-cookie" not in again.headers


def test_a_mismatched_confirmation_is_a_field_error(client, engine, personas):
    token = _invite_token(engine, personas)
    response = client.post(
        "/auth/invite/accept",
        json={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD.upper()},
    )
    assert _assert_error_json(response, 400) == {"confirm": "The two passwords do not match."}


# --- headers and health --------------------------------------------------------------------------


BASELINE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize(
    ("method", "path", "no_store"),
    [
        ("get", "/api/health", True),
        ("post", "/auth/signin", True),
        ("post", "/auth/signout", True),
        ("post", "/auth/invite/accept", True),
        ("get", "/no-such-page", False),
    ],
)
def test_every_response_carries_the_security_headers(client, personas, method, path, no_store):
    response = getattr(client, method)(path)
    for name, value in BASELINE_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers  # plain HTTP
    if no_store:
        assert response.headers["cache-control"] == "no-store"
    else:
        assert "no-store" not in response.headers.get("cache-control", "")


def test_health_answers_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_health_reports_a_broken_database_as_degraded(client, tmp_path, caplog):
    broken = db.make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}")
    db.set_engine(broken)  # the engine fixture restores the default afterwards
    try:
        response = client.get("/api/health")
    finally:
        broken.dispose()
    assert response.status_code == 503 and response.json() == {"status": "degraded"}


def test_sign_in_while_the_database_is_unreachable_is_a_calm_503_at_the_form(
    client, tmp_path, caplog
):
    """Not a 500 page: the sign-in form shows one sentence and keeps what was typed (kj.js
    shows ``errors.form``); the log names the error's class, never the address typed."""
    broken = db.make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}")
    db.set_engine(broken)  # the engine fixture restores the default afterwards
    try:
        with caplog.at_level(logging.WARNING):
            response = _signin(client, "quiet.harbour@example.org")
    finally:
        broken.dispose()
    assert response.status_code == 503
    assert response.json() == {"ok": False, "errors": {"form": UNAVAILABLE}}
    assert response.headers["retry-after"] == "5"
    assert "OperationalError" in caplog.text
    assert "quiet.harbour" not in caplog.text


def test_over_https_the_cookie_is_host_prefixed_and_secure(engine, personas, tmp_path):
    secure = Settings(data_dir=tmp_path / "data", public_url="https://testserver")
    with TestClient(
        create_api(secure), base_url="https://testserver", raise_server_exceptions=False
    ) as c:
        response = _signin(c, "ada@test.example")
        health = c.get("/api/health")
    assert response.status_code == 200
    header = _session_set_cookie(response, "__Host-kj_session")
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    assert health.headers["strict-transport-security"].startswith("max-age=31536000")


def test_a_throttled_native_sign_in_is_told_to_wait():
    assert retry_word("ada@test.example", "anything", throttled=True) == "wait"
    assert RETRY_MESSAGES["wait"][2].startswith("Too many attempts")
