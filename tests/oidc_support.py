"""Shared pieces of the single sign-on tests: the provider wired to an app under TestClient,
and what a refusal looks like from the outside."""

from __future__ import annotations

import warnings

import pytest

from kapjourney.domain.models import AuthSession
from kapjourney.http.app import create_api
from kapjourney.settings import Settings
from tests.oidc_provider import CLIENT_ID, Person
from tests.support import audit_events, count

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

COOKIE = "kj_session"
PENDING = "kj_oidc"
CALLBACK = "http://testserver/auth/oidc/callback"
FAILED = "/signin?sso=failed"
CLEO = Person(sub="idp-cleo-1", email="cleo@test.example", name="Cleo at the IdP")


@pytest.fixture(name="idp")
def idp_fixture(oidc_provider):
    """The session's provider, with this app's callback registered and its knobs reset."""
    oidc_provider.allow_redirect(CALLBACK)
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


def sso_settings(tmp_path, idp, **overrides) -> Settings:
    values = {
        "data_dir": tmp_path / "data",
        "public_url": "http://testserver",
        "oidc_issuer": idp.origin,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": idp.client_secret,
        "oidc_clinic": "test",
        "oidc_label": "Sign in with Test IdP",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(name="settings_sso")
def settings_sso_fixture(tmp_path, idp) -> Settings:
    return sso_settings(tmp_path, idp)


@pytest.fixture(name="client")
def client_fixture(engine, settings_sso):
    with TestClient(create_api(settings_sso), raise_server_exceptions=False) as c:
        yield c


def callback(client, url: str, **kwargs):
    return client.get(url, follow_redirects=False, **kwargs)


def failure_reasons(engine) -> list[str]:
    return [e.detail for e in audit_events(engine, "signin_failed")]


def assert_refused(response, engine, reason: str) -> None:
    assert response.status_code == 303 and response.headers["location"] == FAILED
    assert not any(h.startswith(f"{COOKIE}=") for h in response.headers.get_list("set-cookie"))
    assert count(engine, AuthSession) == 0
    assert failure_reasons(engine)[-1] == f"method=oidc reason={reason}"
