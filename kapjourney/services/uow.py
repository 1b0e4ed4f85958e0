"""Unit of work for adapters: one transaction, with denials audited even when work rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from kapjourney.db import session_scope
from kapjourney.domain.errors import AccessDenied
from kapjourney.services import audit


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    try:
        with session_scope(engine) as session:
            yield session
    except AccessDenied as denied:
        with session_scope(engine) as session:
            audit.record(
                session,
                action="access_denied",
                outcome="denied",
                actor_id=denied.actor_id,
                subject_client_id=denied.subject_client_id,
                target=denied.target,
                ip=denied.ip,
            )
        raise
