"""The HTTP routes of the installable app: the service worker script, the VAPID public key, push
subscriptions (only the browsers' push services, stored per device, never echoed), permission
reports, notification receipts, and the offline replay endpoint (idempotent, keeping the true
capture time, running the same services and safety rules as the online path)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import stat
import subprocess
import sys
import threading
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import (
    Alert,
    CheckIn,
    Notification,
    PushSubscription,
    ReminderPreference,
    SubmissionReceipt,
    SymptomReport,
)
from kapjourney.domain.reminders import ALERT_RAISED, CHECKIN_DUE
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.http import push
from kapjourney.http.app import create_api
from kapjourney.notifications.endpoints import MALFORMED, NOT_ALLOWED
from kapjourney.services import outbox, reminders
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import PROJECT_ROOT, Settings, ensure_local_secrets
from tests.journey_support import DOSED, dosed_and_done
from tests.support import audit_events, count
from tests.test_http_auth import TestClient, _assert_error_json, _signin
from tests.two_factor_support import complete_two_factor

ADA, OTTO, CLEO = "ada@test.example", "otto@test.example", "cleo@test.example"
FOREIGN = {"Origin": "https://evil.example"}
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
B64URL_87 = re.compile(r"[A-Za-z0-9_-]{87}")
LOOPBACK_PUSH = "http://127.0.0.1:8123"  # what the test push service would listen on


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def push_settings(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", public_url="http://testserver")
    ensure_local_secrets(settings)  # what `python -m kapjourney.cli init` does
    return settings


@pytest.fixture
def browser(engine, personas, push_settings):
    """Open a browser (its own cookie jar) on the app, signed in as ``email`` unless None."""
    with ExitStack() as stack:

        def open_browser(email: str | None = None, settings: Settings = push_settings):
            c = stack.enter_context(TestClient(create_api(settings), raise_server_exceptions=False))
            if email is not None:
                response = _signin(c, email)
                assert response.status_code == 200
                complete_two_factor(c, response)  # staff: the second factor (issue 7)
            return c

        yield open_browser


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def browser_keys() -> dict[str, str]:
    """Keys as a browser makes them: a fresh P-256 point and a 16-byte auth secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


def fcm_endpoint() -> str:
    token = f"{secrets.token_urlsafe(12)}:APA91b{secrets.token_urlsafe(90)}"
    return f"https://fcm.googleapis.com/fcm/send/{token}"


def subscription(endpoint: str | None = None, keys: dict | None = None) -> dict:
    """``PushSubscription.toJSON()`` as Chrome sends it."""
    return {
        "endpoint": fcm_endpoint() if endpoint is None else endpoint,
        "expirationTime": None,
        "keys": browser_keys() if keys is None else keys,
    }


def subscribe(c, sub: dict, **kwargs):
    return c.post("/api/push/subscriptions", json={"subscription": sub}, **kwargs)


def devices(engine) -> list[PushSubscription]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(PushSubscription).order_by(PushSubscription.id)).all())


def preference(engine, user_id: int) -> ReminderPreference | None:
    with db.session_scope(engine) as s:
        return s.get(ReminderPreference, user_id)


def assert_refused(response, message: str, *secrets_: str) -> None:
    """A 400 naming the subscription, with a message that repeats nothing the browser sent."""
    assert _assert_error_json(response, 400) == {"subscription": message}
    for secret in secrets_:
        if secret:
            assert secret not in response.text


# --- the service worker script -------------------------------------------------------------------


def _wait_for_sw() -> str:
    if not push.SW_PATH.exists():
        pytest.skip("assets/sw.js is not written yet (helper H1)")
    return push.SW_PATH.read_text(encoding="utf-8")


