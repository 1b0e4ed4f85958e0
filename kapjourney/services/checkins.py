"""The daily mood check-in: one per client per local day, drafts saved as they are typed, and
idempotent submissions (a retried or replayed submission id never creates a second entry).

Only the client herself reads or writes her check-ins here; staff see them through the
progress and dashboard services, which call ``recent_checkins`` after their own access checks.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain import checkin as rules
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import CheckIn, SubmissionReceipt, User
from kapjourney.domain.schemas import Actor, CheckInScaleView, CheckInView, ChoiceView, TodoItem
from kapjourney.routes import CHECKIN
from kapjourney.services import audit
from kapjourney.services.clients import deny, fetch, load_client
from kapjourney.services.protocol import protocol_for
from kapjourney.services.validation import clean_text

SUBMISSION_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
RECEIPT_KIND = "checkin"
SCALE_VIEWS = [
    CheckInScaleView(
        key=s.key,
        question=s.question,
        required=s.required,
        anchors=[ChoiceView(value=n, label=word) for n, word in enumerate(s.anchors, start=1)],
    )
    for s in rules.SCALES
]


def _client(session: Session, actor: Actor, purpose: str) -> User:
    """The acting client's own row; anyone else is refused (and audited) as not found."""
    if not actor.is_client:
        raise deny(actor, purpose)
    return load_client(session, actor=actor, client_id=actor.user_id, purpose=purpose)


def _grace(session: Session, client: User) -> int:
    return protocol_for(session, client.clinic_id).checkin_grace_hours


def _find(session: Session, client_id: int, day: date) -> CheckIn | None:
    return session.exec(
        select(CheckIn).where(CheckIn.client_id == client_id, CheckIn.local_date == day)
    ).first()


def _row_for(session: Session, client: User, day: date) -> CheckIn:
    """The day's row, created as an empty draft if needed. The unique (client, day) constraint,
    not this read, is what keeps it single: a concurrent insert that loses re-reads the winner."""
    row = _find(session, client.id or 0, day)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = CheckIn(client_id=client.id or 0, clinic_id=client.clinic_id, local_date=day)
            session.add(row)
    except IntegrityError:
        row = _find(session, client.id or 0, day)
        if row is None:  # pragma: no cover - the constraint fired, so the winner exists
            raise
    return row


def _note_problems(row: CheckIn | None) -> dict[str, str]:
    """A kept draft note over the limit is pointed out whenever the day is shown."""
    problem = rules.note_problem(row.note) if row is not None else ""
    return {"note": problem} if problem else {}


def _saved_at(at: datetime, tz: ZoneInfo, today: date) -> str:
    """ "2:11 pm" when saved today, else "9:40 pm yesterday" or "9:40 pm on Thu 19 Nov"."""
    local = as_utc(at).astimezone(tz)
    clock = local.strftime("%-I:%M %p").lower()
    if local.date() == today:
        return clock
    if local.date() == today - timedelta(days=1):
        return f"{clock} yesterday"
    return f"{clock} on {local.strftime('%a %-d %b')}"


def _until(closes: datetime, today: date) -> str:
    """When yesterday's window closes, in words: "noon today", "9:00 am today", "midnight"."""
    if closes.date() > today:
        return "midnight tonight"
    clock = closes.strftime("%-I:%M %p").lower()
    return "noon today" if clock == "12:00 pm" else f"{clock} today"


def _day_name(day: date, today: date) -> str:
    return {0: "today", 1: "yesterday"}.get((today - day).days, "earlier")


def _view(
    session: Session,
    client: User,
    day: date,
    row: CheckIn | None,
    *,
    at: datetime,
    problems: dict[str, str] | None = None,
    replayed: bool = False,
) -> CheckInView:
    tz = ZoneInfo(client.timezone)
    today = at.astimezone(tz).date()
    grace = _grace(session, client)
    is_open = rules.yesterday_open(at, client.timezone, grace)
    closes = rules.window_closes(today, tz, grace)
    status = "new" if row is None else row.status
    return CheckInView(
        day=_day_name(day, today),
        local_date=day.isoformat(),
        date_label=day.strftime("%A %-d %B"),
        status=status,
        mood=row.mood if row else None,
        anxiety=row.anxiety if row else None,
        sleep=row.sleep if row else None,
        energy=row.energy if row else None,
        note=row.note if row else "",
        late=row.late if row is not None and row.status == "submitted" else day < today,
        saved_at=_saved_at(row.submitted_at, tz, today) if row and row.submitted_at else "",
        yesterday_open=is_open,
        yesterday_until=_until(closes, today) if is_open else "",
        note_max=rules.NOTE_MAX,
        scales=SCALE_VIEWS,
        problems=_note_problems(row) | (problems or {}),
        replayed=replayed,
    )


