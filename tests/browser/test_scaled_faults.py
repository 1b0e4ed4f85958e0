"""Fault tests for scaled mode (issue 8, part 5): a Redis restart and a PostgreSQL restart in the
middle of a client's check-in, at phone size.

They run only in the scaled tier (``KJ_BROWSER_MODE=scaled``, the second half of ``make test``)
and never touch the machine's own PostgreSQL or Redis: this module starts a private redis-server
and a private PostgreSQL cluster on free loopback ports, and an app server of its own (two
backend workers, state in that Redis) on them. Each test is bounded (two minutes).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kapjourney.domain.models import CheckIn
from kapjourney.ui.guard import UNAVAILABLE
from tests.browser import scaled_server
from tests.browser.conftest import (
    PHONE,
    _free_port,
    serious_violations,
    server_env,
    serving,
    shot,
    sign_in,
)
from tests.browser.journeys import scale_choice, tap
from tests.browser.people import make_client, wait_for_checkins

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not scaled_server.scaled(),
        reason="fault tests run only in the scaled tier (KJ_BROWSER_MODE=scaled, `make test`)",
    ),
]
WORKERS = 2
PASSWORD = "steady tide at dawn"
BOUND = pytest.mark.timeout(120, func_only=True)


def _missing_tools() -> list[str]:
    tools = [Path(scaled_server.REDIS_SERVER)]
    tools += [scaled_server.PG_BIN / name for name in ("initdb", "pg_ctl", "postgres")]
    missing = [str(t) for t in tools if not t.exists()]
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing.append("runuser (PostgreSQL will not run as root)")
    return missing


@pytest.fixture(scope="module")
def faults(tmp_path_factory, app_push_service, app_oidc_provider):
    """A private Redis, a private PostgreSQL and an app server on them; yields a namespace with
    ``url``, ``db_url``, ``redis`` and ``postgres``."""
    if missing := _missing_tools():
        pytest.skip("fault tests skipped: missing " + ", ".join(missing))
    with scaled_server.PrivateRedis() as redis, scaled_server.PrivatePostgres() as postgres:
        port = _free_port()
        url = f"http://localhost:{port}"
        data = tmp_path_factory.mktemp("fault-app-data")
        env = server_env(url, data, app_push_service, app_oidc_provider)
        env.update(scaled_server.scaled_env(postgres.url, redis.url, WORKERS))
        with serving(url, port, data, env) as proc:
            assert len(scaled_server.worker_pids(proc.pid)) == WORKERS
            yield type(
                "Faults",
                (),
                {"url": url, "db_url": postgres.url, "redis": redis, "postgres": postgres},
            )


@pytest.fixture
def phone_at(browser, faults):
    context = browser.new_context(base_url=faults.url, **PHONE)
    page = context.new_page()
    yield page
    context.close()


def _state_keys(redis_url: str) -> list[bytes]:
    """Reflex's per-tab state keys (``<token>_<state path>``) in that Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return [k for k in client.scan_iter(count=500) if b"checkin" in k.lower()]
    finally:
        client.close()


def _saved(faults, client_id: int, check) -> list[CheckIn]:
    return wait_for_checkins(faults.db_url, client_id, check, timeout=20)


def _client(faults, who: str) -> tuple[str, int]:
    email = f"{who}.faults@riverbend.example"
    client_id = make_client(
        faults.db_url,
        email=email,
        password=PASSWORD,
        name=f"{who.title()} Faults",
        clinic_name=f"{who.title()} Fault Clinic",
        slug=f"{who}-faults",
    )
    return email, client_id


def _open_checkin(page, email: str) -> None:
    sign_in(page, email, PASSWORD)
    page.goto("/checkin")
    expect(page.get_by_role("heading", name="Daily check-in")).to_be_visible()


def _page_is_calm(page) -> None:
    """Not blank, no server error text: the form is still there."""
    expect(page.get_by_role("heading", name="Daily check-in")).to_be_visible()
    body = page.locator("body").inner_text()
    for bad in ("Internal Server Error", "Traceback", "An error occurred", "website administrator"):
        assert bad not in body, f"the page shows {bad!r}"