def test_the_service_worker_is_served_uncached_for_the_whole_site(browser):
    source = _wait_for_sw()
    response = browser().get("/sw.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "__KJ_RELEASE__" in source, "sw.js should name its caches after __KJ_RELEASE__"
    assert "__KJ_RELEASE__" not in response.text
    release = push.release_id()
    assert re.fullmatch(r"[0-9a-f]{12}", release)
    assert response.text == source.replace("__KJ_RELEASE__", release)
    assert browser().get("/sw.js").text == response.text  # one release, one script


# --- the VAPID public key ------------------------------------------------------------------------


def _assert_public_key(key: str) -> bytes:
    assert B64URL_87.fullmatch(key), key
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a point on P-256
    return raw


def test_the_public_key_is_an_uncompressed_p256_point_and_stable(browser, push_settings):
    c = browser()
    first = c.get("/api/push/public-key")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    key = first.json()["key"]
    raw = _assert_public_key(key)
    assert c.get("/api/push/public-key").json() == {"key": key}
    # A restarted server (a new app over the same data directory) serves the same key.
    assert browser().get("/api/push/public-key").json() == {"key": key}
    # It is the public half of the private key kept in the data directory.
    pem = push_settings.data_dir / "vapid_private.pem"
    stored = Vapid.from_file(str(pem)).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert stored == raw
    assert "PRIVATE" not in first.text


def test_init_generates_the_vapid_key_into_the_data_dir_owner_only(tmp_path):
    data = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KJ_")}
    env |= {"KJ_ENV": "test", "KJ_DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-m", "kapjourney.cli", "init"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pem = data / "vapid_private.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    before = pem.read_bytes()
    again = subprocess.run(
        [sys.executable, "-m", "kapjourney.cli", "init"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0 and pem.read_bytes() == before  # never regenerated
    settings = Settings(data_dir=data, public_url="http://testserver")
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        key = c.get("/api/push/public-key").json()["key"]
    assert b64url_decode(key) == Vapid.from_file(str(pem)).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def test_the_key_can_come_from_the_environment(engine, tmp_path, monkeypatch):
    private = ec.generate_private_key(ec.SECP256R1())
    raw_private = private.private_numbers().private_value.to_bytes(32, "big")
    expected = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    monkeypatch.setenv("KJ_VAPID_PRIVATE_KEY", b64url(raw_private))
    settings = Settings(data_dir=tmp_path / "env-data", public_url="http://testserver")
    ensure_local_secrets(settings)
    assert not (settings.data_dir / "vapid_private.pem").exists()  # nothing written to disk
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        key = c.get("/api/push/public-key").json()["key"]
        assert c.get("/api/push/public-key").json()["key"] == key
    assert _assert_public_key(key) == expected


# --- subscribing ---------------------------------------------------------------------------------


def test_a_browser_subscription_is_stored_once_for_the_signed_in_person(
    browser, engine, personas, caplog
):
    caplog.set_level(logging.DEBUG)
    ada = browser(ADA)
    sub = subscription()
    response = subscribe(ada, sub, headers={"User-Agent": CHROME_ANDROID})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ok"] is True
    assert body["device"]["label"] == "Chrome on Android"
    assert body["device"]["status"] == "active" and body["device"]["healthy"] is True
    assert sub["endpoint"] not in response.text and sub["keys"]["auth"] not in response.text
    [row] = devices(engine)
    assert (row.user_id, row.endpoint, row.status) == (
        personas.client.id,
        sub["endpoint"],
        "active",
    )
    assert (row.p256dh, row.auth) == (sub["keys"]["p256dh"], sub["keys"]["auth"])
    assert (row.push_host, row.device) == ("fcm.googleapis.com", "Chrome on Android")
    assert body["device"]["device_id"] == row.id
    assert preference(engine, personas.client.id).permission == "granted"
    # The endpoint is a bearer capability: it is in no audit row.
    assert all(sub["endpoint"] not in (e.target + e.detail) for e in audit_events(engine))
    assert sub["endpoint"] not in caplog.text and sub["keys"]["auth"] not in caplog.text


def test_re_saving_updates_the_device_and_never_duplicates_it(browser, engine, personas):
    ada = browser(ADA)
    endpoint = fcm_endpoint()
    assert subscribe(ada, subscription(endpoint)).status_code == 201
    [first] = devices(engine)
    fresh_keys = browser_keys()
    again = subscribe(
        ada, subscription(endpoint, fresh_keys), headers={"User-Agent": CHROME_ANDROID}
    )
    assert again.status_code == 201
    [row] = devices(engine)
    assert row.id == first.id and again.json()["device"]["device_id"] == row.id
    assert (row.p256dh, row.auth) == (fresh_keys["p256dh"], fresh_keys["auth"])
    assert row.device == "Chrome on Android"
    # A second phone is a second device.
    assert subscribe(ada, subscription()).status_code == 201
    assert [d.user_id for d in devices(engine)] == [personas.client.id] * 2


def test_a_subscription_re_saved_by_another_person_moves_to_them(browser, engine, personas):
    endpoint = fcm_endpoint()
    assert subscribe(browser(ADA), subscription(endpoint)).status_code == 201
    # Otto signs in on the same browser later: its one subscription is now his.
    assert subscribe(browser(OTTO), subscription(endpoint)).status_code == 201
    [row] = devices(engine)
    assert row.user_id == personas.other_client.id and row.status == "active"


def test_two_saves_of_a_new_subscription_at_once_make_one_device(browser, engine, personas):
    """The page re-saves on start while the service worker re-saves on pushsubscriptionchange:
    the second save must wait for the first and update its row, not fail on the unique key."""
    ada = browser(ADA)
    sub = subscription()
    checked = reminders.NewDevice(sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"])
    answers: list = []
    with unit_of_work() as s:  # the first save, not yet committed
        reminders.save_device(session=s, actor=personas.actor("client"), device=checked)
        racer = threading.Thread(target=lambda: answers.append(subscribe(ada, sub)))
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive()  # it waits on the first save's row (PostgreSQL) or lock (SQLite)
    racer.join(timeout=30)
    [response] = answers
    assert response.status_code == 201, response.text
    [row] = devices(engine)
    assert (row.user_id, row.status) == (personas.client.id, "active")


def test_a_turned_off_device_is_turned_on_again_by_re_saving(browser, engine, personas):
    ada = browser(ADA)
    sub = subscription()
    subscribe(ada, sub)
    assert ada.post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]}).json() == {
        "ok": True,
        "removed": True,
    }
    assert devices(engine)[0].status == "unsubscribed"
    assert subscribe(ada, sub).status_code == 201
    [row] = devices(engine)
    assert (row.status, row.disabled_at) == ("active", None)


REFUSED_ENDPOINTS = {
    "plain_http": ("http://fcm.googleapis.com/fcm/send/abc123", NOT_ALLOWED),
    "loopback": ("https://127.0.0.1/push/abc123", NOT_ALLOWED),
    "cloud_metadata": ("https://169.254.169.254/latest/meta-data/iam", NOT_ALLOWED),
    "private_network": ("https://10.0.0.1/push/abc123", NOT_ALLOWED),
    "ipv6_loopback": ("https://[::1]/push/abc123", NOT_ALLOWED),
    "decimal_ip": ("https://2130706433/push/abc123", NOT_ALLOWED),
    "unknown_host": ("https://push.evil.example/abc123", NOT_ALLOWED),
    "lookalike_host": ("https://fcm.googleapis.com.evil.example/fcm/send/abc", NOT_ALLOWED),
    "other_port": ("https://fcm.googleapis.com:8443/fcm/send/abc123", NOT_ALLOWED),
    "credentials": ("https://user@fcm.googleapis.com/fcm/send/abc123", NOT_ALLOWED),
    "script_tag": ("https://fcm.googleapis.com/fcm/send/<script>alert(1)</script>", MALFORMED),
    "attribute_break": (
        'https://fcm.googleapis.com/fcm/send/"><img src=x onerror=alert(1)>',
        MALFORMED,
    ),
    "javascript_url": ("javascript:alert(document.cookie)", MALFORMED),
    "not_a_url": ("fcm.googleapis.com/fcm/send/abc123", MALFORMED),
    "too_long": ("https://fcm.googleapis.com/fcm/send/" + "a" * 3000, MALFORMED),
    "empty": ("", MALFORMED),
}


@pytest.mark.parametrize("case", list(REFUSED_ENDPOINTS))
def test_endpoints_off_the_allowlist_are_refused_and_not_stored(browser, engine, case, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint, message = REFUSED_ENDPOINTS[case]
    response = subscribe(browser(ADA), subscription(endpoint))
    host = endpoint.split("//")[-1].split("/")[0]
    assert_refused(response, message, endpoint, host if len(host) > 3 else "")
    assert "<script" not in response.text and "onerror" not in response.text
    assert not endpoint or endpoint not in caplog.text  # nor logged
    assert devices(engine) == []


NOT_ON_CURVE = b64url(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))
GOOD = browser_keys()
BAD_SUBSCRIPTIONS = {
    "short_p256dh": {"p256dh": b64url(os.urandom(33)), "auth": GOOD["auth"]},
    "compressed_point": {"p256dh": b64url(b"\x02" + os.urandom(32)), "auth": GOOD["auth"]},
    "not_on_curve": {"p256dh": NOT_ON_CURVE, "auth": GOOD["auth"]},
    "p256dh_not_base64": {"p256dh": GOOD["p256dh"][:-4] + "<b>!", "auth": GOOD["auth"]},
    "short_auth": {"p256dh": GOOD["p256dh"], "auth": b64url(os.urandom(8))},
    "auth_not_text": {"p256dh": GOOD["p256dh"], "auth": 1234},
    "keys_swapped": {"p256dh": GOOD["auth"], "auth": GOOD["p256dh"]},
    "no_auth": {"p256dh": GOOD["p256dh"]},
    "no_p256dh": {"auth": GOOD["auth"]},
    "empty_keys": {},
}


@pytest.mark.parametrize("case", list(BAD_SUBSCRIPTIONS))
def test_malformed_or_missing_keys_are_refused_and_not_stored(browser, engine, case):
    endpoint = fcm_endpoint()
    response = subscribe(browser(ADA), subscription(endpoint, BAD_SUBSCRIPTIONS[case]))
    assert_refused(response, MALFORMED, endpoint)
    assert devices(engine) == []


SHAPES = {
    "no_keys": json.dumps({"subscription": {"endpoint": "https://fcm.googleapis.com/fcm/send/a"}}),
    "keys_a_list": json.dumps(
        {"subscription": {"endpoint": "https://fcm.googleapis.com/fcm/send/a", "keys": ["x"]}}
    ),
    "subscription_a_string": json.dumps({"subscription": "https://fcm.googleapis.com/fcm/send/a"}),
    "subscription_a_list": json.dumps({"subscription": [1, 2, 3]}),
    "subscription_missing": json.dumps({"endpoint": "https://fcm.googleapis.com/fcm/send/a"}),
    "endpoint_an_object": json.dumps(
        {"subscription": {"endpoint": {"href": "https://fcm.googleapis.com/"}, "keys": GOOD}}
    ),
    "body_a_list": json.dumps([subscription()]),
    "body_null": "null",
    "not_json": "{'subscription': ",
    "lone_surrogate": '{"subscription": {"endpoint": "\\ud800"}}',
    "huge_body": json.dumps({"subscription": subscription(), "pad": "x" * 20_000}),
    "deeply_nested": "[" * 50_000 + "]" * 50_000,
}


@pytest.mark.parametrize("case", list(SHAPES))
def test_a_subscription_of_the_wrong_shape_is_refused_and_not_stored(browser, engine, case):
    response = browser(ADA).post(
        "/api/push/subscriptions",
        content=SHAPES[case],
        headers={"content-type": "application/json"},
    )
    assert_refused(response, MALFORMED, "fcm.googleapis.com/fcm/send/a")
    assert devices(engine) == []


def test_an_operator_allowlist_trusts_exactly_its_own_origins(
    engine, browser, tmp_path, monkeypatch
):
    monkeypatch.setenv("KJ_PUSH_ALLOWED", f"{LOOPBACK_PUSH}, fcm.googleapis.com")
    settings = Settings(data_dir=tmp_path / "data2", public_url="http://testserver")
    ensure_local_secrets(settings)
    assert settings.push_allowed == f"{LOOPBACK_PUSH}, fcm.googleapis.com"
    ada = browser(ADA, settings)
    trusted = f"{LOOPBACK_PUSH}/push/{secrets.token_urlsafe(16)}"
    assert subscribe(ada, subscription(trusted)).status_code == 201
    assert subscribe(ada, subscription(fcm_endpoint())).status_code == 201
    for endpoint in (
        "http://127.0.0.1:8124/push/abc",  # another port on the loopback
        "https://127.0.0.1:8123/push/abc",  # another scheme
        "http://169.254.169.254/latest/meta-data",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",  # not on this list
    ):
        assert_refused(subscribe(ada, subscription(endpoint)), NOT_ALLOWED, endpoint)
    assert sorted(d.push_host for d in devices(engine)) == ["127.0.0.1", "fcm.googleapis.com"]


def test_subscribing_signed_out_is_not_found_and_stores_nothing(browser, engine):
    c = browser()
    response = subscribe(c, subscription())
    assert _assert_error_json(response, 404) == {"form": "not found"}
    c.cookies.set("kj_session", "forged-token-value")
    assert subscribe(c, subscription()).status_code == 404
    assert devices(engine) == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://testserver:8080"])
def test_a_cross_site_subscription_is_refused(browser, engine, origin):
    ada = browser(ADA)
    response = subscribe(ada, subscription(), headers={"Origin": origin})
    assert _assert_error_json(response, 403) == {"form": "This request came from another site."}
    assert devices(engine) == []
    assert (
        subscribe(ada, subscription(), headers={"Origin": "http://testserver"}).status_code == 201
    )


# --- unsubscribing and permission ----------------------------------------------------------------


def test_unsubscribing_turns_off_only_ones_own_device(browser, engine, personas):
    ada, otto = browser(ADA), browser(OTTO)
    sub = subscription()
    subscribe(ada, sub)
    # Someone else naming Ada's endpoint changes nothing and learns nothing.
    stranger = otto.post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]})
    assert stranger.status_code == 200 and stranger.json() == {"ok": True, "removed": False}
    assert otto.post("/api/push/unsubscribe", json={"endpoint": fcm_endpoint()}).json() == {
        "ok": True,
        "removed": False,
    }
    [row] = devices(engine)
    assert (row.status, row.user_id, row.disabled_at) == ("active", personas.client.id, None)
    # Signed out, or from another site: refused.
    signed_out = browser().post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]})
    assert signed_out.status_code == 404
    cross = ada.post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]}, headers=FOREIGN)
    assert cross.status_code == 403
    assert devices(engine)[0].status == "active"
    # Odd bodies are harmless.
    for body in ({}, {"endpoint": None}, {"endpoint": ["x"]}, {"endpoint": "x" * 5000}):
        assert ada.post("/api/push/unsubscribe", json=body).json() == {"ok": True, "removed": False}
    assert ada.post("/api/push/unsubscribe", content=b"[1]").status_code == 400
    # Ada herself turns it off.
    own = ada.post("/api/push/unsubscribe", json={"endpoint": sub["endpoint"]})
    assert own.json() == {"ok": True, "removed": True}
    [row] = devices(engine)
    assert row.status == "unsubscribed" and row.disabled_at is not None


