"""What every benchmark needs: output, a migrated scratch database (SQLite in a temp dir, or a
scratch PostgreSQL database created on the server a URL names and dropped afterwards), and
chunked Core inserts."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from alembic.config import Config
from sqlalchemy import insert, make_url, text

from alembic import command
from kapjourney import db

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 5_000


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def bulk(session, model, rows: list[dict]) -> None:
    """Core inserts in chunks: no ORM objects, so no per-row hooks."""
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[i : i + CHUNK])


@contextlib.contextmanager
def scratch_database(server_url: str = "") -> Iterator[str]:
    """A migrated, empty database's URL: SQLite (file, WAL) when no server URL is given."""
    if not server_url:
        with tempfile.TemporaryDirectory(prefix="kj-bench-") as tmp:
            say("SQLite (file, WAL)")
            url = f"sqlite:///{tmp}/bench.db"
            migrate(url)
            yield url
        return
    name = f"kj_bench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        say(f"PostgreSQL (scratch database {name})")
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
