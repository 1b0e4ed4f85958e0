"""SQLModel tables. Timestamps are aware UTC; read them back through ``clock.as_utc``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from kapjourney.clock import now
from kapjourney.domain.enums import CourseStatus, DosingRoute, DosingSetting, DosingStatus, Role


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every engine.

    SQLite keeps no offset: without this, 10:00 in Los Angeles would be stored as "10:00" and
    read back as 10:00 UTC. Naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (see kapjourney.clock)")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Clinic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    slug: str = Field(max_length=60, unique=True)
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    crisis_phone: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())


class User(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("role in ('client','clinician','admin')", name="ck_user_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    role: Role = Field(sa_type=String(16))
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=80)
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    last_sign_in_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ClinicianAssignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("clinician_id", "client_id", name="uq_assignment"),)

    id: int | None = Field(default=None, primary_key=True)
    clinician_id: int = Field(foreign_key="user.id", index=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())


class Invite(SQLModel, table=True):
    """A single-use link that lets an invited client set a password. Only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    status: CourseStatus = Field(default=CourseStatus.SCREENING, sa_type=String(16))
    start_date: date
    planned_sessions: int = Field(default=6, ge=1, le=48)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())


class DosingSession(SQLModel, table=True):
    __table_args__ = (Index("ix_dosing_client_time", "client_id", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    client_id: int = Field(foreign_key="user.id")
    number: int = Field(ge=1)
    scheduled_at: datetime = Field(sa_column=_ts())
    route: DosingRoute = Field(sa_type=String(24))
    setting: DosingSetting = Field(sa_type=String(16))
    status: DosingStatus = Field(default=DosingStatus.SCHEDULED, sa_type=String(16))
    created_at: datetime = Field(default_factory=now, sa_column=_ts())


class AuthSession(SQLModel, table=True):
    """A server-side sign-in. The cookie holds a random token; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    last_seen_at: datetime = Field(default_factory=now, sa_column=_ts())
    idle_expires_at: datetime = Field(sa_column=_ts())
    absolute_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    user_agent: str = Field(default="", max_length=200)
    ip: str = Field(default="", max_length=64)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, for throttling per account (hashed email) and per address."""

    __table_args__ = (
        Index("ix_signin_failure_account", "account_key", "occurred_at"),
        Index("ix_signin_failure_ip", "ip", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=64)
    ip: str = Field(default="", max_length=64)
    occurred_at: datetime = Field(default_factory=now, sa_column=_ts())


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained. ``detail`` holds codes and counts, never health data."""

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=now, sa_column=_ts(index=True))
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=48)
    outcome: str = Field(default="ok", max_length=16)
    subject_client_id: int | None = Field(default=None, index=True)
    target: str = Field(default="", max_length=80)
    ip: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=200)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """One row holding the newest audit hash; locked to serialize appends on every engine."""

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = Field(default=0)
    last_hash: str = Field(max_length=64)
