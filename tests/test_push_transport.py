"""The Web Push transport against a real push service on loopback (tests/push_service.py): what
arrives is decrypted intact and properly signed, and every answer a push service gives, or
fails to give, becomes the outcome the dispatcher needs."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from pywebpush import WebPushException, webpush

from kapjourney.notifications.endpoints import DEFAULT_PUSH_HOSTS, Allowlist
from kapjourney.notifications.transport import (
    MAX_PAYLOAD_BYTES,
    PushSession,
    SendResult,
    Target,
    WebPushTransport,
    parse_retry_after,
)
from tests.push_fakes import RecordingTransport
from tests.push_service import (
    PushService,
    make_subscription,
    new_vapid,
    public_key_b64,
    push_service_fixture,  # noqa: F401  (the push_service fixture)
    running_push_service,
)

SUBJECT = "mailto:ops@clinic.example.org"
PAYLOAD = {
    "title": "Time for your daily check-in",
    "body": "It takes a minute. Ça va?",
    "url": "/checkin",
    "id": "n_5f2c",
}
OPTIONS = {"ttl": 3600, "urgency": "normal", "topic": "checkin"}


def target(subscription: dict) -> Target:
    keys = subscription["keys"]
    return Target(subscription["endpoint"], keys["p256dh"], keys["auth"])


def transport_for(*services: PushService, **kwargs) -> WebPushTransport:
    allowlist = Allowlist(hosts=DEFAULT_PUSH_HOSTS, origins=tuple(s.origin for s in services))
    kwargs.setdefault("vapid_private_key", services[0].vapid)
    return WebPushTransport(subject=SUBJECT, allowlist=allowlist, **kwargs)


@pytest.fixture(scope="module")
def other_service(push_service: PushService):
    """A second push service on another port, expecting the same VAPID key."""
    with running_push_service(vapid=push_service.vapid) as service:
        yield service


@pytest.fixture
def transport(push_service: PushService, other_service: PushService):
    sender = transport_for(push_service, other_service)
    yield sender
    sender.close()


# -- delivery ----------------------------------------------------------------------------------


def test_the_payload_arrives_decrypted_and_intact_with_a_valid_vapid_token(
    transport,
    push_service,
):
    subscription = make_subscription(push_service)
    before = time.time()

    result = transport.send(target(subscription), PAYLOAD, ttl=43200, urgency="high", topic="ci")

    assert result == SendResult("sent", 201)
    [delivery] = push_service.deliveries_for(subscription)
    assert delivery.payload == PAYLOAD
    assert delivery.raw == (
        b'{"title":"Time for your daily check-in","body":"It takes a minute. \xc3\x87a va?",'
        b'"url":"/checkin","id":"n_5f2c"}'
    )
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (43200, "high", "ci")
    assert delivery.claims["aud"] == push_service.origin
    assert delivery.claims["sub"] == SUBJECT
    assert before < delivery.claims["exp"] <= before + 24 * 3600 + 1


def test_without_a_topic_no_topic_header_is_sent(transport, push_service):
    subscription = make_subscription(push_service)
    assert transport.send(
        target(subscription), PAYLOAD, ttl=0, urgency="low", topic=None
    ).outcome == ("sent")
    [delivery] = push_service.deliveries_for(subscription)
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (0, "low", None)


def test_each_send_signs_fresh_claims_for_its_own_push_service(
    transport,
    push_service,
    other_service,
):
    first, second = make_subscription(push_service), make_subscription(other_service)

    outcomes = [
        transport.send(target(sub), PAYLOAD, **OPTIONS).outcome
        for sub in (first, second, first, second)
    ]

    assert outcomes == ["sent"] * 4
    assert [d.claims["aud"] for d in push_service.deliveries_for(first)] == [
        push_service.origin
    ] * 2
    assert [d.claims["aud"] for d in other_service.deliveries_for(second)] == [
        other_service.origin
    ] * 2


def test_the_two_services_would_catch_a_claims_dict_reused_across_sends(
    push_service,
    other_service,
):
    """The control for the test above: pywebpush writes "aud" into the dict it is given, so a
    shared dict carries the first service's audience to the second, which refuses it."""
    shared = {"sub": SUBJECT}
    first, second = make_subscription(push_service), make_subscription(other_service)
    sends = {"vapid_private_key": push_service.vapid, "vapid_claims": shared, "timeout": 5}
    webpush(first, data="{}", **sends)
    with pytest.raises(WebPushException) as refused:
        webpush(second, data="{}", **sends)
    assert refused.value.response.status_code == 403
    assert other_service.hits_for(second)[0].reason == "aud is not this push service"


