"""Which push subscriptions the server accepts: known push services over HTTPS, or an exact
origin the operator trusts; well-formed P-256 keys. Everything else gets a clear refusal that
never repeats the endpoint."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kapjourney.domain.errors import ValidationFailed
from kapjourney.notifications.endpoints import (
    DEFAULT_PUSH_HOSTS,
    MALFORMED,
    NOT_ALLOWED,
    Allowlist,
    Subscription,
    check_endpoint,
    check_keys,
    check_subscription,
    is_public_ip,
    resolve_is_public,
)

DEFAULTS = Allowlist.parse("")
TEST_ORIGIN = "http://127.0.0.1:8123"
WITH_TEST_ORIGIN = Allowlist(hosts=DEFAULT_PUSH_HOSTS, origins=(TEST_ORIGIN,))


def b64url(raw: bytes, *, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode("ascii")
    return text if padded else text.rstrip("=")


def browser_keys() -> tuple[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point), b64url(os.urandom(16))


def refusal(call, *, secret: str = "") -> str:
    """The message of the ``ValidationFailed`` that ``call`` raises; it never repeats ``secret``."""
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert set(caught.value.fields) == {"subscription"}
    if secret.strip():
        assert secret.strip() not in str(caught.value)
    return caught.value.fields["subscription"]


# -- endpoints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dXk1:APA91bH-x_y0Z",
        "https://android.googleapis.com/gcm/send/abc",
        "https://web.push.apple.com/QGuQyavXutnMHdYaS5a8vK",  # via *.push.apple.com
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABhZ",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2bx%3d",
        "https://fcm.googleapis.com:443/fcm/send/explicit-default-port",
        "https://FCM.googleapis.com/fcm/send/upper-case-host",
    ],
)
def test_it_accepts_the_browsers_push_services(endpoint):
    assert check_endpoint(endpoint, DEFAULTS) == endpoint


def test_it_accepts_an_exact_trusted_origin():
    endpoint = f"{TEST_ORIGIN}/push/abc"
    assert check_endpoint(endpoint, WITH_TEST_ORIGIN) == endpoint
    assert check_endpoint("https://fcm.googleapis.com/fcm/send/x", WITH_TEST_ORIGIN)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not HTTPS
        "https://127.0.0.1/push/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/push/x",
        "https://10.0.0.8/push/x",
        "https://2130706433/push/x",  # 127.0.0.1 spelt as one number
        "https://0x7f.0.0.1/push/x",
        "https://127.1/push/x",
        "https://localhost/push/x",
        "https://evil.example/push/x",
        "https://push.apple.com/x",  # the wildcard covers subdomains only
        "https://evil-push.apple.com/x",
        "https://fcm.googleapis.com.evil.com/x",
        "https://fcm.googleapis.com:8443/fcm/send/x",
        "ftp://fcm.googleapis.com/x",
        "http://127.0.0.1:8124/push/x",  # a trusted origin, but another port
        "https://127.0.0.1:8123/push/x",  # ... another scheme
    ],
)
def test_it_refuses_endpoints_outside_the_allowlist(endpoint):
    message = refusal(lambda: check_endpoint(endpoint, WITH_TEST_ORIGIN), secret=endpoint)
    assert message == NOT_ALLOWED


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com@evil.com/x",
        "https://user:secret@fcm.googleapis.com/x",
        "https://fcm.googleapis.com/fcm/send/x#fragment",
        "https://fcm.googleapis.com/fcm/send/x#",
        "https://fcm.googleapis.com/" + "a" * 2030,
        "https://fcm.googleapis.com/<script>alert(1)</script>",
        'https://fcm.googleapis.com/x"onmouseover="alert(1)',
        "javascript:alert(1)",
        "https://fcm.googleapis.com/caf\u00e9",
        "https://f\u0441m.googleapis.com/x",  # a Cyrillic "с"
        "https://fcm.googleapis.com/x\n",
        " https://fcm.googleapis.com/x",
        "https://evil.com\\@fcm.googleapis.com/x",
        "https://fcm.googleapis.com:99999/x",
        "//fcm.googleapis.com/x",
        "fcm.googleapis.com/x",
        "",
    ],
)
def test_it_refuses_malformed_endpoints_without_repeating_them(endpoint):
    message = refusal(lambda: check_endpoint(endpoint, DEFAULTS), secret=endpoint)
    assert message in (MALFORMED, NOT_ALLOWED)


@pytest.mark.parametrize("value", [None, 42, b"https://fcm.googleapis.com/x", ["x"], {"a": 1}])
def test_it_refuses_an_endpoint_that_is_not_text(value):
    assert refusal(lambda: check_endpoint(value, DEFAULTS)) == MALFORMED


def test_the_longest_endpoint_accepted_is_2048_characters():
    base = "https://fcm.googleapis.com/fcm/send/"
    longest = base + "a" * (2048 - len(base))
    assert check_endpoint(longest, DEFAULTS) == longest
    assert refusal(lambda: check_endpoint(longest + "a", DEFAULTS)) == MALFORMED


# -- the allowlist setting ---------------------------------------------------------------------


def test_an_empty_setting_means_the_browsers_push_services():
    assert Allowlist.parse("") == Allowlist(hosts=DEFAULT_PUSH_HOSTS, origins=())
    assert Allowlist.parse(" , ") == Allowlist(hosts=DEFAULT_PUSH_HOSTS, origins=())


def test_a_setting_lists_hosts_and_exact_origins_and_replaces_the_defaults():
    allowlist = Allowlist.parse(" Push.Example.org, *.push.example.net, http://127.0.0.1:8123/ ")
    assert allowlist.hosts == ("push.example.org", "*.push.example.net")
    assert allowlist.origins == (TEST_ORIGIN,)
    assert check_endpoint("https://a.push.example.net/x", allowlist)
    assert refusal(lambda: check_endpoint("https://fcm.googleapis.com/x", allowlist))


def test_a_trusted_origin_spelt_with_its_default_port_matches_without_it():
    allowlist = Allowlist.parse("https://push.internal.example:443")
    assert allowlist.origins == ("https://push.internal.example",)
    assert check_endpoint("https://push.internal.example/x", allowlist)


@pytest.mark.parametrize(
    "setting",
    ["*", "*.com", "bad host", "push..example.org", "http://127.0.0.1:8123/path", "http://x:port"],
)
def test_a_malformed_setting_is_a_configuration_error(setting):
    with pytest.raises(ValueError, match="push allowlist"):
        Allowlist.parse(setting)


# -- keys --------------------------------------------------------------------------------------


def test_it_accepts_browser_keys_with_or_without_padding():
    p256dh, auth = browser_keys()
    assert check_keys(p256dh, auth) == (p256dh, auth)
    padded = (p256dh + "=", auth + "==")
    assert check_keys(*padded) == (p256dh, auth)
    assert len(p256dh) == 87 and len(auth) == 22


NOT_ON_CURVE = b64url(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [
        ("not base64 at all!", "AAAAAAAAAAAAAAAAAAAAAA"),  # p256dh not base64url
        (None, "AAAAAAAAAAAAAAAAAAAAAA"),
        ("VALID", "not+base/64"),
        (b64url(os.urandom(64)), "VALID"),  # 64 bytes
        (b64url(b"\x04" + os.urandom(65)), "VALID"),  # 66 bytes
        (NOT_ON_CURVE, "VALID"),  # 65 bytes, 0x04 prefix, but not a point on P-256
        ("COMPRESSED", "VALID"),  # 0x02 prefix: a compressed point is not what browsers send
        ("VALID", b64url(os.urandom(15))),
        ("VALID", b64url(os.urandom(17))),
        ("VALID", 16),
    ],
)
def test_it_refuses_malformed_keys(p256dh, auth):
    good_key, good_auth = browser_keys()
    if p256dh == "VALID":
        p256dh = good_key
    if p256dh == "COMPRESSED":
        p256dh = b64url(b"\x02" + base64.urlsafe_b64decode(good_key + "=")[1:])
    if auth == "VALID":
        auth = good_auth
    assert refusal(lambda: check_keys(p256dh, auth)) == MALFORMED


# -- a whole subscription ----------------------------------------------------------------------


def test_it_takes_a_browsers_subscription_json():
    p256dh, auth = browser_keys()
    data = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "expirationTime": None,
        "keys": {"p256dh": p256dh, "auth": auth},
    }
    subscription = check_subscription(data, DEFAULTS)
    assert subscription == Subscription(data["endpoint"], p256dh, auth)
    assert subscription.host == "fcm.googleapis.com"


@pytest.mark.parametrize(
    "data",
    [
        None,
        "https://fcm.googleapis.com/fcm/send/abc",
        {"endpoint": "https://fcm.googleapis.com/fcm/send/abc"},
        {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": "x"},
        {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": {"p256dh": "x"}},
        {"keys": {"p256dh": "KEY", "auth": "AUTH"}},
        {"endpoint": "https://evil.example/x", "keys": {"p256dh": "KEY", "auth": "AUTH"}},
    ],
)
def test_it_refuses_an_incomplete_or_foreign_subscription(data):
    p256dh, auth = browser_keys()
    if isinstance(data, dict) and isinstance(data.get("keys"), dict) and "auth" in data["keys"]:
        data = {**data, "keys": {"p256dh": p256dh, "auth": auth}}
    assert refusal(lambda: check_subscription(data, DEFAULTS)) in (MALFORMED, NOT_ALLOWED)


# -- send-time address checks ------------------------------------------------------------------


def test_localhost_and_unresolvable_names_are_not_public():
    assert resolve_is_public("localhost") is False
    assert resolve_is_public("127.0.0.1") is False
    assert resolve_is_public("no-such-host.invalid") is False


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # shared address space (carrier NAT)
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("not an address", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address, public):
    assert is_public_ip(address) is public
