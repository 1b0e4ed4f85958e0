"""Browser tier: the real app in Reflex's single-port production mode, driven by Playwright
in Debian's Chromium. One server per test session, with its own data directory and demo seed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from kapjourney.notifications.endpoints import DEFAULT_PUSH_HOSTS
from tests.browser import scaled_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KJ_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("KJ_ARTIFACTS", ROOT / "tests" / ".artifacts"))
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser
# The CI machine has two cores shared by the server, the browser and pytest: wait longer than
# Playwright's 5 s default before calling an assertion failed.
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

expect.set_options(timeout=15_000)
_SERVER: dict[str, str] = {}  # filled by app_url: where the running server keeps its data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app server exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app server not healthy after {timeout}s:\n{log.read_text()[-4000:]}")


def pytest_collection_modifyitems(items):
    """The scaled tier's fault tests build and serve a second app from this same directory,
    which rewrites the shared .web build (and so its script hashes) under the session's own
    server: they run last."""
    items.sort(key=lambda item: item.path.name == "test_scaled_faults.py")


@pytest.fixture(scope="session")
def app_push_service():
    """A real Web Push service on loopback (tests/push_service.py) that the app server trusts:
    its origin is on the server's KJ_PUSH_ALLOWED. Register a device on it with the server's key
    (GET /api/push/public-key) as ``application_server_key``."""
    from tests.push_service import running_push_service

    with running_push_service() as service:
        yield service


@pytest.fixture(scope="session")
def app_oidc_provider():
    """A real OpenID provider on loopback (tests/oidc_provider.py) that the app server offers as
    clinician single sign-on for the demo clinic. Tests set ``person`` (and knobs) on it."""
    from tests.oidc_provider import running_oidc_provider

    with running_oidc_provider() as provider:
        yield provider


def server_env(url: str, data: Path, push_service, oidc_provider) -> dict[str, str]:
    """The app server's environment for the browser tier (SQLite in ``data`` unless the caller
    adds a database, e.g. scaled mode's ``scaled_server.scaled_env()``)."""
    env = {
        **os.environ,
        "KJ_ENV": "test",
        "KJ_DATA_DIR": str(data),
        "KJ_PUBLIC_URL": url,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        # The browsers' own push services and the loopback test service; the worker's tick every
        # 2 s (not 30), so what it sends (escalations, reminders) arrives within a test's waits.
        "KJ_PUSH_ALLOWED": ",".join((*DEFAULT_PUSH_HOSTS, push_service.origin)),
        "KJ_NOTIFY_INTERVAL_SECONDS": "2",
        # Single sign-on for the demo clinic's staff (another site: 127.0.0.1, not localhost).
        "KJ_OIDC_ISSUER": oidc_provider.origin,
        "KJ_OIDC_CLIENT_ID": oidc_provider.client_id,
        "KJ_OIDC_CLIENT_SECRET": oidc_provider.client_secret,
        "KJ_OIDC_CLINIC": "riverbend",
        "KJ_OIDC_LABEL": "Sign in with Riverbend SSO",
        "PATH": f"{ROOT / 'tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    for key in ("KJ_DATABASE_URL", "PYTEST_CURRENT_TEST", "REFLEX_REDIS_URL", "GRANIAN_WORKERS"):
        env.pop(key, None)
    if os.environ.get("KJ_BROWSER_DATABASE_URL"):
        env["KJ_DATABASE_URL"] = os.environ["KJ_BROWSER_DATABASE_URL"]
    oidc_provider.allow_redirect(f"{url}/auth/oidc/callback")
    return env


@contextmanager
def serving(url: str, port: int, data: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Migrate and seed, then serve the app in production mode until the block ends; then the
    server's log must hold no secret nor health data (S9)."""
    python = sys.executable
    subprocess.run(
        [python, "-m", "kapjourney.cli", "setup"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = data / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                python,
                "-m",
                "reflex",
                "run",
                "--env",
                "prod",
                "--single-port",
                "--backend-port",
                str(port),
                "--loglevel",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, proc, log)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        # Session end: the production-mode log must hold no secret nor health data (S9).
        from tests.browser.log_scan import leaks

        assert leaks(log) == [], f"the app server's log holds what it must not: {leaks(log)}"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, app_push_service, app_oidc_provider) -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` (installs Debian's chromium) "
            "or set KJ_CHROMIUM to a Chromium binary"
        )
    if shutil.which("bun", path=str(ROOT / "tools" / "node_modules" / ".bin")) is None:
        pytest.fail("bun is missing: run `make test`, which installs tools/ from npm")
    port = _free_port()
    data = tmp_path_factory.mktemp("app-data")
    url = f"http://localhost:{port}"
    env = server_env(url, data, app_push_service, app_oidc_provider)
    if scaled_server.scaled():
        # The scaled tier (KJ_BROWSER_MODE=scaled): PostgreSQL + Redis + several workers, as
        # `make run-scaled` serves it, on a scratch database and a Redis db of this run's own.
        if down := scaled_server.services_down():
            pytest.skip("scaled browser tier skipped: did not answer: " + "; ".join(down))
        scaled_server.fresh_database()
        scaled_server.flush_redis()
        env.update(scaled_server.scaled_env())
    _SERVER["db_url"] = env.get("KJ_DATABASE_URL") or f"sqlite:///{data / 'kapjourney.db'}"
    try:
        with serving(url, port, data, env) as proc:
            if scaled_server.scaled():
                workers = scaled_server.worker_pids(proc.pid)
                assert len(workers) == scaled_server.WORKERS, f"backend workers: {workers}"
            yield url
        if scaled_server.scaled():
            twice, senders = scaled_server.double_sends()
            assert twice == [], f"reminders delivered twice by the {senders} sending workers"
    finally:
        if scaled_server.scaled():
            scaled_server.drop_database()
            scaled_server.flush_redis()


@pytest.fixture(scope="session")
def app_db_url(app_url) -> str:
    """The running server's database, to arrange what no page does yet (e.g. scheduling)."""
    return _SERVER["db_url"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser, app_url):
    context = browser.new_context(base_url=app_url, **PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser, app_url):
    context = browser.new_context(base_url=app_url, **DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(params=["phone", "desktop"])
def screen(request, browser, app_url):
    """The test once on a phone and once on a desk: ``(size, page)``, the page in a fresh
    context of that size ("phone" or "desktop")."""
    size = {"phone": PHONE, "desktop": DESKTOP}[request.param]
    context = browser.new_context(base_url=app_url, **size)
    page = context.new_page()
    yield request.param, page
    context.close()


def serious_violations(page) -> list[dict]:
    """axe-core violations of impact serious or critical on the current page."""
    page.evaluate(AXE.read_text())  # not add_script_tag: the app's CSP refuses inline scripts
    # A dialog or toast still fading in is drawn part-transparent, and axe would measure its
    # contrast mid-fade. Wait for every finite animation and transition to end first.
    page.evaluate(
        """async () => {
            const finite = document.getAnimations().filter(a => a.effect &&
                a.effect.getComputedTiming().endTime !== Infinity);
            await Promise.all(finite.map(a => a.finished.catch(() => null)));
        }"""
    )
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Two-factor sign-in for staff (issue 7), per (server, email): the authenticator secret read
# from the enrolment page, the last time step used (codes are single use), and the cookie of a
# browser trusted to skip the code step, given to each new browser context before signing in.
_TWO_FACTOR: dict[tuple[str, str], dict] = {}


def _owed_step(url: str) -> str:
    path = urlparse(url).path.rstrip("/")
    return path.removeprefix("/signin/") if path in ("/signin/enrol", "/signin/verify") else ""


def totp_code(secret: str, after_step: int = 0) -> tuple[str, int]:
    """A code the server will accept: the earliest step in its window (now - 1 .. now + 1)
    later than ``after_step``, waiting for the clock when none is. Returns (code, step)."""
    import pyotp

    totp = pyotp.TOTP(secret)
    while True:
        current = int(time.time()) // 30
        for step in (current - 1, current, current + 1):
            # Not the window's edge steps when a step boundary is about to pass.
            if step > after_step and (step != current - 1 or time.time() % 30 < 20):
                return totp.at(step * 30), step
        time.sleep(1)


def complete_two_factor(page, email: str) -> None:
    """Finish a staff sign-in on /signin/enrol (enrol the real way: read the key from the page,
    compute a code, confirm, pass the recovery codes) or /signin/verify (a fresh code, and
    "trust this browser", whose cookie is kept for later contexts)."""
    key = (_SERVER.get("db_url", ""), email.strip().lower())
    known = _TWO_FACTOR.setdefault(key, {"secret": "", "step": 0, "cookie": None})
    step = _owed_step(page.url)
    if step == "enrol":
        expect(page.locator("#enrol-key")).to_have_text(re.compile(r"[A-Z2-7]{4}"))
        known["secret"] = page.locator("#enrol-key").inner_text().replace(" ", "").strip()
        code, known["step"] = totp_code(known["secret"])
        page.get_by_label("6-digit code").fill(code)
        page.get_by_role("button", name="Turn on two-step sign-in").click()
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        page.get_by_role("link", name="I have saved them").click()
    elif step == "verify":
        assert known["secret"], f"{email} has a second factor this test session did not enrol"
        code, known["step"] = totp_code(known["secret"], known["step"])
        page.get_by_label("6-digit code").fill(code)
        page.get_by_label("Trust this browser for 30 days").check()
        page.get_by_role("button", name="Continue").click()
    else:
        return
    page.wait_for_url(lambda url: "/signin" not in url, timeout=30_000)
    trusted = [c for c in page.context.cookies() if c["name"].endswith("kj_trusted")]
    known["cookie"] = trusted[0] if trusted else known["cookie"]


def sign_in(page, email: str, password: str, *, expect_success: bool = True) -> None:
    known = _TWO_FACTOR.get((_SERVER.get("db_url", ""), email.strip().lower()))
    if known and known["cookie"]:
        page.context.add_cookies([known["cookie"]])
    page.goto("/signin")
    # The single sign-on button appears when the page's first event (on_load) has come back over
    # the websocket: the form's submit events then go out at once, not into a queue.
    expect(page.locator("#sso-signin")).to_be_visible(timeout=30_000)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Sign-in hashes a password (argon2) and then loads the first page; on a busy CI machine
    # that can take longer than an assertion's default wait.
    if expect_success:
        try:
            page.wait_for_url(
                lambda url: "/signin" not in url or bool(_owed_step(url)), timeout=30_000
            )
        except PlaywrightTimeout:
            shot(page, f"sign-in-stuck-{email.split('@')[0]}")
            shown = page.locator("[role=alert]").all_inner_texts()
            raise AssertionError(f"sign-in stayed on {page.url}; the page says {shown}") from None
        complete_two_factor(page, email)
