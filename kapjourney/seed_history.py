"""Months of demo history: daily check-ins, weekly questionnaires, post-session symptom reports
(some of them worrying, with their alerts: see ``seed_alerts``), safety plans, integration
exercises, and the reminders sent to three clients' phones.

Deterministic (a fixed random seed per client) so the demo and its tests are stable. Nothing is
recorded for the current local day, so every demo client can still check in today. Alerts come
from the clinic's safety rules through the same service the app uses, never inserted by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import Session, select

from kapjourney.clock import as_utc
from kapjourney.domain.instruments import INSTRUMENTS, score
from kapjourney.domain.models import (
    CheckIn,
    Course,
    DeliveryAttempt,
    DosingSession,
    ExerciseAssignment,
    Notification,
    PushSubscription,
    QuestionnaireResponse,
    ReminderPreference,
    SafetyPlan,
    User,
)
from kapjourney.domain.reminders import CHECKIN_DUE, end_of_day
from kapjourney.domain.safety import Facts
from kapjourney.routes import CHECKIN
from kapjourney.seed_alerts import clinician_of, seed_reports
from kapjourney.services import safety
from kapjourney.services.reminders import endpoint_hash


@dataclass(frozen=True)
class Story:
    """How one client's course goes, in numbers the generator turns into daily records."""

    mood_start: float  # 1-5
    mood_gain_per_session: float
    adherence: float  # chance of a check-in on a given day
    silent_last_days: int = 0  # no check-ins lately (a recency tier for the dashboard)
    phq9_start: int = 14
    gad7_start: int = 12
    phq9_drop_per_session: float = 1.5
    item9: int = 0
    weekly: bool = True  # weekly questionnaires start once screening is reviewed


STORIES = {
    "alex@riverbend.example": Story(2.2, 0.35, 0.82, phq9_start=15, gad7_start=12),
    "chris@riverbend.example": Story(
        1.9, 0.0, 0.55, silent_last_days=4, phq9_start=17, gad7_start=15, weekly=False
    ),
    "dana@riverbend.example": Story(
        2.0, 0.5, 0.93, phq9_start=16, gad7_start=11, phq9_drop_per_session=2.8
    ),
    "eli@riverbend.example": Story(2.4, 0.3, 0.72, phq9_start=13, gad7_start=9),
    "farah@riverbend.example": Story(
        2.3, 0.25, 0.8, silent_last_days=10, phq9_start=12, gad7_start=10
    ),
}

NOTES = (
    "Walked by the river after work.",
    "Hard day, but I called my sister.",
    "Slept badly; the neighbours again.",
    "Felt lighter this morning.",
    "Journaled about the session.",
    "Busy at work, a bit on edge.",
    "Good dinner with friends.",
    "",
    "",
    "",
)

SAFETY_PLANS = {
    "chris@riverbend.example": {
        "warning_signs": "Staying in bed past noon; not answering messages.",
        "coping": "Cold water on my face, a walk round the block, the breathing exercise.",
        "distractions": "The coffee shop on 5th; calling Jamie.",
        "people": "Jamie (sister) (555) 010-3344; Priya (friend) (555) 010-7781.",
        "professionals": "Dr. Maya Chen at Riverbend, weekdays (555) 010-0199.",
        "environment": "Jamie keeps my spare medication.",
        "reasons": "My dog, Biscuit. Seeing my niece grow up.",
    },
    "eli@riverbend.example": {
        "warning_signs": "Skipping meals, scrolling at 3 a.m.",
        "coping": "Guitar for twenty minutes. Box breathing.",
        "distractions": "Climbing gym; Sunday football.",
        "people": "Noor (partner).",
        "professionals": "Sam Okafor at Riverbend (555) 010-0199.",
        "environment": "",
        "reasons": "Noor. The trip we are planning.",
    },
    "alex@riverbend.example": {
        "warning_signs": "Cancelling plans, feeling numb.",
        "coping": "Music, a hot shower.",
        "distractions": "",
        "people": "",
        "professionals": "",
        "environment": "",
        "reasons": "",
    },
}