def test_the_notification_permission_is_recorded(browser, engine, personas):
    ada = browser(ADA)
    assert ada.post("/api/push/permission", json={"permission": "denied"}).json() == {"ok": True}
    pref = preference(engine, personas.client.id)
    assert pref.permission == "denied" and pref.permission_at is not None
    assert ada.post("/api/push/permission", json={"permission": "granted"}).status_code == 200
    assert preference(engine, personas.client.id).permission == "granted"
    assert ada.post("/api/push/permission", json={"permission": "default"}).status_code == 200
    assert preference(engine, personas.client.id).permission == "default"
    assert preference(engine, personas.other_client.id) is None


@pytest.mark.parametrize(
    "body",
    [
        {"permission": "maybe"},
        {"permission": None},
        {"permission": ["denied"]},
        {},
        {"permission": 1},
    ],
)
def test_a_junk_permission_is_a_400_and_changes_nothing(browser, engine, personas, body):
    ada = browser(ADA)
    ada.post("/api/push/permission", json={"permission": "denied"})
    response = ada.post("/api/push/permission", json=body)
    assert set(_assert_error_json(response, 400)) == {"permission"}
    assert preference(engine, personas.client.id).permission == "denied"


def test_permission_reports_need_a_session_and_the_own_origin(browser, engine, personas):
    assert browser().post("/api/push/permission", json={"permission": "denied"}).status_code == 404
    ada = browser(ADA)
    cross = ada.post("/api/push/permission", json={"permission": "denied"}, headers=FOREIGN)
    assert cross.status_code == 403
    assert ada.post("/api/push/permission", content=b"not json").status_code == 400
    assert preference(engine, personas.client.id) is None


