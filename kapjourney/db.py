"""Engine and transaction scope.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, a busy timeout and
foreign keys on, and every transaction begins ``IMMEDIATE`` so a read that later writes never
fails with SQLITE_BUSY. PostgreSQL needs none of that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

from kapjourney.settings import get_settings

BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            # Connections are kept and reused: opening one costs its PRAGMAs, and closing the
            # last one makes SQLite checkpoint the write-ahead log (2-3 ms each, every session).
            # A connection goes back to the pool rolled back, so none holds a transaction.
            **(
                {}
                if _in_memory(url)
                else {"poolclass": QueuePool, "pool_size": 8, "max_overflow": 24}
            ),
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:" or "mode=memory" in url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Hand transaction control to us so BEGIN IMMEDIATE can be issued below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# The database did not answer: unreachable, restarting, locked past the busy timeout, or no
# connection free in the pool. The work did nothing durable and may simply be tried again.
UNAVAILABLE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached, as opposed to a fault in the
    work itself (which must still surface as one)."""
    if isinstance(error, UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


_override: Engine | None = None


@lru_cache(maxsize=1)
def _default_engine() -> Engine:
    return make_engine(get_settings().db_url)


def _forget_inherited_connections() -> None:
    """In a forked worker, never use a connection the parent opened (two processes on one
    socket or file handle corrupt each other's traffic): the child opens its own."""
    engines = [_override] if _override is not None else []
    if _default_engine.cache_info().currsize:
        engines.append(_default_engine())
    for engine in engines:
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def get_engine() -> Engine:
    return _override or _default_engine()


def set_engine(engine: Engine | None) -> None:
    """Point every adapter at another engine (tests); ``None`` restores the configured one."""
    global _override
    _override = engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