# -- what the push service says ----------------------------------------------------------------


@pytest.mark.parametrize(("behaviour", "status"), [("gone", 410), ("not_found", 404)])
def test_an_expired_subscription_is_gone_for_good(transport, push_service, behaviour, status):
    subscription = make_subscription(push_service, behaviour)
    result = transport.send(target(subscription), PAYLOAD, **OPTIONS)
    assert result == SendResult("gone", status, permanent=True)
    assert push_service.deliveries_for(subscription) == []


def test_rate_limiting_reports_when_to_try_again(transport, push_service):
    subscription = make_subscription(push_service, "rate_limited:1:7")

    first = transport.send(target(subscription), PAYLOAD, **OPTIONS)
    second = transport.send(target(subscription), PAYLOAD, **OPTIONS)

    assert first == SendResult("rate_limited", 429, retry_after=7.0, permanent=False)
    assert second.outcome == "sent"
    assert len(push_service.deliveries_for(subscription)) == 1


def test_a_server_error_is_transient(transport, push_service):
    subscription = make_subscription(push_service, "error:1")

    first = transport.send(target(subscription), PAYLOAD, **OPTIONS)
    second = transport.send(target(subscription), PAYLOAD, **OPTIONS)

    assert first == SendResult("server_error", 503, permanent=False)
    assert second.outcome == "sent"


def test_a_push_service_slower_than_the_timeout_is_a_timeout(push_service, other_service):
    quick = transport_for(push_service, other_service, timeout=0.5)
    subscription = make_subscription(push_service, "slow:2")
    started = time.monotonic()

    result = quick.send(target(subscription), PAYLOAD, **OPTIONS)

    assert result == SendResult("timeout", permanent=False)
    assert time.monotonic() - started < 1.5
    quick.close()


def test_a_push_service_that_cannot_be_reached_is_a_transient_error(push_service):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    sender = WebPushTransport(
        vapid_private_key=push_service.vapid,
        subject=SUBJECT,
        allowlist=Allowlist(origins=(closed,)),
    )
    subscription = make_subscription(push_service)
    moved = {**target(subscription).__dict__, "endpoint": closed + "/push/x"}

    assert sender.send(Target(**moved), PAYLOAD, **OPTIONS) == SendResult("error")


def test_a_redirect_is_not_followed(transport, push_service):
    subscription = make_subscription(push_service, "redirect")

    result = transport.send(target(subscription), PAYLOAD, **OPTIONS)

    assert result == SendResult("rejected", 307, permanent=True)
    assert [hit.path.split("/")[1] for hit in push_service.hits_for(subscription)] == ["push"]
    assert push_service.deliveries_for(subscription) == []  # the /accept target got nothing


def test_a_push_service_that_does_not_know_our_key_rejects_and_we_warn_without_the_endpoint(
    transport,
    push_service,
    caplog,
):
    stranger = public_key_b64(new_vapid())
    subscription = make_subscription(push_service, application_server_key=stranger)

    with caplog.at_level(logging.DEBUG, logger="kapjourney"):
        result = transport.send(target(subscription), PAYLOAD, **OPTIONS)

    assert result == SendResult("rejected", 403, permanent=True)
    assert push_service.hits_for(subscription)[0].reason.startswith("key does not match")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("VAPID" in r.getMessage() for r in warnings)
    assert_nothing_secret_logged(caplog, subscription)


# -- refused before any request ----------------------------------------------------------------


def test_an_endpoint_outside_the_allowlist_is_refused_without_a_request(
    push_service,
    other_service,
):
    only_first = transport_for(push_service)
    subscription = make_subscription(other_service)

    result = only_first.send(target(subscription), PAYLOAD, **OPTIONS)

    assert result == SendResult("refused", permanent=True)
    assert other_service.hits_for(subscription) == []


def test_an_allowlisted_host_that_resolves_to_a_private_address_is_refused(push_service):
    sender = WebPushTransport(
        vapid_private_key=push_service.vapid,
        subject=SUBJECT,
        allowlist=Allowlist(hosts=("localhost",)),
    )
    subscription = make_subscription(push_service)
    local = Target("https://localhost/push/x", **subscription["keys"])

    assert sender.send(local, PAYLOAD, **OPTIONS) == SendResult("refused", permanent=True)


