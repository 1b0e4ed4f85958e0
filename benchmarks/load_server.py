"""The real app server for the load and fault tests: `kapjourney.cli setup`, then Reflex's
single-port production server, the way tests/browser/conftest.py `app_url` starts it.

Embedded mode: SQLite in the data directory, one worker. Scaled mode: a scratch PostgreSQL
database and a Redis database of its own (flushed at start), with several Granian workers.

Every Reflex server started from the repository builds its `.web`, which the browser tests
share: the server starts and runs while this process holds ``/tmp/kj-browser.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parent.parent
# Where the server runs (and builds its .web): this checkout, or a copy of it (KJ_LOAD_APP_ROOT),
# which needs no lock because no browser test shares its .web.
APP_ROOT = Path(os.environ.get("KJ_LOAD_APP_ROOT", ROOT)).resolve()
LOCK = Path("/tmp/kj-browser.lock")  # noqa: S108 - the lock every browser test takes
PG_SERVER = os.environ.get(
    "KJ_LOAD_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KJ_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")
SCRATCH_DB = "kj_h1_load"


@dataclass
class Server:
    url: str
    mode: str
    db_url: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen
    redis_url: str = ""
    extra: dict = field(default_factory=dict)

    def processes(self) -> list[psutil.Process]:
        """The server's process tree (the Reflex CLI, Granian's main process, its workers)."""
        try:
            top = psutil.Process(self.proc.pid)
            return [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def workers(self) -> list[psutil.Process]:
        """Processes that serve requests: those with a listening or accepted TCP socket on the
        port are not visible per worker (Granian shares one socket), so: the leaves of the tree
        that run Python and are not the CLI (Granian forks one process per worker)."""
        found = []
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                if proc.pid != self.proc.pid and not proc.children() and _is_python(proc):
                    found.append(proc)
        return found

    def rss_bytes(self) -> int:
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _is_python(proc: psutil.Process) -> bool:
    name = proc.name().lower()
    return name.startswith("python") or "granian" in name or name == "reflex"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_reachable(server_url: str = PG_SERVER) -> str | None:
    """None when PostgreSQL answers, else why not."""
    from kapjourney import db

    try:
        engine = db.make_engine(server_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not reachable here"
        return f"PostgreSQL at {make_url(server_url).host} is unreachable ({type(exc).__name__})"
    return None


def redis_reachable(url: str = REDIS_URL) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure means "not reachable here"
        return f"Redis at {url} is unreachable ({type(exc).__name__})"
    return None


@contextlib.contextmanager
def _scratch_postgres(name: str) -> Iterator[str]:
    from kapjourney import db

    admin = db.make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def browser_lock() -> Iterator[None]:
    """Hold the lock the browser tests take around every Reflex server built from here."""
    with LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app server exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app server not healthy after {timeout}s:\n{log.read_text()[-4000:]}")


def server_env(mode: str, data: Path, url: str, db_url: str, workers: int) -> dict[str, str]:
    env = {
        **os.environ,
        "KJ_ENV": "test",
        "KJ_DATA_DIR": str(data),
        "KJ_PUBLIC_URL": url,
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        # Every simulated phone signs in from 127.0.0.1: the per-address sign-in limit (30 a
        # minute, meant for one address guessing passwords) would otherwise refuse the ramp.
        "KJ_SIGNIN_REQUESTS_PER_ADDRESS_PER_MINUTE": "100000",
        "PATH": f"{ROOT / 'tools' / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    for key in ("KJ_DATABASE_URL", "PYTEST_CURRENT_TEST", "REFLEX_REDIS_URL", "GRANIAN_WORKERS"):
        env.pop(key, None)
    if mode == "scaled":
        env["KJ_DATABASE_URL"] = db_url
        env["REFLEX_REDIS_URL"] = REDIS_URL
        env["GRANIAN_WORKERS"] = str(workers)
    return env


@contextlib.contextmanager
def running_server(mode: str, *, workers: int = 3, timeout: float = 300) -> Iterator[Server]:
    """The app server in ``mode`` ("embedded" or "scaled"), healthy, under the browser lock."""
    if mode not in ("embedded", "scaled"):
        raise ValueError(mode)
    with contextlib.ExitStack() as stack:
        # First the lock: it also keeps two of these runs off the same scratch database and
        # Redis database.
        waiting = time.monotonic()
        if APP_ROOT == ROOT:
            stack.enter_context(browser_lock())
        lock_wait = time.monotonic() - waiting
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kj-load-")))
        if mode == "scaled":
            db_url = stack.enter_context(_scratch_postgres(SCRATCH_DB))
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()
        else:
            db_url = f"sqlite:///{data / 'kapjourney.db'}"
        port = free_port()
        url = f"http://localhost:{port}"
        env = server_env(mode, data, url, db_url, workers)
        subprocess.run(
            [sys.executable, "-m", "kapjourney.cli", "setup"],
            cwd=APP_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        log = data / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
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
                cwd=APP_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(
            url=url,
            mode=mode,
            db_url=db_url,
            data_dir=data,
            log=log,
            proc=proc,
            redis_url=REDIS_URL if mode == "scaled" else "",
            extra={"lock_wait_seconds": lock_wait},
        )
        try:
            _wait_healthy(url, proc, log, timeout)
            yield server
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
