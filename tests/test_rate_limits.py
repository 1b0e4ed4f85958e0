"""Rate limits (issue 7, S11): the limiter's window math on a frozen clock, and the event guard
cutting off a flood from one session while every other session's events run."""

from __future__ import annotations

import os
import uuid

import pytest
import time_machine
from reflex.istate.data import RouterData
from reflex.state import State

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney.auth import ratelimit
from kapjourney.auth.ratelimit import Rate, RateLimiter
from kapjourney.domain.enums import Role
from kapjourney.ui.guard import RATE_LIMITED, authorized
from kapjourney.ui.pages.invite import InviteState
from kapjourney.ui.pages.today import TodayState
from tests.conftest import run_async
from tests.support import T0, audit_events
from tests.test_handlers import _cookie_for

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly
BURST = Rate(20, 2)


@pytest.fixture(autouse=True)
def unlimited_events():
    """Overrides the conftest fixture of that name: here the real allowance is under test."""
    ratelimit.shared_limiter().clear()
    yield
    ratelimit.shared_limiter().clear()


# --- the limiter ---------------------------------------------------------------------------------


def test_a_burst_of_twenty_passes_and_the_twenty_first_waits_for_the_window():
    limiter = RateLimiter()
    with time_machine.travel(T0, tick=False) as clock:
        assert [limiter.hit("event", "a", BURST) for _ in range(20)] == [0] * 20
        assert limiter.hit("event", "a", BURST) == 2
        clock.shift(1.5)
        assert limiter.hit("event", "a", BURST) == 1  # the burst leaves the window at T0+2 s
        clock.shift(0.6)
        assert [limiter.hit("event", "a", BURST) for _ in range(20)] == [0] * 20
        assert limiter.hit("event", "a", BURST) > 0


def test_a_steady_flood_gets_ten_a_second_after_the_burst():
    """200 events a second for 10 s (as S11's flood test sends): the burst, then 10/s."""
    limiter = RateLimiter()
    allowed = 0
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(2000):
            allowed += limiter.hit("event", "flood", BURST) == 0
            clock.shift(0.005)
    assert 100 <= allowed <= 20 + 10 * 10


def test_an_event_stream_at_the_sustained_rate_is_never_refused():
    limiter = RateLimiter()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(300):  # 30 s at just under 10 events a second (the window is inclusive)
            assert limiter.hit("event", "steady", BURST) == 0
            clock.shift(0.101)


def test_keys_and_scopes_are_counted_apart():
    limiter = RateLimiter()
    with time_machine.travel(T0, tick=False):
        for _ in range(25):
            limiter.hit("event", "flooder", BURST)
        assert limiter.hit("event", "flooder", BURST) > 0
        assert limiter.hit("event", "bystander", BURST) == 0
        assert limiter.hit("api", "flooder", BURST) == 0


def test_keys_are_stored_hashed_never_as_the_token():
    limiter = RateLimiter()
    token = "secret-session-token-" + uuid.uuid4().hex
    limiter.hit("event", f"session:{token}", BURST)
    storage = limiter._strategy.storage
    stored = " ".join([*storage.events, *storage.storage])
    assert stored and token not in stored


def test_a_broken_store_lets_events_through_and_says_so(caplog):
    limiter = RateLimiter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert limiter.shared
    assert limiter.hit("event", "a", Rate(1, 60)) == 0
    assert limiter.hit("event", "a", Rate(1, 60)) == 0
    assert "rate-limit store unavailable" in caplog.text


@pytest.mark.skipif(not os.environ.get("KJ_TEST_REDIS_URL"), reason="KJ_TEST_REDIS_URL not set")
def test_workers_sharing_redis_share_one_allowance():
    url = os.environ["KJ_TEST_REDIS_URL"]
    first, second = RateLimiter(url), RateLimiter(url)
    scope = f"test-{uuid.uuid4().hex}"
    assert [first.hit(scope, "a", Rate(3, 60)) for _ in range(3)] == [0, 0, 0]
    assert 0 < second.hit(scope, "a", Rate(3, 60)) <= 60
    assert second.hit(scope, "b", Rate(3, 60)) == 0