# (client, exercise, session number it follows, days after that session it is due, response)
EXERCISES = (
    ("eli@riverbend.example", "intention", 5, 1, "I set 'let go'. I noticed I could."),
    ("eli@riverbend.example", "journal", 6, 2, "The music in the session felt like a long exhale."),
    ("eli@riverbend.example", "values", 6, 5, "Family, honesty, making things with my hands."),
    ("eli@riverbend.example", "letter", 6, 9, ""),
    ("dana@riverbend.example", "intention", 4, 1, "Kindness. I felt it for about an hour."),
    ("dana@riverbend.example", "breathing", 4, 3, ""),
    ("alex@riverbend.example", "journal", 2, 8, ""),
)


def _local(day: date, hour: int, minute: int, tz: str) -> datetime:
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)))


def _clip(value: float, low: int = 1, high: int = 5) -> int:
    return max(low, min(high, round(value)))


def _sessions(session: Session, client: User) -> list[DosingSession]:
    return list(
        session.exec(
            select(DosingSession)
            .where(DosingSession.client_id == client.id, DosingSession.status == "completed")
            .order_by(DosingSession.scheduled_at)
        ).all()
    )


def seed_history(session: Session, *, today: date, tz: str) -> None:
    for email, story in STORIES.items():
        client = session.exec(select(User).where(User.email == email)).one()
        course = session.exec(select(Course).where(Course.client_id == client.id)).one()
        done = _sessions(session, client)
        rng = random.Random(email)  # noqa: S311 - repeatable demo data, not a secret
        _checkins(session, client, course.start_date, today, tz, story, done, rng)
        _questionnaires(session, client, course.start_date, today, tz, story, done, rng)
        seed_reports(session, client, email, done)
    _plans(session)
    _exercises(session, today)
    _reminders(session, today, tz)
    session.flush()


def _sessions_before(done: list[DosingSession], at: datetime) -> int:
    return sum(1 for d in done if as_utc(d.scheduled_at) <= at)


def _checkins(session, client, start, today, tz, story, done, rng) -> None:
    day = start + timedelta(days=1)
    last = today - timedelta(days=1 + story.silent_last_days)
    while day <= last:
        if rng.random() < story.adherence:
            at = _local(day, 19 + rng.randrange(3), rng.randrange(60), tz)
            sessions = _sessions_before(done, at)
            # A dip the day after dosing is common; the trend climbs with each session.
            after_dose = any(
                as_utc(d.scheduled_at).astimezone(ZoneInfo(tz)).date() == day - timedelta(days=1)
                for d in done
            )
            base = story.mood_start + story.mood_gain_per_session * sessions
            mood = _clip(base + rng.uniform(-0.9, 0.9) - (0.6 if after_dose else 0))
            late = rng.random() < 0.08
            captured = _local(day + timedelta(days=1), 8, rng.randrange(60), tz) if late else at
            session.add(
                CheckIn(
                    client_id=client.id or 0,
                    clinic_id=client.clinic_id,
                    local_date=day,
                    status="submitted",
                    mood=mood,
                    anxiety=_clip(5.6 - base + rng.uniform(-0.9, 0.9)),
                    sleep=_clip(base + rng.uniform(-1.2, 1.0)),
                    energy=_clip(base + rng.uniform(-1, 1)) if rng.random() < 0.6 else None,
                    note=rng.choice(NOTES),
                    late=late,
                    captured_at=captured,
                    submitted_at=captured,
                    updated_at=captured,
                )
            )
        day += timedelta(days=1)


def _answers_for(instrument: str, total: int, rng: random.Random, item9: int = 0) -> dict:
    """Item answers that add up to ``total`` (spread over the scored items)."""
    form = INSTRUMENTS[instrument]
    keys = [i.key for i in form.items if i.scored and i.key != "q9"]
    top = max(c.value for c in form.items[0].choices)
    answers = {k: 0 for k in keys}
    remaining = max(0, total - item9)
    while remaining > 0:
        k = rng.choice(keys)
        if answers[k] < top:
            answers[k] += 1
            remaining -= 1
    if instrument == "phq9":
        answers["q9"] = item9
        answers["q10"] = 1 if total >= 10 else 0
    return answers


