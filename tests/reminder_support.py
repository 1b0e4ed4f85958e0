"""Helpers for the reminder tests: clients in any time zone with their phones subscribed, through
the same services the app uses, and readers for the outbox and its delivery log."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import date

from sqlmodel import Session, select

from kapjourney import db
from kapjourney.domain.enums import CourseStatus, Role
from kapjourney.domain.models import (
    ClinicianAssignment,
    Course,
    DeliveryAttempt,
    Notification,
    PushSubscription,
    ReminderPreference,
    User,
)
from kapjourney.domain.schemas import Actor
from kapjourney.services import reminders

FCM = "https://fcm.googleapis.com/fcm/send/"
# Health words that must never reach a lock screen (nor the payload behind it).
FORBIDDEN = (
    "ketamine",
    "esketamine",
    "dose",
    "dosing",
    "score",
    "symptom",
    "mood",
    "anxiety",
    "depress",
    "suicid",
    "self-harm",
    "self_harm",
    "chest",
    "nausea",
    "dissociat",
    "phq",
    "gad",
    "cssrs",
    "emergency",
    "urgent",
    "alert",
    "therapy",
    "treatment",
    "session",
)
PAYLOAD_KEYS = {"title", "body", "url", "tag", "id"}


def new_device(user: User, session: Session, endpoint: str | None = None) -> str:
    """Subscribe one more phone of ``user`` (as the push route does); returns its endpoint."""
    endpoint = endpoint or FCM + secrets.token_urlsafe(24)
    reminders.save_device(
        session=session,
        actor=Actor.from_user(user),
        device=reminders.NewDevice(endpoint, "B" + "A" * 86, "C" * 22),
        user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36",
    )
    return endpoint


def add_client(
    session: Session,
    *,
    clinic_id: int,
    zone: str,
    name: str,
    devices: int = 1,
    clinician_id: int | None = None,
) -> User:
    """A client in an open course in ``zone`` with ``devices`` subscribed phones."""
    user = User(
        clinic_id=clinic_id,
        role=Role.CLIENT,
        email=f"{name.lower()}-{secrets.token_hex(3)}@test.example",
        display_name=name,
        timezone=zone,
    )
    session.add(user)
    session.flush()
    session.add(
        Course(
            client_id=user.id,
            clinic_id=clinic_id,
            status=CourseStatus.PREPARATION,
            start_date=date(2026, 11, 1),
        )
    )
    if clinician_id is not None:
        session.add(ClinicianAssignment(clinician_id=clinician_id, client_id=user.id))
    session.flush()
    for _ in range(devices):
        new_device(user, session)
    return user


def set_times(
    session: Session,
    user: User,
    *,
    checkin: str = "19:00",
    quiet: tuple[str, str] = ("22:00", "08:00"),
    enabled: bool = True,
) -> None:
    """Change the reminder time and quiet hours through the settings service."""
    reminders.update_settings(
        session=session,
        actor=Actor.from_user(user),
        checkin_enabled=enabled,
        checkin_time=checkin,
        quiet_start=quiet[0],
        quiet_end=quiet[1],
    )


def store_preference(session: Session, user_id: int, **values: object) -> None:
    """Write a preference row as it stands in the database (for values the settings page would
    refuse today, e.g. saved before the quiet hours were changed)."""
    row = session.get(ReminderPreference, user_id) or ReminderPreference(user_id=user_id)
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)


def notifications(engine, **where: object) -> list[Notification]:
    with db.session_scope(engine) as s:
        query = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return list(s.exec(query).all())


def attempts(engine, notification_id: int | None = None) -> list[DeliveryAttempt]:
    with db.session_scope(engine) as s:
        query = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
        if notification_id is not None:
            query = query.where(DeliveryAttempt.notification_id == notification_id)
        return list(s.exec(query).all())


def device(engine, endpoint: str) -> PushSubscription:
    with db.session_scope(engine) as s:
        return s.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).one()


def endpoints(engine, user_id: int) -> list[str]:
    """The user's subscribed phones, oldest first."""
    with db.session_scope(engine) as s:
        return list(
            s.exec(
                select(PushSubscription.endpoint)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.id)
            ).all()
        )


def sends_by_reminder(engine, sends) -> Counter:
    """How many times each reminder reached each phone: (user, kind, slot, endpoint) -> count,
    matching the recorded sends to outbox rows by the opaque id in the payload."""
    by_public_id = {n.public_id: n for n in notifications(engine)}
    counts: Counter = Counter()
    for sent in sends:
        row = by_public_id[sent.payload["id"]]
        counts[(row.user_id, row.kind, row.slot, sent.target.endpoint)] += 1
    return counts