def test_the_session_will_not_connect_to_a_private_address_unless_the_origin_is_trusted(
    push_service,
):
    """The check on the socket actually opened: DNS rebinding between the send-time lookup and
    the connection cannot reach the private network."""
    subscription = make_subscription(push_service)
    url = subscription["endpoint"]

    with PushSession() as guarded, pytest.raises(requests.exceptions.ConnectionError):
        guarded.post(url, data=b"x", timeout=5)
    assert push_service.hits_for(subscription) == []

    with PushSession(trusted_origins=(push_service.origin,)) as trusting:
        assert trusting.post(url, data=b"x", timeout=5).status_code == 401  # reached; no VAPID
    assert [hit.status for hit in push_service.hits_for(subscription)] == [401]


def test_a_payload_too_large_for_push_services_is_rejected_without_a_request(
    transport,
    push_service,
):
    subscription = make_subscription(push_service)
    big = {"body": "x" * MAX_PAYLOAD_BYTES}

    assert transport.send(target(subscription), big, **OPTIONS) == SendResult(
        "rejected", permanent=True
    )
    assert push_service.hits_for(subscription) == []


def test_malformed_keys_are_rejected_without_a_request(transport, push_service):
    subscription = make_subscription(push_service)
    broken = Target(subscription["endpoint"], subscription["keys"]["p256dh"][:-4], "short")

    assert transport.send(broken, PAYLOAD, **OPTIONS) == SendResult("rejected", permanent=True)
    assert push_service.hits_for(subscription) == []


@pytest.mark.parametrize(
    "options",
    [
        {"ttl": -1, "urgency": "normal", "topic": None},
        {"ttl": 3600.5, "urgency": "normal", "topic": None},
        {"ttl": 3600, "urgency": "urgent", "topic": None},
        {"ttl": 3600, "urgency": "normal", "topic": "has space"},
        {"ttl": 3600, "urgency": "normal", "topic": "x" * 33},
        {"ttl": 3600, "urgency": "normal", "topic": ""},
    ],
)
def test_options_no_push_service_accepts_are_a_programming_error(transport, push_service, options):
    subscription = make_subscription(push_service)
    with pytest.raises(ValueError):
        transport.send(target(subscription), PAYLOAD, **options)
    with pytest.raises(ValueError):
        RecordingTransport().send(target(subscription), PAYLOAD, **options)
    assert push_service.hits_for(subscription) == []


def test_a_subject_push_services_refuse_is_a_configuration_error(push_service):
    with pytest.raises(ValueError, match="subject"):
        WebPushTransport(vapid_private_key=push_service.vapid, subject="ops", allowlist=Allowlist())


# -- logging -----------------------------------------------------------------------------------


def assert_nothing_secret_logged(caplog, subscription: dict) -> None:
    secrets = [
        subscription["endpoint"],
        subscription["endpoint"].rsplit("/", 1)[-1],
        subscription["keys"]["p256dh"],
        subscription["keys"]["auth"],
        "check-in",
    ]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("kapjourney")]
    assert ours, "the transport logs each outcome"
    for message in ours:
        assert not any(secret in message for secret in secrets), message


def test_logs_name_the_outcome_and_host_but_never_the_endpoint_keys_or_payload(
    transport,
    push_service,
    caplog,
):
    subscriptions = [make_subscription(push_service, b) for b in ("ok", "gone", "error:1")]
    with caplog.at_level(logging.DEBUG, logger="kapjourney"):
        for subscription in subscriptions:
            transport.send(target(subscription), PAYLOAD, **OPTIONS)

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("kapjourney")]
    assert messages == [
        "push sent status=201 host=127.0.0.1",
        "push gone status=410 host=127.0.0.1",
        "push server_error status=503 host=127.0.0.1",
    ]
    for subscription in subscriptions:
        assert_nothing_secret_logged(caplog, subscription)


# -- Retry-After -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        (" 0 ", 0.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),
        ("999999", 86400.0),
        (format_datetime(NOW + timedelta(days=3), usegmt=True), 86400.0),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_takes_seconds_or_a_date_and_is_capped_at_a_day(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


# -- the fake the dispatcher tests use ---------------------------------------------------------


def test_the_recording_transport_records_sends_and_plays_its_script():
    fake = RecordingTransport([SendResult("server_error", 503)])
    phone, laptop = Target("https://a.example/1", "k", "a"), Target("https://b.example/2", "k", "a")
    fake.script_for(laptop.endpoint, SendResult("gone", 410, permanent=True))

    results = [fake.send(t, {"n": i}, **OPTIONS) for i, t in enumerate((phone, laptop, phone))]

    assert [r.outcome for r in results] == ["server_error", "gone", "sent"]
    assert fake.payloads == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [s.target for s in fake.sent_to(phone.endpoint)] == [phone, phone]