def get_checkin(*, session: Session, actor: Actor, day: object = "today") -> CheckInView:
    """Today's check-in, or yesterday's while its late window is open."""
    client = _client(session, actor, "checkin_viewed")
    at = now()
    local_date, _ = rules.entry_day(
        at, client.timezone, _grace(session, client), rules.parse_day(day)
    )
    return _view(session, client, local_date, _find(session, client.id or 0, local_date), at=at)


def save_checkin_draft(
    *, session: Session, actor: Actor, day: object, field: object, value: object
) -> CheckInView:
    """Keep one answer as it is tapped or typed. A note over the limit is kept (nothing typed is
    lost) and reported as a problem at the field; submitting refuses it until it is shorter."""
    client = _client(session, actor, "checkin_draft")
    at = now()
    local_date, late = rules.entry_day(
        at, client.timezone, _grace(session, client), rules.parse_day(day)
    )
    if not isinstance(field, str) or field not in rules.FIELDS:
        raise ValidationFailed({"form": "That answer could not be saved. Please try again."})
    if field == "note":
        if not isinstance(value, str):
            raise ValidationFailed({"note": "Type your note as text."})
        new_value: object = clean_text(value, max_length=rules.NOTE_KEEP_MAX)[: rules.NOTE_KEEP_MAX]
    else:
        new_value, problem = rules.score_problem(field, value)
        if problem:
            raise ValidationFailed({field: problem})
    row = _row_for(session, client, local_date)
    setattr(row, field, new_value)
    row.late = row.late or late
    row.updated_at = at
    session.add(row)
    session.flush()
    return _view(session, client, local_date, row, at=at)


STALE_CAPTURE = timedelta(days=7)  # older than this, the phone's clock is wrong, not the entry


def _captured(value: object, *, at: datetime, tz_name: str, grace: int) -> datetime:
    """The phone's capture time when plausible (aware, not in the future, within a week), else
    now: a wrong phone clock cannot back-date an entry. A plausible capture on a day whose
    window has closed is refused at ``day`` (kept on the phone with the message) rather than
    moved to today, where it would put one day's answers on another."""
    if not isinstance(value, str) or len(value) > 64:
        return at
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return at
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return at
    try:
        captured = as_utc(parsed)
        day = local_today(tz_name, captured)
    except OverflowError:  # an offset that pushes the instant past year 1 or 9999
        return at
    today = local_today(tz_name, at)
    if captured > at or day > today or at - captured > STALE_CAPTURE:
        return at
    if day == today or (
        day == today - timedelta(days=1) and rules.yesterday_open(at, tz_name, grace)
    ):
        return captured
    raise ValidationFailed(
        {
            "day": f"This check-in was made on {captured.astimezone(ZoneInfo(tz_name)):%a %-d %b}"
            ". That day has closed, so it was not added. Today's check-in is open."
        }
    )


def _replay(
    session: Session, client: User, receipt: SubmissionReceipt, at: datetime
) -> CheckInView:
    row = fetch(session, CheckIn, receipt.record_id)
    if receipt.kind != RECEIPT_KIND or row is None or row.client_id != client.id:
        raise ValidationFailed({"submission_id": "That submission id was already used."})
    return _view(session, client, row.local_date, row, at=at, replayed=True)


def _receipt(session: Session, client_id: int, submission_id: str) -> SubmissionReceipt | None:
    return session.exec(
        select(SubmissionReceipt).where(
            SubmissionReceipt.client_id == client_id,
            SubmissionReceipt.submission_id == submission_id,
        )
    ).first()


