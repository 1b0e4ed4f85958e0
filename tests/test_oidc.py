"""Clinician single sign-on, HTTP tier: the real redirect flow through the ASGI app and a real
OpenID provider on loopback (tests/oidc_provider.py), and the protocol's negative cases."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.clock import now
from kapjourney.domain.models import AuthSession, ExternalIdentity, OidcPendingLogin
from kapjourney.http.app import create_api
from kapjourney.settings import Settings
from tests.conftest import PASSWORD
from tests.oidc_provider import (
    CLIENT_ID,
    authorize,
    oidc_provider_fixture,  # noqa: F401  (the oidc_provider fixture)
    start_and_authorize,
)
from tests.oidc_support import (  # noqa: F401  (fixtures: idp, settings_sso, client)
    CALLBACK,
    CLEO,
    COOKIE,
    FAILED,
    PENDING,
    Person,
    TestClient,
    assert_refused,
    callback,
    client_fixture,
    failure_reasons,
    idp_fixture,
    settings_sso_fixture,
    sso_settings,
)
from tests.support import audit_events, count


def test_it_signs_a_clinician_in_with_the_same_session_as_password_sign_in(
    client, engine, personas, settings_sso, idp
):
    idp.person = CLEO
    response = callback(client, start_and_authorize(client))
    assert response.status_code == 303 and response.headers["location"] == "/clinician"
    [sso_cookie] = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    token = client.cookies.get(COOKIE)
    with db.session_scope(engine) as s:
        actor = sessions.resolve_session(s, token=token, settings=settings_sso)
        row = s.exec(select(AuthSession)).one()
    assert actor.user_id == personas.clinician.id and actor.role == "clinician"
    assert row.absolute_expires_at is not None  # a clinician's 12-hour session, as with a password

    # The very cookie password sign-in sets: same name and attributes, another value.
    client.cookies.clear()
    password = client.post("/auth/signin", json={"email": CLEO.email, "password": PASSWORD})
    [pw_cookie] = [h for h in password.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    assert sso_cookie.split(";")[1:] == pw_cookie.split(";")[1:]
    assert sso_cookie.split(";")[0] != pw_cookie.split(";")[0]

    [signin_event, _] = audit_events(engine, "signin")
    assert signin_event.detail == "method=oidc" and signin_event.actor_id == personas.clinician.id
    assert [e.actor_id for e in audit_events(engine, "sso_linked")] == [personas.clinician.id]
    assert count(engine, OidcPendingLogin) == 0  # used up
    assert client.cookies.get(PENDING) is None  # the binding cookie is cleared


def test_the_flow_uses_pkce_s256_state_and_nonce(client, personas, idp):
    idp.person = CLEO
    started = client.get("/auth/oidc/start", follow_redirects=False)
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [CALLBACK] and "openid" in query["scope"][0].split()
    pending = [h for h in started.headers.get_list("set-cookie") if h.startswith(PENDING)]
    attributes = {p.strip().lower() for p in pending[0].split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=600"} <= attributes
    assert "code_verifier" not in started.headers["location"]


def test_a_later_email_change_at_the_provider_does_not_move_the_account(
    client, engine, personas, idp
):
    idp.person = CLEO
    callback(client, start_and_authorize(client))
    client.cookies.clear()
    idp.person = Person(sub=CLEO.sub, email="uma@test.example")  # now another clinician's email
    response = callback(client, start_and_authorize(client))
    assert response.headers["location"] == "/clinician"
    with db.session_scope(engine) as s:
        actor = sessions.resolve_session(s, token=client.cookies.get(COOKIE))
    assert actor.user_id == personas.clinician.id
    assert count(engine, ExternalIdentity) == 1


def test_it_lands_on_a_safe_return_path_only(client, personas, idp):
    idp.person = CLEO
    url = start_and_authorize(client, "/auth/oidc/start?next=/clinician/alerts")
    assert callback(client, url).headers["location"] == "/clinician/alerts"
    for bad in ("//evil.example/x", "https://evil.example", "/x?y=<script>"):
        client.cookies.clear()
        url = start_and_authorize(client, "/auth/oidc/start?" + urlencode({"next": bad}))
        assert callback(client, url).headers["location"] == "/clinician"


# --- state --------------------------------------------------------------------------------------


def test_a_forged_state_is_refused(client, engine, personas, idp):
    idp.person = CLEO
    genuine = start_and_authorize(client)
    forged = genuine.replace("state=", "state=forged")
    assert_refused(callback(client, forged), engine, "unknown_state")


def test_a_replayed_state_is_refused(client, engine, personas, idp):
    idp.person = CLEO
    started = client.get("/auth/oidc/start", follow_redirects=False)
    pending = client.cookies.get(PENDING)
    url = authorize(started.headers["location"])
    assert callback(client, url).headers["location"] == "/clinician"
    client.cookies.clear()
    client.cookies.set(PENDING, pending)  # even with the browser's own binding cookie again
    again = callback(client, url)
    assert again.headers["location"] == FAILED
    assert failure_reasons(engine) == ["method=oidc reason=unknown_state"]
    assert count(engine, AuthSession) == 1


def test_a_state_started_in_another_browser_is_refused(engine, settings_sso, personas, idp):
    idp.person = CLEO
    app = create_api(settings_sso)
    with TestClient(app) as victim, TestClient(app) as attacker:
        url = start_and_authorize(attacker)
        victim.get("/auth/oidc/start", follow_redirects=False)  # the victim has a binding too
        assert_refused(callback(victim, url), engine, "other_browser")


def test_a_pending_login_expires_after_ten_minutes(client, engine, personas, idp):
    idp.person = CLEO
    url = start_and_authorize(client)
    binding = client.cookies.get(PENDING)
    with time_machine.travel(now() + timedelta(minutes=11)):
        client.cookies.clear()  # the browser would have dropped it (max-age): send it anyway
        client.cookies.set(PENDING, binding)
        assert_refused(callback(client, url), engine, "expired_state")


def test_a_callback_without_state_or_code_is_refused(client, engine, personas, idp):
    assert_refused(callback(client, CALLBACK), engine, "missing_state")
    idp.person = CLEO
    url = start_and_authorize(client)
    no_code = CALLBACK + "?" + urlencode({"state": parse_qs(urlsplit(url).query)["state"][0]})
    assert_refused(callback(client, no_code), engine, "missing_code")


def test_a_refusal_at_the_provider_is_refused_here(client, engine, personas, idp):
    idp.person = None  # the provider answers error=access_denied
    assert_refused(callback(client, start_and_authorize(client)), engine, "provider_refused")


# --- the ID token ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knobs", "reason"),
    [
        ({"nonce": "not-the-nonce-we-sent"}, "id_token_invalid_claim:nonce"),
        ({"expired": True}, "id_token_expired_token:exp"),
        # aud names another client; azp names us: authlib alone would let this through.
        ({"audience": "another-client", "azp": CLIENT_ID}, "id_token_invalid_claim:aud"),
        ({"audience": [CLIENT_ID, "another-client"]}, "id_token_missing_claim:azp"),
        ({"azp": "another-client"}, "id_token_invalid_claim:azp"),
        ({"rogue_key": True}, "id_token_bad_signature"),
        ({"issuer": "http://127.0.0.1:9/evil"}, "id_token_invalid_claim:iss"),
    ],
    ids=["wrong-nonce", "expired", "wrong-aud", "two-aud-no-azp", "wrong-azp", "bad-sig", "iss"],
)
def test_a_bad_id_token_is_refused(client, engine, personas, idp, knobs, reason):
    idp.person = CLEO
    for name, value in knobs.items():
        setattr(idp, name, value)
    assert_refused(callback(client, start_and_authorize(client)), engine, reason)
    assert count(engine, ExternalIdentity) == 0


def test_a_wrong_client_secret_fails_the_code_exchange(engine, tmp_path, personas, idp):
    idp.person = CLEO
    wrong = sso_settings(tmp_path, idp, oidc_client_secret="not-the-secret")
    with TestClient(create_api(wrong)) as c:
        assert_refused(callback(c, start_and_authorize(c)), engine, "token_exchange_failed")


def test_discovery_naming_another_issuer_is_refused(engine, tmp_path, personas, idp):
    """The issuer in the discovery document must be the one configured (the same server reached
    by another name is another issuer)."""
    other_name = idp.origin.replace("127.0.0.1", "localhost")
    with TestClient(create_api(sso_settings(tmp_path, idp, oidc_issuer=other_name))) as c:
        response = c.get("/auth/oidc/start", follow_redirects=False)
    assert_refused(response, engine, "discovery_issuer_mismatch")
    assert count(engine, OidcPendingLogin) == 0


def test_starts_from_one_address_are_limited_like_password_sign_in(engine, tmp_path, idp):
    """Each start stores a pending login and asks the provider: a flood from one address is
    sent back to the sign-in page, which asks them to wait, and stores nothing."""
    limited = sso_settings(tmp_path, idp, signin_requests_per_address_per_minute=2)
    with TestClient(create_api(limited)) as c:
        first, second, third = (c.get("/auth/oidc/start", follow_redirects=False) for _ in range(3))
    assert [r.status_code for r in (first, second, third)] == [303, 303, 303]
    assert first.headers["location"].startswith(idp.origin)
    assert second.headers["location"].startswith(idp.origin)
    assert third.headers["location"] == "/signin?signin=wait"
    assert count(engine, OidcPendingLogin) == 2


# --- configuration and hygiene --------------------------------------------------------------------


def test_without_configuration_start_goes_back_to_sign_in(engine, tmp_path):
    with TestClient(create_api(Settings(data_dir=tmp_path / "d"))) as c:
        response = c.get("/auth/oidc/start", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_a_half_filled_configuration_stops_the_app(tmp_path, idp):
    with pytest.raises(RuntimeError, match="KJ_OIDC_CLIENT_SECRET"):
        create_api(sso_settings(tmp_path, idp, oidc_client_secret=""))
    with pytest.raises(RuntimeError, match="https"):
        create_api(sso_settings(tmp_path, idp, env="production"))


def test_no_token_code_or_claim_reaches_the_logs(client, engine, personas, idp, caplog):
    caplog.set_level(logging.DEBUG)
    idp.person = CLEO
    url = start_and_authorize(client)
    callback(client, url)
    client.cookies.clear()
    idp.nonce = "wrong"
    bad_url = start_and_authorize(client)
    assert callback(client, bad_url).headers["location"] == FAILED
    secrets_seen = [v[0] for u in (url, bad_url) for v in parse_qs(urlsplit(u).query).values()]
    # The app runs in TestClient's portal thread; the main thread is the "browser" and the
    # provider, whose own request lines carry the code and state by design.
    app_lines = [r.getMessage() for r in caplog.records if r.threadName != "MainThread"]
    assert app_lines  # the app's requests to the provider were logged, and are checked
    text = " ".join(app_lines) + " ".join(e.detail for e in audit_events(engine))
    for secret in [*secrets_seen, CLEO.email, CLEO.sub, CLEO.name, "verifier"]:
        assert secret not in text