def _questionnaires(session, client, start, today, tz, story, done, rng) -> None:
    """Weekly PHQ-9 and GAD-7 after the baseline, falling as sessions accumulate."""
    if not story.weekly:
        return
    week = 1
    while True:
        day = start + timedelta(days=7 * week)
        if day >= today - timedelta(days=story.silent_last_days):
            break
        at = _local(day, 18, 30, tz)
        sessions = _sessions_before(done, at)
        phq = max(0, round(story.phq9_start - story.phq9_drop_per_session * sessions))
        gad = max(0, round(story.gad7_start - story.phq9_drop_per_session * 0.8 * sessions))
        for key, total in (("phq9", phq + rng.randrange(-1, 2)), ("gad7", gad)):
            total = max(0, total)
            item9 = story.item9 if key == "phq9" and week == 1 else 0
            answers = _answers_for(key, total, rng, item9)
            result = score(INSTRUMENTS[key], answers)
            response = QuestionnaireResponse(
                client_id=client.id or 0,
                clinic_id=client.clinic_id,
                instrument=key,
                instrument_version=INSTRUMENTS[key].version,
                purpose="weekly",
                status="submitted",
                answers=json.dumps(answers),
                score=result.total,
                band=result.band,
                flags=json.dumps(list(result.flags)),
                started_at=at,
                updated_at=at,
                submitted_at=at + timedelta(minutes=4),
            )
            session.add(response)
            session.flush()
            safety.apply(
                session,
                client=client,
                facts=Facts(key, answers),
                source_kind="questionnaire",
                source_id=response.id or 0,
            )
        week += 1


def _plans(session: Session) -> None:
    for email, steps in SAFETY_PLANS.items():
        client = session.exec(select(User).where(User.email == email)).one()
        session.add(
            SafetyPlan(
                client_id=client.id or 0,
                clinic_id=client.clinic_id,
                updated_by_id=clinician_of(session, client),
                **steps,
            )
        )


def _exercises(session: Session, today: date) -> None:
    for email, exercise, number, days_after, response in EXERCISES:
        client = session.exec(select(User).where(User.email == email)).one()
        dosing = session.exec(
            select(DosingSession).where(
                DosingSession.client_id == client.id, DosingSession.number == number
            )
        ).one()
        dosed_on = as_utc(dosing.scheduled_at).date()
        due = dosed_on + timedelta(days=days_after)
        completed = as_utc(dosing.scheduled_at) + timedelta(days=days_after, hours=9)
        finished = bool(response) or exercise == "breathing"
        session.add(
            ExerciseAssignment(
                client_id=client.id or 0,
                clinic_id=client.clinic_id,
                dosing_session_id=dosing.id,
                exercise=exercise,
                due_date=max(due, today) if not finished else due,
                status="completed" if finished else "assigned",
                response=response,
                assigned_by_id=clinician_of(session, client) or 0,
                assigned_at=as_utc(dosing.scheduled_at) + timedelta(hours=3),
                completed_at=completed if finished else None,
                updated_at=completed if finished else as_utc(dosing.scheduled_at),
            )
        )