def submit_checkin(
    *,
    session: Session,
    actor: Actor,
    submission_id: object,
    day: object,
    mood: object,
    anxiety: object,
    sleep: object,
    energy: object = None,
    note: object = "",
    captured_at: object = None,
) -> CheckInView:
    """Submit a day's check-in. The same ``submission_id`` again returns the stored result and
    changes nothing; another submission for the same day updates that day's entry."""
    client = _client(session, actor, "checkin_submitted")
    if not isinstance(submission_id, str) or not SUBMISSION_ID.fullmatch(submission_id):
        raise ValidationFailed({"submission_id": "This submission has no valid id."})
    at = now()
    if (receipt := _receipt(session, client.id or 0, submission_id)) is not None:
        return _replay(session, client, receipt, at)
    grace = _grace(session, client)
    captured = _captured(captured_at, at=at, tz_name=client.timezone, grace=grace)
    text = clean_text(note, max_length=rules.NOTE_KEEP_MAX)[: rules.NOTE_KEEP_MAX]
    problems: dict[str, str] = {}
    if note is not None and not isinstance(note, str):
        problems["note"] = "Type your note as text."
    try:
        local_date, late = rules.entry_day(
            at, client.timezone, grace, rules.parse_day(day), captured_utc=captured
        )
    except ValidationFailed as refused:
        problems |= refused.fields
    try:
        answers = rules.check_answers(
            {"mood": mood, "anxiety": anxiety, "sleep": sleep, "energy": energy}, text
        )
    except ValidationFailed as refused:
        problems |= refused.fields
    if problems:
        raise ValidationFailed(problems)
    row = _row_for(session, client, local_date)
    try:
        with session.begin_nested():
            session.add(
                SubmissionReceipt(
                    client_id=client.id or 0,
                    submission_id=submission_id,
                    kind=RECEIPT_KIND,
                    record_id=row.id or 0,
                )
            )
    except IntegrityError:  # the same submission, sent twice at once: the first one counts
        receipt = _receipt(session, client.id or 0, submission_id)
        if receipt is None:  # pragma: no cover - the constraint fired, so the receipt exists
            raise
        return _replay(session, client, receipt, at)
    if (
        row.status == "submitted"
        and row.captured_at is not None
        and captured < as_utc(row.captured_at)
    ):
        # An older entry replayed after a newer one (two phones, or a queue that waited): the
        # newer answers stand; the replay is acknowledged and changes nothing.
        session.flush()
        return _view(session, client, local_date, row, at=at)
    row.mood, row.anxiety, row.sleep = answers.mood, answers.anxiety, answers.sleep
    row.energy, row.note = answers.energy, answers.note
    row.status, row.late = "submitted", late
    row.captured_at, row.submitted_at, row.updated_at = captured, at, at
    session.add(row)
    audit.record(
        session,
        action="checkin_submitted",
        actor_id=client.id,
        subject_client_id=client.id,
        target=f"checkin:{row.id}",
        ip=actor.ip,
        detail="late" if late else "",
    )
    session.flush()
    return _view(session, client, local_date, row, at=at)


# --- For other services (the caller has already authorized the client) -----------------------


def todo(session: Session, client: User, at: datetime) -> TodoItem | None:
    """Today's check-in as an item on the client's Today list."""
    if client.role != Role.CLIENT or not client.is_active:
        return None
    row = _find(session, client.id or 0, local_today(client.timezone, at))
    done = row is not None and row.status == "submitted"
    return TodoItem(
        key="checkin",
        title="Daily check-in",
        detail="Done for today: you can still change it" if done else "Takes about 20 seconds",
        href=CHECKIN,
        icon="smile",
        done=done,
    )


def recent_checkins(session: Session, client_id: int, days: int, at: datetime) -> list[CheckIn]:
    """Submitted check-ins of the last ``days`` local days (today included), oldest first."""
    client = fetch(session, User, client_id)
    if client is None or type(days) is not int or days <= 0:
        return []
    today = local_today(client.timezone, at)
    start = today - timedelta(days=min(days, 3660) - 1)
    return list(
        session.exec(
            select(CheckIn)
            .where(
                CheckIn.client_id == client_id,
                CheckIn.status == "submitted",
                CheckIn.local_date >= start,
                CheckIn.local_date <= today,
            )
            .order_by(CheckIn.local_date)
        ).all()
    )