# --- notification receipts -----------------------------------------------------------------------


@pytest.fixture
def reminder(engine, personas) -> str:
    """Ada's check-in reminder in the outbox; returns its opaque public id."""
    at = datetime.now(UTC)
    with unit_of_work() as s:
        outbox.enqueue(
            s,
            user_id=personas.client.id,
            kind=CHECKIN_DUE,
            slot="2030-01-08",
            due_at=at,
            expires_at=at + timedelta(hours=4),
            url="/checkin",
        )
    with db.session_scope(engine) as s:
        return s.exec(select(Notification.public_id)).one()


def _receipt(engine, public_id: str) -> tuple:
    with db.session_scope(engine) as s:
        row = s.exec(select(Notification).where(Notification.public_id == public_id)).one()
        return row.shown_at, row.clicked_at


def test_only_the_notifications_own_person_can_mark_it_seen(browser, engine, reminder):
    path = f"/api/notifications/{reminder}/seen"
    otto = browser(OTTO)
    assert otto.post(path, json={"event": "shown"}).status_code == 404
    assert otto.post(path, json={"event": "clicked"}).status_code == 404
    assert browser(CLEO).post(path, json={"event": "clicked"}).status_code == 404
    assert browser().post(path, json={"event": "clicked"}).status_code == 404
    ada = browser(ADA)
    assert ada.post(path, json={"event": "clicked"}, headers=FOREIGN).status_code == 403
    assert _receipt(engine, reminder) == (None, None)

    shown = ada.post(path, json={"event": "shown"})
    assert shown.status_code == 204 and shown.content == b""
    shown_at, clicked_at = _receipt(engine, reminder)
    assert shown_at is not None and clicked_at is None
    assert ada.post(path, json={"event": "clicked"}).status_code == 204
    again_shown, clicked_at = _receipt(engine, reminder)
    assert again_shown == shown_at and clicked_at is not None