def test_the_settings_give_twenty_a_burst_and_ten_a_second():
    rate = ratelimit.event_rate()
    assert (rate.amount, rate.seconds) == (20, 2)
    assert ratelimit.wait_message(30).startswith("Too many attempts")
    assert "15 minutes" in ratelimit.wait_message(900)


# --- the event guard -----------------------------------------------------------------------------


def _state(cls, *, cookie: str = "", tab: str = ""):
    root = State()
    headers = {"cookie": cookie} if cookie else {}
    root.router = RouterData.from_router_data({"headers": headers, "ip": "10.0.0.9", "token": tab})
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _probe():
    """A guarded handler that counts the calls its body runs (no state class registered)."""
    runs: list[str] = []

    async def probe(self, label: str):
        runs.append(label)
        return "ran"

    probe.__qualname__ = "FloodProbe.probe"
    return authorized(Role.CLIENT)(probe), runs


def _is_calm_toast(result) -> bool:
    text = str(result)
    return RATE_LIMITED in text and "info" in text


def test_a_flood_from_one_session_is_cut_off_while_another_session_runs(engine, personas):
    guarded, runs = _probe()
    with time_machine.travel(T0, tick=False):
        flooder = _state(TodayState, cookie=_cookie_for(engine, personas.client))
        bystander = _state(TodayState, cookie=_cookie_for(engine, personas.other_client))
        results = []
        for i in range(200):
            results.append(run_async(guarded(flooder, "flood")))
            if i % 10 == 0:
                assert run_async(guarded(bystander, "other")) == "ran"
    assert results[:20] == ["ran"] * 20
    assert all(_is_calm_toast(r) for r in results[20:])
    assert runs.count("flood") == 20 and runs.count("other") == 20


def test_a_flood_is_audited_once_per_burst_with_who_sent_it(engine, personas):
    guarded, _ = _probe()
    with time_machine.travel(T0, tick=False) as clock:
        flooder = _state(TodayState, cookie=_cookie_for(engine, personas.client))
        for _ in range(200):
            run_async(guarded(flooder, "flood"))
        rows = audit_events(engine, "rate_limited")
        assert [(r.actor_id, r.outcome, r.target) for r in rows] == [
            (personas.client.id, "denied", "FloodProbe.probe")
        ]
        clock.shift(61)
        for _ in range(200):
            run_async(guarded(flooder, "flood"))
    assert len(audit_events(engine, "rate_limited")) == 2


def test_the_allowance_comes_back_after_the_window(engine, personas):
    guarded, runs = _probe()
    with time_machine.travel(T0, tick=False) as clock:
        state = _state(TodayState, cookie=_cookie_for(engine, personas.client))
        for _ in range(30):
            run_async(guarded(state, "flood"))
        clock.shift(2.1)
        assert run_async(guarded(state, "after")) == "ran"
    assert runs.count("flood") == 20 and runs == ["flood"] * 20 + ["after"]


def test_a_refused_real_handler_does_nothing(engine, personas):
    """Through TodayState.load itself: the refused call loads nothing and raises nothing."""
    with time_machine.travel(T0, tick=False):
        cookie = _cookie_for(engine, personas.client)
        for _ in range(20):
            run_async(_state(TodayState, cookie=cookie).load())
        refused = _state(TodayState, cookie=cookie)
        result = run_async(refused.load())
    assert _is_calm_toast(result)
    assert refused.first_name == "" and refused.loaded is False


def test_signed_out_tabs_each_have_their_own_allowance(engine, personas):
    """Public handlers spend it too (the invite check reads the database)."""
    with time_machine.travel(T0, tick=False):
        flood = [run_async(_state(InviteState, tab="tab-a").check("x")) for _ in range(30)]
        other = run_async(_state(InviteState, tab="tab-b").check("x"))
    assert flood[:20] == [None] * 20 and all(_is_calm_toast(r) for r in flood[20:])
    assert other is None
    assert [r.actor_id for r in audit_events(engine, "rate_limited")] == [None]