# Phones that get reminders, and how the last ones went, so the care team's Reminders panel shows
# each state: Chris's reach him (though he has stopped checking in), Farah's subscription ended
# (the push service answered 410), Dana turned notifications off on her phone. Alex, Bea and Eli
# never turned reminders on. The endpoints are made up: no push service knows them, so when the
# app's reminder worker sends to an active demo device the attempt fails and the panel says so.
DEVICES = {
    "chris@riverbend.example": ("Chrome on Android", "reaching"),
    "farah@riverbend.example": ("Chrome on Android", "expired"),
    "dana@riverbend.example": ("Samsung Internet on Android", "revoked"),
}
LAST_SENT_DAYS_AGO = {"reaching": 1, "expired": 12, "revoked": 3}
REMINDER_DAYS = 7  # daily check-in reminders accepted, up to the last one
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SEED_WORKER = "demo-seed"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def demo_subscription(name: str) -> tuple[str, str, str]:
    """A demo device's endpoint, p256dh and auth: a real P-256 point and a 16-byte secret,
    derived from the name so every seed makes the same ones."""
    digest = hashlib.sha256(f"kap-journey-demo-push:{name}".encode()).digest()
    secret = int.from_bytes(digest, "big") % (P256_ORDER - 1) + 1
    point = (
        ec.derive_private_key(secret, ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    auth = hashlib.sha256(b"auth:" + digest).digest()[:16]
    return f"https://fcm.googleapis.com/fcm/send/demo-{name}", _b64url(point), _b64url(auth)


def _reminders(session: Session, today: date, tz: str) -> None:
    for email, (label, story) in DEVICES.items():
        client = session.exec(select(User).where(User.email == email)).one()
        course = session.exec(select(Course).where(Course.client_id == client.id)).one()
        endpoint, p256dh, auth = demo_subscription(email.split("@")[0])
        added = _local(course.start_date + timedelta(days=1), 20, 5, tz)
        device = PushSubscription(
            user_id=client.id or 0,
            endpoint=endpoint,
            endpoint_hash=endpoint_hash(endpoint),
            p256dh=p256dh,
            auth=auth,
            device=label,
            push_host="fcm.googleapis.com",
            created_at=added,
            seen_at=added,
        )
        session.add(device)
        session.flush()
        last = today - timedelta(days=LAST_SENT_DAYS_AGO[story])
        for back in range(REMINDER_DAYS - 1, -1, -1):
            _reminder(session, client, device, last - timedelta(days=back), tz, gone=False)
        device.seen_at = _local(last, 19, 1, tz)
        preference = ReminderPreference(
            user_id=client.id or 0, permission="granted", permission_at=added, updated_at=added
        )
        if story == "expired":  # the next reminder met a 410: the subscription had ended
            _reminder(session, client, device, last + timedelta(days=1), tz, gone=True)
            device.status, device.disabled_at = "expired", device.last_failure_at
        if story == "revoked":  # her phone reported the permission gone the next morning
            preference.permission = "denied"
            preference.permission_at = _local(last + timedelta(days=1), 8, 10, tz)
            device.seen_at = preference.permission_at
        session.add(device)
        session.add(preference)


def _reminder(
    session: Session, client: User, device: PushSubscription, day: date, tz: str, *, gone: bool
) -> None:
    """One daily check-in reminder at 19:00 and its one attempt: accepted (201) or gone (410)."""
    due = _local(day, 19, 0, tz)
    at = due + timedelta(seconds=4)
    checked_in = session.exec(
        select(CheckIn.id).where(CheckIn.client_id == client.id, CheckIn.local_date == day)
    ).first()
    notification = Notification(
        public_id=hashlib.sha256(f"{client.email}:{CHECKIN_DUE}:{day}".encode()).hexdigest()[:32],
        user_id=client.id or 0,
        kind=CHECKIN_DUE,
        slot=day.isoformat(),
        url=CHECKIN,
        due_at=due,
        expires_at=end_of_day(day, ZoneInfo(tz)),
        status="failed" if gone else "sent",
        outcome="gone" if gone else "sent",
        attempts=1 if gone else 0,
        claimed_by=SEED_WORKER,
        created_at=due,
        sent_at=None if gone else at,
        shown_at=None if gone else at + timedelta(seconds=3),
        clicked_at=at + timedelta(minutes=6) if checked_in and not gone else None,
    )
    session.add(notification)
    session.flush()
    session.add(
        DeliveryAttempt(
            notification_id=notification.id or 0,
            subscription_id=device.id or 0,
            attempted_at=at,
            outcome="gone" if gone else "sent",
            status_code=410 if gone else 201,
            duration_ms=110 + (day.toordinal() * 37) % 140,
            worker=SEED_WORKER,
        )
    )
    device.last_outcome = "gone" if gone else "sent"
    if gone:
        device.last_failure_at = at
    else:
        device.last_success_at = at