@pytest.mark.parametrize(
    ("public_id", "body"),
    [
        ("0" * 32, {"event": "shown"}),  # no such notification
        ("not-a-public-id", {"event": "shown"}),
        ("A" * 32, {"event": "shown"}),
        (None, {"event": "opened"}),  # the reminder's id, an unknown event
        (None, {}),
        (None, {"event": ["shown"]}),
        (None, "x" * 2000),  # over the receipt's size limit
    ],
)
def test_odd_receipts_are_not_found_and_change_nothing(browser, engine, reminder, public_id, body):
    ada = browser(ADA)
    path = f"/api/notifications/{public_id or reminder}/seen"
    response = ada.post(path, json=body)
    assert response.status_code == 404
    assert _receipt(engine, reminder) == (None, None)


# --- offline replay: check-ins -------------------------------------------------------------------


MORNING = datetime(2030, 1, 8, 13, 15, tzinfo=UTC)  # 8:15 am in New York, Tuesday
LAST_NIGHT = datetime(2030, 1, 8, 3, 30, tzinfo=UTC)  # 10:30 pm Monday in New York
SID = "0b9e8e3c-4f55-4c1a-a6d2-3f3f2d0a7c11"


def checkin_item(sid: str = SID, captured_at: datetime | str | None = None, **data) -> dict:
    item: dict = {
        "kind": "checkin",
        "submission_id": sid,
        "data": {"day": "today", "mood": 3, "anxiety": 2, "sleep": 4, "energy": 3, "note": ""}
        | data,
    }
    if captured_at is not None:
        item["captured_at"] = (
            captured_at.isoformat() if isinstance(captured_at, datetime) else captured_at
        )
    return item


def checkins(engine) -> list[CheckIn]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(CheckIn).order_by(CheckIn.id)).all())


def stored_nothing(engine) -> bool:
    return checkins(engine) == [] and count(engine, SubmissionReceipt) == 0


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def test_a_replayed_check_in_is_stored_once(browser, engine, personas, morning):
    ada = browser(ADA)
    first = ada.post("/api/sync", json=checkin_item(captured_at=MORNING - timedelta(minutes=20)))
    assert first.status_code == 200, first.text
    assert first.json() == {"ok": True, "status": "stored"}
    assert first.headers["cache-control"] == "no-store"
    # The phone did not hear the answer and sends it again, even with other answers.
    second = ada.post("/api/sync", json=checkin_item(mood=1))
    assert second.status_code == 200 and second.json() == {"ok": True, "status": "duplicate"}
    [row] = checkins(engine)
    assert (row.client_id, row.status, row.mood, row.late) == (
        personas.client.id,
        "submitted",
        3,
        False,
    )
    assert row.local_date.isoformat() == "2030-01-08"
    assert row.captured_at.replace(tzinfo=UTC) == MORNING - timedelta(minutes=20)
    assert count(engine, SubmissionReceipt) == 1
    assert len(audit_events(engine, "checkin_submitted")) == 1


