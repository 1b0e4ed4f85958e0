"""The hash-chained audit log: verification, tamper detection, append-only triggers, the CLI,
and concurrent appends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from kapjourney import cli, db
from kapjourney.domain.models import AuditHead
from kapjourney.services import audit
from kapjourney.settings import PROJECT_ROOT
from tests.conftest import _migrate
from tests.support import audit_events


def _append(engine, n: int, *, start: int = 0) -> None:
    with db.session_scope(engine) as s:
        for i in range(start, start + n):
            audit.record(
                s,
                action="test_event",
                actor_id=i,
                subject_client_id=i % 3 or None,
                target=f"t{i}",
                ip="192.0.2.1",
                detail=f"n={i}",
            )


def _verify(engine):
    with db.session_scope(engine) as s:
        return audit.verify_chain(s)


def _ids(engine) -> list[int]:
    return [e.id for e in audit_events(engine)]


@contextmanager
def _triggers_disabled(engine):
    """Step around the append-only triggers, as someone with raw database access could."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER auditevent_no_update"))
            conn.execute(text("DROP TRIGGER auditevent_no_delete"))
        yield
    else:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE auditevent DISABLE TRIGGER USER"))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE auditevent ENABLE TRIGGER USER"))


def _sql(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


# --- an intact chain -----------------------------------------------------------------------------


def test_an_empty_log_verifies(engine):
    report = _verify(engine)
    assert (report.ok, report.checked, report.first_broken_id) == (True, 0, None)


@pytest.mark.parametrize("n", [1, 25])
def test_a_chain_of_events_verifies(engine, n):
    _append(engine, n)
    report = _verify(engine)
    assert (report.ok, report.checked, report.first_broken_id) == (True, n, None)


def test_a_chain_longer_than_one_batch_verifies(engine):
    _append(engine, 12)
    with db.session_scope(engine) as s:
        report = audit.verify_chain(s, batch=5)
    assert (report.ok, report.checked) == (True, 12)


def test_each_event_links_to_the_previous_one_and_the_head_to_the_last(engine):
    _append(engine, 3)
    events = audit_events(engine)
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    with db.session_scope(engine) as s:
        head = s.get(AuditHead, 1)
    assert (head.last_event_id, head.last_hash) == (events[-1].id, events[-1].hash)


def test_rolled_back_events_leave_the_chain_intact(engine):
    _append(engine, 2)
    with pytest.raises(RuntimeError), db.session_scope(engine) as s:
        audit.record(s, action="doomed", actor_id=1)
        raise RuntimeError("the work failed")
    _append(engine, 2, start=2)
    report = _verify(engine)
    assert (report.ok, report.checked) == (True, 4)
    assert "doomed" not in {e.action for e in audit_events(engine)}


def test_it_truncates_oversized_fields_and_still_verifies(engine):
    with db.session_scope(engine) as s:
        audit.record(
            s,
            action="a" * 500,
            actor_id=1,
            outcome="o" * 500,
            target="t" * 500,
            ip="i" * 500,
            detail="d" * 5000,
        )
    [event] = audit_events(engine)
    assert (
        len(event.action),
        len(event.outcome),
        len(event.target),
        len(event.ip),
        len(event.detail),
    ) == (48, 16, 80, 64, 200)
    assert _verify(engine).ok


# --- append-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE auditevent SET detail = 'edited' WHERE id = :id",
        "DELETE FROM auditevent WHERE id = :id",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_events(engine, statement):
    _append(engine, 3)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        _sql(engine, statement, id=_ids(engine)[1])
    report = _verify(engine)
    assert (report.ok, report.checked) == (True, 3)


# --- tampering -----------------------------------------------------------------------------------


def test_it_names_an_edited_middle_event(engine):
    _append(engine, 5)
    ids = _ids(engine)
    with _triggers_disabled(engine):
        _sql(engine, "UPDATE auditevent SET detail = 'n=999' WHERE id = :id", id=ids[2])
    report = _verify(engine)
    assert (report.ok, report.first_broken_id, report.checked) == (False, ids[2], 2)
    assert "edited" in report.reason


@pytest.mark.parametrize("column", ["actor_id", "subject_client_id", "occurred_at"])
def test_it_notices_an_edit_to_any_covered_field(engine, column):
    _append(engine, 3)
    ids = _ids(engine)
    value = {"actor_id": "4242", "subject_client_id": "NULL", "occurred_at": "occurred_at"}[column]
    with _triggers_disabled(engine):
        if column == "occurred_at":  # move the event one day, in the engine's own dialect
            expr = (
                "datetime(occurred_at, '-1 day')"
                if engine.dialect.name == "sqlite"
                else "occurred_at - interval '1 day'"
            )
            _sql(engine, f"UPDATE auditevent SET occurred_at = {expr} WHERE id = :id", id=ids[1])
        else:
            _sql(engine, f"UPDATE auditevent SET {column} = {value} WHERE id = :id", id=ids[1])
    report = _verify(engine)
    assert (report.ok, report.first_broken_id) == (False, ids[1])


def test_it_notices_an_edit_whose_own_hash_was_recomputed(engine):
    _append(engine, 4)
    ids = _ids(engine)
    forged = audit_events(engine)[1]
    forged.detail = "n=forged"
    forged.hash = audit._digest(forged)
    with _triggers_disabled(engine):
        _sql(
            engine,
            "UPDATE auditevent SET detail = :d, hash = :h WHERE id = :id",
            d=forged.detail,
            h=forged.hash,
            id=ids[1],
        )
    report = _verify(engine)
    # The forged row is self-consistent; the next one no longer links to it.
    assert (report.ok, report.first_broken_id, report.checked) == (False, ids[2], 2)


def test_it_names_the_event_after_a_deleted_middle_event(engine):
    _append(engine, 5)
    ids = _ids(engine)
    with _triggers_disabled(engine):
        _sql(engine, "DELETE FROM auditevent WHERE id = :id", id=ids[2])
    report = _verify(engine)
    assert (report.ok, report.first_broken_id, report.checked) == (False, ids[3], 2)
    assert "removed" in report.reason


def test_it_notices_a_deleted_first_event(engine):
    _append(engine, 3)
    ids = _ids(engine)
    with _triggers_disabled(engine):
        _sql(engine, "DELETE FROM auditevent WHERE id = :id", id=ids[0])
    report = _verify(engine)
    assert (report.ok, report.first_broken_id, report.checked) == (False, ids[1], 0)


def test_it_reports_a_log_cut_short_when_the_last_event_is_deleted(engine):
    _append(engine, 5)
    ids = _ids(engine)
    with _triggers_disabled(engine):
        _sql(engine, "DELETE FROM auditevent WHERE id = :id", id=ids[-1])
    report = _verify(engine)
    assert (report.ok, report.checked, report.first_broken_id) == (False, 4, ids[-1])
    assert "cut short" in report.reason


def test_it_reports_a_wiped_log_as_cut_short(engine):
    _append(engine, 3)
    with _triggers_disabled(engine):
        _sql(engine, "DELETE FROM auditevent")
    report = _verify(engine)
    assert (report.ok, report.checked) == (False, 0)
    assert "cut short" in report.reason


# --- the command line ----------------------------------------------------------------------------


def test_the_cli_exits_zero_for_an_intact_log(engine, capsys):
    _append(engine, 3)
    assert cli.main(["verify-audit"]) == 0
    assert "intact: 3 events verified" in capsys.readouterr().out


def test_the_cli_exits_one_and_names_the_broken_event(engine, capsys):
    _append(engine, 4)
    ids = _ids(engine)
    with _triggers_disabled(engine):
        _sql(engine, "UPDATE auditevent SET ip = '0.0.0.0' WHERE id = :id", id=ids[1])
    assert cli.main(["verify-audit"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at event {ids[1]}" in out
    assert "1 events verified before it" in out


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapjourney.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_verifies_a_seeded_database_in_a_subprocess(tmp_path: Path):
    path = tmp_path / "cli.db"
    url = f"sqlite:///{path}"
    _migrate(url)
    env = {
        **os.environ,
        "KJ_DATABASE_URL": url,
        "KJ_DATA_DIR": str(tmp_path / "data"),
        "KJ_ENV": "test",
    }

    seeded = _run_cli(env, "seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "demo clinic seeded" in seeded.stdout

    intact = _run_cli(env, "verify-audit")
    assert intact.returncode == 0, intact.stderr
    # The seed's own event, and one per alert its history raised through the safety rules.
    assert re.search(r"audit chain intact: \d+ events verified", intact.stdout)
    assert int(intact.stdout.split(": ")[1].split()[0]) >= 6

    engine = db.make_engine(url)
    try:
        _append(engine, 3)
        ids = _ids(engine)
        with _triggers_disabled(engine):
            _sql(engine, "UPDATE auditevent SET action = 'innocent' WHERE id = :id", id=ids[2])
    finally:
        engine.dispose()
    broken = _run_cli(env, "verify-audit")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"audit chain BROKEN at event {ids[2]}" in broken.stdout


# --- concurrency ---------------------------------------------------------------------------------


def test_concurrent_appenders_keep_one_unbroken_chain(engine):
    threads_n, per_thread = 4, 50
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with db.session_scope(engine) as s:
                    audit.record(s, action="concurrent", actor_id=worker, detail=f"i={i}")
        except BaseException as exc:  # reported below, on the main thread
            errors.append(exc)

    workers = [threading.Thread(target=appender, args=(w,)) for w in range(threads_n)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in workers)
    assert errors == []
    report = _verify(engine)
    assert (report.ok, report.checked) == (True, threads_n * per_thread)
    events = audit_events(engine)
    assert len({e.hash for e in events}) == len({e.prev_hash for e in events}) == 200
    assert {(e.actor_id, e.detail) for e in events} == {
        (w, f"i={i}") for w in range(threads_n) for i in range(per_thread)
    }
