"""SQLModel tables. Timestamps are aware UTC; read them back through ``clock.as_utc``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
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
    # Crisis resources shown to the clinic's clients (defaults are the US numbers).
    emergency_number: str = Field(default="911", max_length=20)
    crisis_line_name: str = Field(default="988 Suicide & Crisis Lifeline", max_length=80)
    crisis_line_number: str = Field(default="988", max_length=20)
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
    pcl5_enabled: bool = Field(default=False)
    # Screening answers count from this moment (course start, or a re-screen request).
    screening_requested_at: datetime = Field(default_factory=now, sa_column=_ts())
    screening_reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    screening_reviewed_by_id: int | None = Field(default=None, foreign_key="user.id")


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
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())
    cancel_reason: str = Field(default="", max_length=500)


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
    # "full"; or, after a password sign-in by staff, "verify" (a TOTP code is still owed) or
    # "enrol" (no second factor yet). Only "full" sessions resolve to an actor (auth/sessions.py).
    stage: str = Field(default="full", max_length=16, sa_column_kwargs={"server_default": "full"})


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


class ClinicProtocol(SQLModel, table=True):
    """A clinic's dosing protocol. Defaults come from ``domain.protocol`` (with their sources)."""

    clinic_id: int = Field(primary_key=True, foreign_key="clinic.id")
    dosing_sessions: int = Field(default=6)
    fasting_hours: int = Field(default=4)
    bp_systolic_max: int = Field(default=160)
    bp_diastolic_max: int = Field(default=100)
    pulse_max: int = Field(default=120)
    followup_minutes: str = Field(default="120,1440,4320,10080", max_length=200)
    lapse_days: int = Field(default=90)
    checkin_grace_hours: int = Field(default=12)
    phq9_interval_days: int = Field(default=7)
    gad7_interval_days: int = Field(default=7)
    pcl5_interval_days: int = Field(default=14)
    pre_session_phq9_hours: int = Field(default=72)
    # Unacknowledged this many minutes, an alert escalates to the whole clinic (issue 6).
    escalate_emergency_minutes: int = Field(default=5)
    escalate_urgent_minutes: int = Field(default=15)
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class ConsentDocument(SQLModel, table=True):
    """One published version of a clinic's consent text. Never edited: a change is a new row."""

    __table_args__ = (UniqueConstraint("clinic_id", "version", name="uq_consent_version"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    version: int = Field(ge=1)
    title: str = Field(max_length=200)
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    published_at: datetime = Field(default_factory=now, sa_column=_ts())
    published_by_id: int | None = Field(default=None, foreign_key="user.id")


class ConsentProgress(SQLModel, table=True):
    """The client's place in reading a document: saved as they go, so nothing is lost."""

    __table_args__ = (UniqueConstraint("client_id", "document_id", name="uq_consent_progress"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    document_id: int = Field(foreign_key="consentdocument.id")
    acknowledged: str = Field(default="[]", max_length=2000)  # JSON list of section numbers
    quiz_attempts: int = Field(default=0)
    quiz_passed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class ConsentSignature(SQLModel, table=True):
    """A signed consent. Append-only (database triggers refuse UPDATE and DELETE)."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    document_id: int = Field(foreign_key="consentdocument.id")
    document_version: int
    document_sha256: str = Field(max_length=64)
    signed_name: str = Field(max_length=200)
    signed_at: datetime = Field(default_factory=now, sa_column=_ts())
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


class ConsentWithdrawal(SQLModel, table=True):
    """Withdrawal of a signed consent. Append-only, one per signature."""

    id: int | None = Field(default=None, primary_key=True)
    signature_id: int = Field(foreign_key="consentsignature.id", unique=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    withdrawn_at: datetime = Field(default_factory=now, sa_column=_ts())
    recorded_by_id: int = Field(foreign_key="user.id")
    reason: str = Field(default="", max_length=2000)


class QuestionnaireResponse(SQLModel, table=True):
    """One filling-in of an instrument. A draft is saved answer by answer; submit scores it."""

    __table_args__ = (
        Index(
            "uq_response_one_draft",
            "client_id",
            "instrument",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
        Index("ix_response_client_instrument", "client_id", "instrument", "submitted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id")
    clinic_id: int = Field(foreign_key="clinic.id")
    instrument: str = Field(max_length=32)
    instrument_version: str = Field(max_length=16)
    purpose: str = Field(default="screening", max_length=24)
    status: str = Field(default="draft", max_length=16)
    answers: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    score: int | None = Field(default=None)
    band: str = Field(default="", max_length=64)
    flags: str = Field(default="[]", max_length=1000)  # JSON list of flag codes
    started_at: datetime = Field(default_factory=now, sa_column=_ts())
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ChecklistTemplateItem(SQLModel, table=True):
    """A clinic's preparation step; every dosing session gets its own copy."""

    __table_args__ = (UniqueConstraint("clinic_id", "key", name="uq_template_key"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    key: str = Field(max_length=40)
    position: int = Field(default=0)
    label: str = Field(max_length=160)
    help: str = Field(default="", max_length=1000)
    applies_to: str = Field(default="any", max_length=16)
    due_minutes_before: int = Field(default=0)
    value_kind: str = Field(default="none", max_length=16)
    required: bool = Field(default=True)
    active: bool = Field(default=True)


class ChecklistItem(SQLModel, table=True):
    """One preparation step for one dosing session."""

    __table_args__ = (UniqueConstraint("dosing_session_id", "key", name="uq_checklist_key"),)

    id: int | None = Field(default=None, primary_key=True)
    dosing_session_id: int = Field(foreign_key="dosingsession.id", index=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    key: str = Field(max_length=40)
    position: int = Field(default=0)
    label: str = Field(max_length=160)
    help: str = Field(default="", max_length=1000)
    due_minutes_before: int = Field(default=0)
    due_at: datetime = Field(sa_column=_ts())
    value_kind: str = Field(default="none", max_length=16)
    required: bool = Field(default=True)
    value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # JSON
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    done_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class Alert(SQLModel, table=True):
    """A worrying report for the care team. Raised in the transaction that stores the report."""

    __table_args__ = (Index("ix_alert_client_status", "client_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    client_id: int = Field(foreign_key="user.id")
    severity: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16)
    reason_code: str = Field(max_length=48)
    source_kind: str = Field(max_length=24)
    source_id: int
    created_at: datetime = Field(default_factory=now, sa_column=_ts(index=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    acknowledged_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolution_note: str = Field(default="", max_length=2000)
    # Every rule the source record met (JSON list of codes); ``reason_code`` is the gravest.
    rules: str = Field(default="[]", max_length=1000)
    # The alert inbox (issue 6): who owns it now, when it escalated, how it was resolved.
    assigned_to_id: int | None = Field(default=None, foreign_key="user.id")
    escalated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    outcome: str = Field(default="", max_length=24)  # a code of inbox.OUTCOMES


class ClinicSafetyRule(SQLModel, table=True):
    """A clinic's setting of one safety rule: its tier and thresholds (``domain.safety``)."""

    __table_args__ = (UniqueConstraint("clinic_id", "code", name="uq_safety_rule_code"),)

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    code: str = Field(max_length=48)
    tier: str = Field(max_length=16)
    threshold: int | None = Field(default=None)
    systolic: int | None = Field(default=None)
    diastolic: int | None = Field(default=None)
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class CheckIn(SQLModel, table=True):
    """One daily mood check-in per client per local day; a second submission updates it."""

    __table_args__ = (
        UniqueConstraint("client_id", "local_date", name="uq_checkin_day"),
        CheckConstraint("mood IS NULL OR mood BETWEEN 1 AND 5", name="ck_checkin_mood"),
        CheckConstraint("anxiety IS NULL OR anxiety BETWEEN 1 AND 5", name="ck_checkin_anxiety"),
        CheckConstraint("sleep IS NULL OR sleep BETWEEN 1 AND 5", name="ck_checkin_sleep"),
        CheckConstraint("energy IS NULL OR energy BETWEEN 1 AND 5", name="ck_checkin_energy"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id")
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    local_date: date
    status: str = Field(default="draft", max_length=16)  # draft | submitted
    mood: int | None = Field(default=None)
    anxiety: int | None = Field(default=None)
    sleep: int | None = Field(default=None)
    energy: int | None = Field(default=None)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    late: bool = Field(default=False)
    captured_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class SubmissionReceipt(SQLModel, table=True):
    """A client-generated submission id already applied: a retry or replay returns its result."""

    __table_args__ = (UniqueConstraint("client_id", "submission_id", name="uq_receipt_submission"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id")
    submission_id: str = Field(max_length=64)
    kind: str = Field(max_length=24)  # checkin | symptom_report
    record_id: int
    created_at: datetime = Field(default_factory=now, sa_column=_ts())


class SymptomReport(SQLModel, table=True):
    """A post-session symptom report at one follow-up offset after a completed dosing session."""

    __table_args__ = (
        UniqueConstraint("dosing_session_id", "offset_minutes", name="uq_symptom_report_offset"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id", index=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    dosing_session_id: int = Field(foreign_key="dosingsession.id")
    offset_minutes: int
    due_at: datetime = Field(sa_column=_ts())
    status: str = Field(default="draft", max_length=16)  # draft | submitted
    answers: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    systolic: int | None = Field(default=None)
    diastolic: int | None = Field(default=None)
    pulse: int | None = Field(default=None)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    max_grade: int = Field(default=0)
    grades: str = Field(default="{}", max_length=2000)  # JSON item -> CTCAE-like grade
    triage: str = Field(default="none", max_length=16)  # none | routine | urgent | emergency
    captured_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class SafetyPlan(SQLModel, table=True):
    """The client's Stanley-Brown safety plan: six steps, written with the clinician."""

    client_id: int = Field(primary_key=True, foreign_key="user.id")
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    warning_signs: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    coping: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    distractions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    people: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    professionals: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    environment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reasons: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class ExerciseAssignment(SQLModel, table=True):
    """An integration exercise from the library, assigned to a client (and a session)."""

    __table_args__ = (Index("ix_exercise_client_due", "client_id", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="user.id")
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    dosing_session_id: int | None = Field(default=None, foreign_key="dosingsession.id")
    exercise: str = Field(max_length=32)
    due_date: date
    note: str = Field(default="", max_length=1000)  # the clinician's words to the client
    status: str = Field(default="assigned", max_length=16)  # assigned | completed | withdrawn
    response: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    assigned_by_id: int = Field(foreign_key="user.id")
    assigned_at: datetime = Field(default_factory=now, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class PushSubscription(SQLModel, table=True):
    """One device's Web Push subscription. The endpoint is a bearer capability: kept, never
    logged or shown; rows are found by its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    endpoint_hash: str = Field(max_length=64, unique=True)
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    device: str = Field(default="", max_length=80)  # "Chrome on Android", from the user agent
    push_host: str = Field(default="", max_length=120)
    status: str = Field(default="active", max_length=16)  # active|expired|unsubscribed|refused
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    seen_at: datetime = Field(default_factory=now, sa_column=_ts())  # last re-save by the app
    disabled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_failure_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_outcome: str = Field(default="", max_length=16)


class ReminderPreference(SQLModel, table=True):
    """When a user wants reminders, and what their devices last said about permission."""

    user_id: int = Field(primary_key=True, foreign_key="user.id")
    checkin_enabled: bool = Field(default=True)
    checkin_time: str = Field(default="19:00", max_length=5)  # local HH:MM
    quiet_start: str = Field(default="22:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    permission: str = Field(default="", max_length=16)  # granted | denied | default | ""
    permission_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(default_factory=now, sa_column=_ts())


class Notification(SQLModel, table=True):
    """The reminder outbox: written before anything is sent, one row per (user, kind, slot).

    A worker claims a row by a conditional update (pending, or sending with an expired lease)
    and records every attempt, so several workers never send twice and a crash is retried."""

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "slot", name="uq_notification_slot"),
        Index("ix_notification_work", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True)  # opaque id carried in the payload
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=24)
    slot: str = Field(max_length=64)
    url: str = Field(default="/", max_length=200)
    due_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|skipped
    outcome: str = Field(default="", max_length=24)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    shown_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    clicked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DeliveryAttempt(SQLModel, table=True):
    """One send of one notification to one device, whatever came of it."""

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    subscription_id: int = Field(foreign_key="pushsubscription.id", index=True)
    attempted_at: datetime = Field(default_factory=now, sa_column=_ts())
    outcome: str = Field(max_length=16)
    status_code: int | None = Field(default=None)
    retry_after: int | None = Field(default=None)
    duration_ms: int = Field(default=0)
    worker: str = Field(default="", max_length=64)


# --- Caseload dashboard (issue 6, item 2) ------------------------------------------------------


class ClientSummary(SQLModel, table=True):
    """One client's dashboard figures, kept up to date as their records are written
    (``services.dashboard``) so the caseload reads one row per client, never their history.

    Figures are for the client's local day ``computed_for``; a row from an earlier day is
    recomputed when read (adherence windows move at midnight). Meanings: ``domain.adherence``.
    """

    __table_args__ = (Index("ix_clientsummary_clinic_attention", "clinic_id", "attention"),)

    client_id: int = Field(primary_key=True, foreign_key="user.id")
    clinic_id: int = Field(foreign_key="clinic.id")  # indexed with attention, below
    computed_for: date
    computed_at: datetime = Field(default_factory=now, sa_column=_ts())
    course_status: str = Field(default="", max_length=16)  # "" when no course
    on_time_7: int = Field(default=0)
    late_7: int = Field(default=0)
    days_7: int = Field(default=0)
    on_time_30: int = Field(default=0)
    late_30: int = Field(default=0)
    days_30: int = Field(default=0)
    last_checkin_date: date | None = Field(default=None)
    recency: str = Field(default="never", max_length=8)  # 2d | 7d | older | never
    streak: int = Field(default=0)
    last_mood: int | None = Field(default=None)
    mood_14d: str = Field(default="[]", max_length=200)  # JSON: 14 ints or nulls, oldest first
    phq9_score: int | None = Field(default=None)
    phq9_band: str = Field(default="", max_length=64)
    phq9_baseline: int | None = Field(default=None)  # None while the latest is the baseline
    gad7_score: int | None = Field(default=None)
    gad7_band: str = Field(default="", max_length=64)
    gad7_baseline: int | None = Field(default=None)
    next_session_id: int | None = Field(default=None)
    next_session_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    readiness: str = Field(default="", max_length=8)  # green | amber | red | ""
    alerts_emergency: int = Field(default=0)
    alerts_urgent: int = Field(default=0)
    alerts_routine: int = Field(default=0)
    reminders: str = Field(default="never", max_length=16)  # domain.adherence.reminder_state
    attention: int = Field(default=0)  # domain.adherence.ATTENTION: higher needs attention first


# --- Clinician single sign-on (issue 7, part 1) -------------------------------------------------


class ExternalIdentity(SQLModel, table=True):
    """An account at an OpenID provider, linked to one user by (issuer, subject).

    Later sign-ins find the user by this pair, so a changed email at the provider never moves
    the link to another account. ``email`` is the verified address at link time, for review.
    """

    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_external_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="user.id", index=True)
    email: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    last_used_at: datetime = Field(default_factory=now, sa_column=_ts())


class OidcPendingLogin(SQLModel, table=True):
    """A sign-in in flight at an OpenID provider: single use, minutes long.

    Found by the SHA-256 of the ``state`` sent to the provider and bound to the browser that
    started it by the SHA-256 of a random value in an HttpOnly cookie. Deleted when used.
    """

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    browser_hash: str = Field(max_length=64)
    provider: str = Field(max_length=40)  # the provider's key ("default" for the env one)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    return_to: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts(index=True))


# --- Two-factor sign-in (issue 7, part 2) -------------------------------------------------------


class TotpCredential(SQLModel, table=True):
    """A staff member's authenticator-app secret (RFC 6238), encrypted at rest (Fernet).

    ``confirmed_at`` is NULL while enrolling. ``last_used_step`` is the 30-second step of the last
    accepted code: a code is accepted only for a later step, so a seen code cannot be replayed.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    secret_encrypted: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    confirmed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_step: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code; only the SHA-256 of its normalized form is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class TrustedDevice(SQLModel, table=True):
    """A browser that may skip the code step for 30 days: a random token in an HttpOnly cookie,
    only its SHA-256 stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=now, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    user_agent: str = Field(default="", max_length=200)