def test_a_check_in_made_last_night_and_replayed_this_morning_is_last_nights(
    browser, engine, personas, morning
):
    response = browser(ADA).post("/api/sync", json=checkin_item(captured_at=LAST_NIGHT))
    assert response.status_code == 200 and response.json()["status"] == "stored"
    [row] = checkins(engine)
    assert row.local_date.isoformat() == "2030-01-07"  # Monday, the day it was made
    assert row.late is True
    assert row.captured_at.replace(tzinfo=UTC) == LAST_NIGHT
    assert row.submitted_at.replace(tzinfo=UTC) == MORNING
    [event] = audit_events(engine, "checkin_submitted")
    assert event.detail == "late"


def test_a_phone_clock_in_the_future_cannot_date_a_check_in(browser, engine, morning):
    tomorrow = MORNING + timedelta(days=1)
    response = browser(ADA).post("/api/sync", json=checkin_item(captured_at=tomorrow))
    assert response.status_code == 200
    [row] = checkins(engine)
    assert row.local_date.isoformat() == "2030-01-08"
    assert row.captured_at.replace(tzinfo=UTC) == MORNING


@pytest.mark.parametrize(
    ("item", "fields"),
    [
        (checkin_item(mood=9), {"mood"}),
        (checkin_item(mood=None, anxiety="lots"), {"mood", "anxiety"}),
        (checkin_item(note="x" * 20_000), {"note"}),
        (checkin_item(day="last week"), {"day"}),
        (checkin_item(sid="short"), {"submission_id"}),
        (checkin_item(sid="../../etc/passwd-xx"), {"submission_id"}),
        ({k: v for k, v in checkin_item().items() if k != "submission_id"}, {"submission_id"}),
    ],
    ids=[
        "mood_out_of_range",
        "missing_and_wrong",
        "long_note",
        "bad_day",
        "short_sid",
        "path_sid",
        "no_sid",
    ],
)
def test_a_check_in_that_fails_validation_is_a_422_with_field_errors(
    browser, engine, morning, item, fields
):
    response = browser(ADA).post("/api/sync", json=item)
    assert set(_assert_error_json(response, 422)) == fields
    assert stored_nothing(engine)


HOSTILE_SYNC = {
    "not_json": b'{"kind": "checkin", ',
    "body_a_list": json.dumps([checkin_item()]).encode(),
    "body_null": b"null",
    "unknown_kind": json.dumps(checkin_item() | {"kind": "admin"}).encode(),
    "kind_a_list": json.dumps(checkin_item() | {"kind": ["checkin"]}).encode(),
    "data_a_list": json.dumps(checkin_item() | {"data": [3, 2, 4]}).encode(),
    "data_missing": json.dumps({"kind": "checkin", "submission_id": SID}).encode(),
    "operator_objects": json.dumps(
        checkin_item(mood={"$gt": 0}, anxiety=[1], sleep=True, note={"x": 1})
    ).encode(),
    "sid_an_object": json.dumps(checkin_item(sid={"$ne": None})).encode(),
    "huge_numbers": json.dumps(checkin_item(mood=10**40, anxiety=-(10**40), sleep=1e308)).encode(),
    "nan_and_infinity": b'{"kind": "checkin", "submission_id": "abcdefgh-1", '
    b'"data": {"day": "today", "mood": NaN, "anxiety": Infinity, "sleep": -Infinity}}',
    "captured_far_future": json.dumps(
        checkin_item(captured_at="9999-12-31T23:59:59-23:59")
    ).encode(),
    "captured_far_past": json.dumps(checkin_item(captured_at="0001-01-01T00:00:00+23:59")).encode(),
    "captured_year_one_utc": json.dumps(
        checkin_item(captured_at="0001-01-01T00:30:00+00:00")
    ).encode(),
    "captured_a_number": json.dumps(checkin_item() | {"captured_at": 10**30}).encode(),
    "lone_surrogate": b'{"kind": "checkin", "submission_id": "abcdefgh-1", '
    b'"data": {"note": "\\ud800"}}',
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
    "oversized": json.dumps(checkin_item(note="x" * 300_000)).encode(),
    "html_note": json.dumps(checkin_item(mood=9, note="<script>alert(1)</script>")).encode(),
}


@pytest.mark.parametrize("case", list(HOSTILE_SYNC))
def test_hostile_replays_get_a_4xx_never_a_500(browser, engine, morning, case):
    response = browser(ADA).post(
        "/api/sync", content=HOSTILE_SYNC[case], headers={"content-type": "application/json"}
    )
    if response.status_code == 200:
        # Only an implausible capture time may still be accepted: it is replaced by now.
        assert case.startswith("captured_")
        [row] = checkins(engine)
        assert row.captured_at.replace(tzinfo=UTC) == MORNING
        return
    _assert_error_json(response, 422)
    assert "<script" not in response.text
    assert stored_nothing(engine)