@BOUND
def test_redis_restart_mid_checkin_then_the_client_carries_on(faults, phone_at):
    email, client_id = _client(faults, "rowan")
    _open_checkin(phone_at, email)
    tap(phone_at, "mood", "Good")
    rows = _saved(faults, client_id, lambda r: r and r[0].mood == 4)
    assert [(r.status, r.mood) for r in rows] == [("draft", 4)]

    # Redis restarts without persistence: every tab's Reflex state is gone.
    assert _state_keys(faults.redis.url), "the page's state is not in this Redis"
    faults.redis.restart()
    assert _state_keys(faults.redis.url) == []

    # The client taps on. The page reconnects and re-hydrates from the database (the draft),
    # and the session cookie still signs her in: sessions live in PostgreSQL, not in Redis.
    scale_choice(phone_at, "anxiety", "Calm").click()
    expect(scale_choice(phone_at, "anxiety", "Calm")).to_be_checked(timeout=30_000)
    expect(scale_choice(phone_at, "mood", "Good")).to_be_checked()
    assert _state_keys(faults.redis.url), "the state did not come back into Redis"
    shot(phone_at, "faults-01-after-redis-restart")
    scale_choice(phone_at, "sleep", "Okay").click()
    expect(phone_at.locator("#saved")).to_have_text(
        re.compile(r"Saved for today at \d{1,2}:\d\d [ap]m"), timeout=30_000
    )
    assert "/signin" not in phone_at.url
    rows = _saved(faults, client_id, lambda r: r and r[0].status == "submitted")
    assert [(r.status, r.mood, r.anxiety, r.sleep) for r in rows] == [("submitted", 4, 1, 3)]
    _page_is_calm(phone_at)


@BOUND
def test_postgres_restart_shows_a_calm_error_and_loses_nothing(faults, phone_at):
    email, client_id = _client(faults, "sloane")
    _open_checkin(phone_at, email)
    scale_choice(phone_at, "mood", "Low").click()
    scale_choice(phone_at, "anxiety", "Uneasy").click()
    note = phone_at.get_by_label("A note for yourself or your care team (optional)")
    note.fill("Windy evening on the pier.")
    note.blur()
    rows = _saved(faults, client_id, lambda r: r and r[0].note != "")
    assert [(r.status, r.mood, r.anxiety, r.note) for r in rows] == [
        ("draft", 2, 3, "Windy evening on the pier.")
    ]

    faults.postgres.stop()
    try:
        # More words while the database is down, then the third tap: a calm message at the
        # form, the form and everything typed and tapped still there.
        typed = "Windy evening on the pier. Slept well after."
        note.fill(typed)
        scale_choice(phone_at, "sleep", "Good").click()
        expect(phone_at.locator("#form-error")).to_have_text(UNAVAILABLE, timeout=30_000)
        _page_is_calm(phone_at)
        expect(note).to_have_value(typed)
        expect(phone_at.locator("#checkin-note-count")).to_have_text(f"{len(typed)} / 500")
        for scale, word in (("mood", "Low"), ("anxiety", "Uneasy"), ("sleep", "Good")):
            expect(scale_choice(phone_at, scale, word)).to_be_checked()
        expect(phone_at.locator("#saved")).not_to_contain_text("Saved")
        shot(phone_at, "faults-02-postgres-down")
        assert serious_violations(phone_at) == []
        assert "/signin" not in phone_at.url
    finally:
        faults.postgres.start()

    # Back up: the client saves and the row is there, with what was typed while it was down.
    phone_at.get_by_role("button", name="Save").click()
    expect(phone_at.locator("#saved")).to_have_text(
        re.compile(r"Saved for today at \d{1,2}:\d\d [ap]m"), timeout=30_000
    )
    rows = _saved(faults, client_id, lambda r: r and r[0].status == "submitted")
    assert [(r.status, r.mood, r.anxiety, r.sleep, r.note) for r in rows] == [
        ("submitted", 2, 3, 4, typed)
    ]
    expect(phone_at.locator("#form-error")).to_have_count(0)
    shot(phone_at, "faults-03-postgres-back")
