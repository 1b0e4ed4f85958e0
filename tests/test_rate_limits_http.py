"""Rate limits on the HTTP routes (issue 7, S11): sign-in per address (and per account, in the
database), invite acceptance per address and per invite, state-changing /api/* per session.
A flood gets 429 with Retry-After and a message for the form; other addresses and sessions
are not slowed."""

from __future__ import annotations

import warnings

import pytest
import time_machine

from kapjourney.domain.models import SignInFailure
from kapjourney.http.app import create_api
from kapjourney.settings import Settings, ensure_local_secrets
from tests.conftest import PASSWORD
from tests.support import T0, count
from tests.test_http_auth import _invite_token

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

ATTACKER = ("203.0.113.7", 40000)
NEIGHBOUR = ("198.51.100.4", 40000)


@pytest.fixture
def settings(tmp_path) -> Settings:
    made = Settings(
        data_dir=tmp_path / "data",
        public_url="http://testserver",
        api_requests_per_session_per_minute=8,
    )
    ensure_local_secrets(made)
    return made


@pytest.fixture
def browsers(engine, settings):
    """Open browsers on ONE app (one set of counters), each from its own address."""
    api = create_api(settings)
    opened: list[TestClient] = []

    def open_browser(address=ATTACKER) -> TestClient:
        client = TestClient(api, raise_server_exceptions=False, client=address)
        opened.append(client.__enter__())
        return client

    yield open_browser
    for client in opened:
        client.__exit__(None, None, None)


def _assert_429(response, longest: int) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["errors"]["form"].startswith("Too many attempts")
    assert 0 < int(response.headers["retry-after"]) <= longest
    assert "set-cookie" not in response.headers


def _signin(client, email: str, password: str = PASSWORD):
    return client.post("/auth/signin", json={"email": email, "password": password})


# --- sign-in -------------------------------------------------------------------------------------


def test_a_sign_in_flood_from_one_address_gets_429_before_any_work(browsers, engine, personas):
    attacker, neighbour = browsers(ATTACKER), browsers(NEIGHBOUR)
    with time_machine.travel(T0, tick=False):
        for _ in range(30):  # blank forms: refused at once, no password hashed
            assert attacker.post("/auth/signin", json={}).status_code == 400
        flooded = _signin(attacker, "ada@test.example")
        assert _signin(neighbour, "ada@test.example").status_code == 200
    _assert_429(flooded, 60)
    assert count(engine, SignInFailure) == 0


def test_the_address_allowance_returns_after_a_minute(browsers, personas):
    attacker = browsers(ATTACKER)
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(31):
            attacker.post("/auth/signin", json={})
        assert attacker.post("/auth/signin", json={}).status_code == 429
        clock.shift(61)
        assert _signin(attacker, "ada@test.example").status_code == 200


def test_an_account_is_locked_after_five_failures_from_any_addresses(browsers, engine, personas):
    """The per-account limit (counted in the database) holds across addresses."""
    with time_machine.travel(T0, tick=False):
        for octet in range(5):
            away = browsers((f"192.0.2.{octet + 1}", 40000))
            assert _signin(away, "ada@test.example", "wrong horse battery").status_code == 400
        locked = _signin(browsers(NEIGHBOUR), "ada@test.example")
        other_account = _signin(browsers(NEIGHBOUR), "otto@test.example")
    _assert_429(locked, 15 * 60)
    assert other_account.status_code == 200


# --- invite acceptance ---------------------------------------------------------------------------


def _accept(client, token: str, password: str = "short"):
    return client.post(
        "/auth/invite/accept", json={"token": token, "password": password, "confirm": password}
    )


def test_one_invite_takes_ten_attempts_in_fifteen_minutes(browsers, engine, personas):
    token = _invite_token(engine, personas)
    with time_machine.travel(T0, tick=False) as clock:
        for octet in range(10):  # from ten addresses: the invite itself is counted
            assert _accept(browsers((f"192.0.2.{octet + 1}", 1)), token).status_code == 400
        flooded = _accept(browsers(NEIGHBOUR), token, "lantern orchard velvet")
        _assert_429(flooded, 15 * 60)
        clock.shift(15 * 60 + 1)
        joined = _accept(browsers(NEIGHBOUR), token, "lantern orchard velvet")
    assert joined.status_code == 200 and joined.json()["ok"] is True


def test_one_address_takes_ten_invite_attempts_and_others_are_not_slowed(
    browsers, engine, personas
):
    attacker, neighbour = browsers(ATTACKER), browsers(NEIGHBOUR)
    with time_machine.travel(T0, tick=False):
        for guess in range(10):
            assert _accept(attacker, f"guess-{guess}").status_code == 400
        flooded = _accept(attacker, "guess-10")
        token = _invite_token(engine, personas)
        joined = _accept(neighbour, token, "lantern orchard velvet")
    _assert_429(flooded, 15 * 60)
    assert joined.status_code == 200


# --- state-changing /api/* routes ----------------------------------------------------------------


def _bad_sync(client):
    return client.post("/api/sync", json={"kind": "nope", "data": {}})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/sync", {"kind": "nope", "data": {}}),
        ("/api/push/permission", {"permission": "maybe"}),
        ("/api/push/unsubscribe", {"endpoint": "x"}),
        ("/api/push/subscriptions", {"subscription": {}}),
        ("/api/notifications/abc/seen", {"event": "shown"}),
    ],
)
def test_each_write_route_spends_the_sessions_allowance(browsers, personas, path, body):
    ada = browsers()
    with time_machine.travel(T0, tick=False):
        assert _signin(ada, "ada@test.example").status_code == 200
        answers = [ada.post(path, json=body).status_code for _ in range(9)]
    assert 429 not in answers[:8] and answers[8] == 429


def test_a_sync_flood_from_one_session_leaves_another_session_alone(browsers, personas):
    ada, otto = browsers(), browsers()  # same address: the session is what is counted
    with time_machine.travel(T0, tick=False):
        assert _signin(ada, "ada@test.example").status_code == 200
        assert _signin(otto, "otto@test.example").status_code == 200
        for _ in range(8):
            assert _bad_sync(ada).status_code == 422
        flooded = _bad_sync(ada)
        assert _bad_sync(otto).status_code == 422
    _assert_429(flooded, 60)