def test_a_signed_out_replay_is_a_401_and_stores_nothing(browser, engine, morning):
    c = browser()
    response = c.post("/api/sync", json=checkin_item())
    assert _assert_error_json(response, 401) == {"form": "Sign in to send this."}
    c.cookies.set("kj_session", "forged-token-value")
    assert c.post("/api/sync", json=checkin_item()).status_code == 401
    assert stored_nothing(engine)


def test_a_cross_site_replay_is_refused(browser, engine, morning):
    response = browser(ADA).post("/api/sync", json=checkin_item(), headers=FOREIGN)
    assert response.status_code == 403
    assert stored_nothing(engine)


@pytest.mark.parametrize("email", [CLEO, "ari@test.example"])
def test_staff_cannot_replay_a_check_in(browser, engine, personas, morning, email):
    before = len(audit_events(engine, "access_denied"))
    response = browser(email).post("/api/sync", json=checkin_item())
    assert _assert_error_json(response, 404) == {"form": "not found"}
    assert stored_nothing(engine)
    denials = audit_events(engine, "access_denied")
    assert len(denials) == before + 1
    assert denials[-1].actor_id in (personas.clinician.id, personas.admin.id)
    assert denials[-1].outcome == "denied"


# --- offline replay: symptom reports -------------------------------------------------------------


CALM = {key: 0 for key, _ in SYMPTOM_ITEMS}
H24 = 1440


@pytest.fixture
def dosing_id(engine, personas) -> int:
    """Ada's first session, dosed at DOSED and marked done by her clinician."""
    return dosed_and_done(personas.actor("clinician"), personas.client.id)


def report_item(dosing: int, sid: str = "report-7f3a9c21", **data) -> dict:
    return {
        "kind": "symptom_report",
        "submission_id": sid,
        "captured_at": (DOSED + timedelta(hours=24, minutes=30)).isoformat(),
        "data": {"dosing_session_id": dosing, "offset_minutes": H24, "answers": CALM} | data,
    }


def test_a_worrying_report_replayed_twice_raises_one_alert(browser, engine, personas, dosing_id):
    item = report_item(dosing_id, answers=CALM | {"detached": 2})
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        ada = browser(ADA)
        first = ada.post("/api/sync", json=item)
        second = ada.post("/api/sync", json=item)
    assert first.status_code == 200, first.text
    assert first.json() == {"ok": True, "status": "stored", "support": True}
    assert second.json() == {"ok": True, "status": "duplicate", "support": True}
    with db.session_scope(engine) as s:
        [report] = s.exec(select(SymptomReport)).all()
        [alert] = s.exec(select(Alert)).all()
        [paged] = s.exec(select(Notification).where(Notification.kind == ALERT_RAISED)).all()
    assert (report.status, report.triage) == ("submitted", "urgent")
    assert report.captured_at.replace(tzinfo=UTC) == DOSED + timedelta(hours=24, minutes=30)
    assert (alert.source_id, alert.severity, alert.client_id) == (
        report.id,
        "urgent",
        personas.client.id,
    )
    # The care team's push was written in the same transaction, once.
    assert paged.user_id == personas.clinician.id
    assert count(engine, SubmissionReceipt) == 1
    assert len(audit_events(engine, "symptom_report_submitted")) == 1
    # The clinician's device may acknowledge it; the client cannot.
    path = f"/api/notifications/{paged.public_id}/seen"
    with time_machine.travel(DOSED + timedelta(hours=27, minutes=5), tick=False):
        assert browser(ADA).post(path, json={"event": "shown"}).status_code == 404
        assert browser(CLEO).post(path, json={"event": "shown"}).status_code == 204


def test_a_calm_report_replayed_needs_no_support(browser, engine, personas, dosing_id):
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        response = browser(ADA).post("/api/sync", json=report_item(dosing_id))
    assert response.json() == {"ok": True, "status": "stored", "support": False}
    assert count(engine, SymptomReport) == 1 and count(engine, Alert) == 0


@pytest.mark.parametrize(
    ("data", "status", "fields"),
    [
        ({"answers": CALM | {"nausea": 7}}, 422, {"nausea"}),
        ({"answers": {}}, 422, set(CALM)),
        ({"answers": CALM, "systolic": "180"}, 422, {"diastolic"}),
        ({"offset_minutes": 10**20}, 404, {"form"}),
        ({"offset_minutes": "1440; DROP TABLE alert"}, 404, {"form"}),
        ({"dosing_session_id": 10**20}, 404, {"form"}),
        ({"dosing_session_id": {"$ne": 0}}, 404, {"form"}),
    ],
    ids=[
        "severity_out_of_range",
        "no_answers",
        "half_a_reading",
        "huge_offset",
        "sql_offset",
        "huge_dosing_id",
        "operator_dosing_id",
    ],
)
def test_a_bad_report_replay_gets_a_4xx_and_stores_nothing(
    browser, engine, dosing_id, data, status, fields
):
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        response = browser(ADA).post("/api/sync", json=report_item(dosing_id, **data))
    assert set(_assert_error_json(response, status)) == fields
    assert count(engine, SubmissionReceipt) == 0 and count(engine, Alert) == 0
    with db.session_scope(engine) as s:
        assert all(r.status == "draft" for r in s.exec(select(SymptomReport)).all())


