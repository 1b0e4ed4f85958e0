"""Browser tier: the real app in Reflex's single-port production mode, driven by Playwright
in Debian's Chromium. One server per test session, with its own data directory and demo seed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
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
    env = {
        **os.environ,
        "KJ_ENV": "test",
        "KJ_DATA_DIR": str(data),
        "KJ_PUBLIC_URL": url,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{ROOT / 'tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    for key in ("KJ_DATABASE_URL", "PYTEST_CURRENT_TEST", "REFLEX_REDIS_URL"):
        env.pop(key, None)
    if os.environ.get("KJ_BROWSER_DATABASE_URL"):
        env["KJ_DATABASE_URL"] = os.environ["KJ_BROWSER_DATABASE_URL"]
    _SERVER["db_url"] = env.get("KJ_DATABASE_URL") or f"sqlite:///{data / 'kapjourney.db'}"
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
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


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


def serious_violations(page) -> list[dict]:
    """axe-core violations of impact serious or critical on the current page."""
    page.add_script_tag(path=str(AXE))
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


def sign_in(page, email: str, password: str, *, expect_success: bool = True) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Sign-in hashes a password (argon2) and then loads the first page; on a busy CI machine
    # that can take longer than an assertion's default wait.
    if expect_success:
        page.wait_for_url(lambda url: "/signin" not in url, timeout=30_000)
