"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when reachable),
standing personas, and frozen time helpers."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Settings are read once; point them at a throwaway data directory before anything imports them.
_DATA = Path(tempfile.mkdtemp(prefix="kj-test-"))
os.environ["KJ_ENV"] = "test"
os.environ["KJ_DATA_DIR"] = str(_DATA)
os.environ.pop("KJ_DATABASE_URL", None)

import pytest  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from alembic import command  # noqa: E402
from kapjourney import db  # noqa: E402
from kapjourney.auth import passwords  # noqa: E402
from kapjourney.domain.enums import CourseStatus, Role  # noqa: E402
from kapjourney.domain.models import Clinic, ClinicianAssignment, Course, User  # noqa: E402
from kapjourney.domain.schemas import Actor  # noqa: E402
from kapjourney.settings import PROJECT_ROOT, Settings, ensure_local_secrets  # noqa: E402

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("KJ_TEST_DATABASE_URL", "")
# Every table, for PostgreSQL's TRUNCATE between tests (new tables join automatically).
TABLES = [f'"{table.name}"' for table in SQLModel.metadata.sorted_tables]


def pytest_collection_modifyitems(items):
    """Fast tiers first; the browser tier (slow, and it holds an event loop open) runs last."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


def run_async(coro):
    """Run a coroutine to completion even while another library holds an event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _migrate(url: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    path = _DATA / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


def _pg_reachable() -> str | None:
    if not PG_URL:
        return "KJ_TEST_DATABASE_URL is not set: PostgreSQL tier skipped (SQLite ran)"
    try:
        engine = db.make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not reachable here"
        return f"PostgreSQL at KJ_TEST_DATABASE_URL is unreachable ({type(exc).__name__}): skipped"
    return None


@pytest.fixture(scope="session")
def pg_engine():
    """A throwaway database on the server at KJ_TEST_DATABASE_URL, so runs never collide."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"kj_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path, sqlite_template):
    """A freshly migrated database, installed as the app's engine for the test."""
    if request.param == "sqlite":
        path = tmp_path / "kj.db"
        shutil.copy(sqlite_template, path)
        eng = db.make_engine(f"sqlite:///{path}")
    else:
        eng = request.getfixturevalue("pg_engine")
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            conn.execute(
                text("INSERT INTO audithead (id, last_event_id, last_hash) VALUES (1, 0, :g)"),
                {"g": "0" * 64},
            )
    db.set_engine(eng)
    yield eng
    db.set_engine(None)
    if request.param == "sqlite":
        eng.dispose()


@pytest.fixture
def session(engine):
    with db.session_scope(engine) as s:
        yield s


@pytest.fixture(scope="session")
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "data")
    ensure_local_secrets(s)
    return s


@dataclass
class Personas:
    """Standing personas: a client, her clinician, an unassigned clinician, another client,
    the clinic admin, and the admin of another clinic."""

    client: User
    clinician: User
    other_clinician: User
    other_client: User
    admin: User
    foreign_admin: User

    def actor(self, who: str, ip: str = "127.0.0.1") -> Actor:
        return Actor.from_user(getattr(self, who), ip=ip)


def make_personas(s: Session, pw_hash: str) -> Personas:
    clinic = Clinic(name="Test Clinic", slug="test", timezone="America/New_York")
    other = Clinic(name="Other Clinic", slug="other", timezone="Europe/London")
    s.add_all([clinic, other])
    s.flush()

    def user(name, email, role, clinic_id=clinic.id):
        row = User(
            clinic_id=clinic_id,
            role=role,
            email=email,
            display_name=name,
            timezone="America/New_York",
            password_hash=pw_hash,
        )
        s.add(row)
        s.flush()
        return row

    people = Personas(
        client=user("Ada Client", "ada@test.example", Role.CLIENT),
        clinician=user("Cleo Clinician", "cleo@test.example", Role.CLINICIAN),
        other_clinician=user("Uma Unassigned", "uma@test.example", Role.CLINICIAN),
        other_client=user("Otto Other", "otto@test.example", Role.CLIENT),
        admin=user("Ari Admin", "ari@test.example", Role.ADMIN),
        foreign_admin=user("Zed Foreign", "zed@test.example", Role.ADMIN, other.id),
    )
    s.add(ClinicianAssignment(clinician_id=people.clinician.id, client_id=people.client.id))
    s.add(
        ClinicianAssignment(
            clinician_id=people.other_clinician.id, client_id=people.other_client.id
        )
    )
    from datetime import date

    for c in (people.client, people.other_client):
        s.add(
            Course(
                client_id=c.id,
                clinic_id=clinic.id,
                status=CourseStatus.PREPARATION,
                start_date=date(2026, 11, 1),
            )
        )
    s.flush()
    from kapjourney.services.protocol import ensure_clinic_defaults

    for c in (clinic, other):
        ensure_clinic_defaults(s, clinic_id=c.id)
    return people


@pytest.fixture
def personas(engine, password_hash) -> Personas:
    with db.session_scope(engine) as s:
        return make_personas(s, password_hash)


@pytest.fixture(autouse=True)
def unlimited_events(monkeypatch):
    """Handler tests play a person's whole visit in one frozen instant, which the per-session
    event allowance would cut off; the allowance has its own tests (tests/test_rate_limits.py,
    which overrides this fixture, and the browser tier)."""
    from kapjourney.auth import ratelimit

    monkeypatch.setattr(ratelimit, "event_rate", lambda settings=None: ratelimit.Rate(10**9, 1))