@pytest.mark.parametrize(
    "captured_at",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "2030-01-09T15:00:00",  # no offset
        "yesterday",
        (DOSED - timedelta(hours=1)).isoformat(),  # before the dose
        (DOSED + timedelta(days=30)).isoformat(),  # in the future
    ],
)
def test_an_implausible_report_capture_time_is_a_field_error(
    browser, engine, dosing_id, captured_at
):
    item = report_item(dosing_id, answers=CALM | {"detached": 2}) | {"captured_at": captured_at}
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        response = browser(ADA).post("/api/sync", json=item)
    assert set(_assert_error_json(response, 422)) == {"captured_at"}
    assert count(engine, SubmissionReceipt) == 0 and count(engine, Alert) == 0


def test_no_one_else_can_replay_a_report_for_her_session(browser, engine, personas, dosing_id):
    item = report_item(dosing_id, answers=CALM | {"detached": 2})
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        for email in (CLEO, OTTO):
            response = browser(email).post("/api/sync", json=item)
            assert _assert_error_json(response, 404) == {"form": "not found"}
    denials = audit_events(engine, "access_denied")
    assert {e.actor_id for e in denials} == {personas.clinician.id, personas.other_client.id}
    assert count(engine, SubmissionReceipt) == 0 and count(engine, Alert) == 0


# --- offline replay: the owner tag ---------------------------------------------------------------

OTHER_ACCOUNT = "This was saved on this phone under another account, so it was not sent."


def test_the_owner_tag_is_a_keyed_hash_of_the_person(personas, push_settings, tmp_path):
    ada = push.owner_tag(personas.client.id, push_settings)
    assert re.fullmatch(r"[0-9a-f]{24}", ada)
    assert ada == push.owner_tag(personas.client.id, push_settings)  # stable per person
    assert ada != push.owner_tag(personas.other_client.id, push_settings)
    other_server = Settings(data_dir=tmp_path / "elsewhere")
    ensure_local_secrets(other_server)
    assert ada != push.owner_tag(personas.client.id, other_server)  # keyed by the secret


def test_an_entry_queued_under_another_account_is_refused_and_stores_nothing(
    browser, engine, personas, push_settings, morning, caplog
):
    ada_tag = push.owner_tag(personas.client.id, push_settings)
    # Ada saved a check-in on a shared phone; Otto signed in there before it was sent.
    with caplog.at_level(logging.WARNING, logger="kapjourney.http.push"):
        response = browser(OTTO).post("/api/sync", json=checkin_item() | {"owner": ada_tag})
    assert _assert_error_json(response, 422) == {"form": OTHER_ACCOUNT}
    assert stored_nothing(engine)
    assert ada_tag not in caplog.text and "another account" in caplog.text


@pytest.mark.parametrize(
    "owner",
    ["", "0" * 24, ["tag"], {"$ne": None}, 12345, "é" * 24],
    ids=["empty", "zeros", "list", "operator", "number", "non_ascii"],
)
def test_a_forged_or_malformed_owner_is_refused(browser, engine, morning, owner):
    response = browser(ADA).post("/api/sync", json=checkin_item() | {"owner": owner})
    assert _assert_error_json(response, 422) == {"form": OTHER_ACCOUNT}
    assert stored_nothing(engine)


def test_an_entry_with_the_owners_tag_is_stored(browser, engine, personas, push_settings, morning):
    tag = push.owner_tag(personas.client.id, push_settings)
    response = browser(ADA).post("/api/sync", json=checkin_item() | {"owner": tag})
    assert response.status_code == 200 and response.json() == {"ok": True, "status": "stored"}
    assert [row.client_id for row in checkins(engine)] == [personas.client.id]
    assert count(engine, SubmissionReceipt) == 1


def test_an_entry_without_an_owner_is_stored_as_before(browser, engine, personas, morning):
    item = checkin_item()
    assert "owner" not in item
    response = browser(ADA).post("/api/sync", json=item)
    assert response.status_code == 200 and response.json()["status"] == "stored"
    assert [row.client_id for row in checkins(engine)] == [personas.client.id]


def test_a_report_queued_under_another_account_is_refused_before_anything_is_stored(
    browser, engine, personas, push_settings, dosing_id
):
    # Otto cannot reach Ada's session anyway; the owner check refuses it first, with its own
    # message, and not even a draft or an access-denied event is written.
    ada_tag = push.owner_tag(personas.client.id, push_settings)
    item = report_item(dosing_id, answers=CALM | {"self_harm": 1}) | {"owner": ada_tag}
    before = len(audit_events(engine, "access_denied"))
    with time_machine.travel(DOSED + timedelta(hours=27), tick=False):
        refused = browser(OTTO).post("/api/sync", json=item)
        assert _assert_error_json(refused, 422) == {"form": OTHER_ACCOUNT}
        assert count(engine, SymptomReport) == 0 and count(engine, Alert) == 0
        assert len(audit_events(engine, "access_denied")) == before
        # The same entry under Ada's own sign-in goes through, with its alert.
        stored = browser(ADA).post("/api/sync", json=item)
    assert stored.json() == {"ok": True, "status": "stored", "support": True}
    assert count(engine, SymptomReport) == 1 and count(engine, Alert) == 1
