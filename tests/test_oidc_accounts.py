"""Clinician single sign-on: which account a verified identity signs into (HTTP tier, real
provider on loopback). Links by verified email to active staff of the provider's clinic only;
creates clinicians only when allowed; never takes a role from the provider or the browser."""

from __future__ import annotations

import pytest
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.models import AuthSession, ExternalIdentity, User
from kapjourney.http.app import create_api
from tests.oidc_provider import (
    Person,
    oidc_provider_fixture,  # noqa: F401  (the oidc_provider fixture)
    start_and_authorize,
)
from tests.oidc_support import (  # noqa: F401  (fixtures: idp, settings_sso, client)
    CLEO,
    COOKIE,
    TestClient,
    assert_refused,
    callback,
    client_fixture,
    idp_fixture,
    settings_sso_fixture,
    sso_settings,
)
from tests.support import audit_events, count

NEWCOMER = Person(sub="idp-new-1", email="Nova.New@Test.Example", name="Nova\u202e New\n")


def _set(engine, user_id: int, **values) -> None:
    with db.session_scope(engine) as s:
        user = s.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        s.add(user)


def _signed_in(engine, client_) -> User | None:
    with db.session_scope(engine) as s:
        actor = sessions.resolve_session(s, token=client_.cookies.get(COOKIE))
        return s.get(User, actor.user_id) if actor else None


def test_an_admin_of_the_clinic_links_by_verified_email(client, engine, personas, idp):
    idp.person = Person(sub="idp-ari", email="ARI@test.example")
    assert callback(client, start_and_authorize(client)).headers["location"] == "/clinician"
    user = _signed_in(engine, client)
    assert user.id == personas.admin.id and user.role == "admin"  # keeps its own role
    with db.session_scope(engine) as s:
        link = s.exec(select(ExternalIdentity)).one()
        assert (link.issuer, link.subject, link.email) == (
            idp.origin,
            "idp-ari",
            "ari@test.example",
        )


def test_an_unverified_email_links_nothing(client, engine, personas, idp):
    idp.person = Person(sub="idp-cleo", email=CLEO.email, email_verified=False)
    assert_refused(callback(client, start_and_authorize(client)), engine, "email_unverified")
    assert count(engine, ExternalIdentity) == 0


def test_a_client_account_is_never_signed_into(client, engine, personas, idp):
    idp.person = Person(sub="idp-ada", email="ada@test.example")
    assert_refused(callback(client, start_and_authorize(client)), engine, "client_account")
    assert audit_events(engine, "signin_failed")[-1].actor_id == personas.client.id
    assert count(engine, ExternalIdentity) == 0


def test_staff_of_another_clinic_are_refused(client, engine, personas, idp):
    idp.person = Person(sub="idp-zed", email="zed@test.example")
    assert_refused(callback(client, start_and_authorize(client)), engine, "other_clinic")


def test_a_deactivated_clinician_is_refused_before_and_after_linking(client, engine, personas, idp):
    idp.person = CLEO
    _set(engine, personas.clinician.id, is_active=False)
    assert_refused(callback(client, start_and_authorize(client)), engine, "inactive")
    _set(engine, personas.clinician.id, is_active=True)
    assert callback(client, start_and_authorize(client)).headers["location"] == "/clinician"
    client.cookies.clear()
    with db.session_scope(engine) as s:
        sessions.revoke_all_sessions(s, user_id=personas.clinician.id)
    _set(engine, personas.clinician.id, is_active=False)
    response = callback(client, start_and_authorize(client))
    assert response.headers["location"] == "/signin?sso=failed"
    assert audit_events(engine, "signin_failed")[-1].detail == "method=oidc reason=inactive"
    assert count(engine, AuthSession, AuthSession.revoked_at.is_(None)) == 0


def test_without_permission_an_unknown_person_gets_no_account(client, engine, personas, idp):
    idp.person = NEWCOMER
    before = count(engine, User)
    assert_refused(callback(client, start_and_authorize(client)), engine, "no_account")
    assert count(engine, User) == before


def test_with_permission_an_unknown_person_becomes_a_clinician_of_the_clinic(
    engine, tmp_path, personas, idp
):
    idp.person = NEWCOMER
    with TestClient(create_api(sso_settings(tmp_path, idp, oidc_allow_create=True))) as c:
        assert callback(c, start_and_authorize(c)).headers["location"] == "/clinician"
        user = _signed_in(engine, c)
    assert user.role == "clinician" and user.clinic_id == personas.clinician.clinic_id
    assert user.email == "nova.new@test.example" and user.password_hash is None
    assert user.display_name == "Nova New"  # control and direction characters dropped
    [created] = audit_events(engine, "sso_account_created")
    assert created.actor_id == user.id


@pytest.mark.parametrize("existing", [False, True])
def test_no_role_is_taken_from_the_browser_or_the_provider(
    engine, tmp_path, personas, idp, existing
):
    """Extra parameters on our routes and role-ish claims in the ID token change nothing."""
    idp.person = CLEO if existing else NEWCOMER
    idp.extra_claims = {"role": "admin", "roles": ["admin"], "groups": ["admin"], "clinic": "other"}
    with TestClient(create_api(sso_settings(tmp_path, idp, oidc_allow_create=True))) as c:
        url = start_and_authorize(c, "/auth/oidc/start?role=admin&clinic=other&clinic_id=2")
        response = callback(c, url + "&role=admin&clinic_id=2&email=ari%40test.example")
        assert response.headers["location"] == "/clinician"
        user = _signed_in(engine, c)
    assert user.role == "clinician" and user.clinic_id == personas.clinician.clinic_id
    assert user.id != personas.admin.id
    if existing:
        assert user.id == personas.clinician.id


def test_a_missing_clinic_is_refused(engine, tmp_path, personas, idp):
    idp.person = CLEO
    with TestClient(create_api(sso_settings(tmp_path, idp, oidc_clinic="nowhere"))) as c:
        assert_refused(callback(c, start_and_authorize(c)), engine, "clinic_not_found")


def test_the_clinic_may_be_named_by_id(engine, tmp_path, personas, idp):
    idp.person = CLEO
    clinic_id = str(personas.clinician.clinic_id)
    with TestClient(create_api(sso_settings(tmp_path, idp, oidc_clinic=clinic_id))) as c:
        assert callback(c, start_and_authorize(c)).headers["location"] == "/clinician"
