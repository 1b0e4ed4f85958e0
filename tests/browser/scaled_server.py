"""Scaled mode for the browser tier: PostgreSQL + Redis + several backend workers.

``KJ_BROWSER_MODE=scaled pytest tests/browser`` (the second half of ``make test``) serves the app
the way ``make run-scaled`` does, on a scratch database made fresh for the run and a Redis
database number of its own, flushed at the start. The fault tests start private copies of both
services (``PrivateRedis``, ``PrivatePostgres``) so they can restart them without touching the
machine's own, which another run may be using.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

MODE = os.environ.get("KJ_BROWSER_MODE", "")
WORKERS = 3
DB_URL = os.environ.get(
    "KJ_SCALED_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kj_browser_scaled"
)
REDIS_URL = os.environ.get("KJ_SCALED_REDIS_URL", "redis://127.0.0.1:6379/14")
REDIS_SERVER = os.environ.get("KJ_REDIS_SERVER", "/usr/bin/redis-server")
PG_BIN = Path(os.environ.get("KJ_PG_BIN", "/usr/local/bin"))


def scaled() -> bool:
    return MODE == "scaled"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _where(url: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    return f"{parts.hostname}:{parts.port}"


def services_down(db_url: str = DB_URL, redis_url: str = REDIS_URL) -> list[str]:
    """What did not answer, in words ("PostgreSQL at 127.0.0.1:5432 (...)"); empty when both do."""
    import psycopg
    import redis

    down = []
    try:
        psycopg.connect(_admin_dsn(db_url), connect_timeout=3).close()
    except psycopg.Error as error:
        down.append(f"PostgreSQL at {_where(db_url)} ({str(error).splitlines()[0][:120]})")
    try:
        redis.Redis.from_url(redis_url, socket_timeout=3, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        down.append(f"Redis at {_where(redis_url)} ({str(error)[:120]})")
    return down


def _admin_dsn(db_url: str) -> str:
    """A libpq URL to the server's ``postgres`` database (where databases are made)."""
    parts = urlsplit(db_url.replace("postgresql+psycopg", "postgresql"))
    return parts._replace(path="/postgres").geturl()


def _db_name(db_url: str) -> str:
    return urlsplit(db_url).path.lstrip("/")


def fresh_database(db_url: str = DB_URL) -> None:
    """Drop the scratch database if an earlier run left it, and create it empty."""
    import psycopg
    from psycopg import sql

    name = sql.Identifier(_db_name(db_url))
    with psycopg.connect(_admin_dsn(db_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(db_url: str = DB_URL) -> None:
    import psycopg
    from psycopg import sql

    name = sql.Identifier(_db_name(db_url))
    with psycopg.connect(_admin_dsn(db_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def flush_redis(redis_url: str = REDIS_URL) -> None:
    """Empty this run's Redis database number only (never FLUSHALL)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def scaled_env(db_url: str = DB_URL, redis_url: str = REDIS_URL, workers: int = WORKERS) -> dict:
    """What turns a server's environment into scaled mode (as ``make run-scaled`` does)."""
    return {
        "KJ_DATABASE_URL": db_url,
        "REFLEX_REDIS_URL": redis_url,
        "GRANIAN_WORKERS": str(workers),
    }


def worker_pids(server_pid: int) -> list[int]:
    """The backend worker processes: Granian's children of the ``reflex run`` process."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(server_pid):
            found.append(int(status.parent.name))
    return sorted(found)


def _as_service_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` account when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PrivateRedis:
    """A redis-server of our own on a free loopback port, nothing persisted; ``restart()`` loses
    every key, as a real Redis restart without persistence does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None

    def restart(self, down_seconds: float = 0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb, trust auth) on a free loopback port in a temporary
    directory; ``stop()`` and ``start()`` take it down and bring it back with its data."""

    def __init__(self, database: str = "kj_faults") -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kj-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*_as_service_user(), *args], check=True, capture_output=True, timeout=60, cwd=self.dir
        )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "postgres.log")  # not our pipe: the server outlives pg_ctl
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        # "fast": open connections are cut, as in a real restart or a crash of the server.
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __enter__(self) -> PrivatePostgres:
        self.init()
        self.start()
        fresh_database(self.url)
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} after {timeout}s")


def double_sends(db_url: str = DB_URL) -> tuple[list[tuple], int]:
    """Reminders delivered more than once to the same phone (must be none), and how many of the
    workers' reminder tasks delivered any: every backend worker runs one (a lifespan task)."""
    import psycopg

    dsn = db_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn) as conn:
        twice = conn.execute(
            "SELECT notification_id, subscription_id, count(*) FROM deliveryattempt"
            " WHERE outcome = 'sent' GROUP BY 1, 2 HAVING count(*) > 1"
        ).fetchall()
        senders = conn.execute(
            "SELECT count(DISTINCT worker) FROM deliveryattempt"
            " WHERE outcome = 'sent' AND worker <> 'demo-seed'"
        ).fetchone()[0]
    return twice, senders
