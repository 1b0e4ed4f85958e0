"""Integration exercises: assigned by the care team from the library, done by the client in text.

The client's writing is saved as a draft while typed and reaches the clinician only once marked
as done. Audit rows name the assignment and the exercise key, never what was written.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.exercises import (
    ASSIGN_AHEAD_DAYS,
    EXERCISES,
    NOTE_MAX,
    RESPONSE_MAX,
    Exercise,
    ExerciseKind,
    ExerciseStatus,
)
from kapjourney.domain.models import ChecklistItem, DosingSession, ExerciseAssignment, User
from kapjourney.domain.schemas import Actor, ExerciseRow, ExerciseView, TodoItem
from kapjourney.routes import exercise_url
from kapjourney.services import audit
from kapjourney.services.clients import deny, fetch, load_client, load_client_for_staff, own_or
from kapjourney.services.formatting import when
from kapjourney.services.validation import clean_text, record_id

STATUS_ORDER = {
    ExerciseStatus.ASSIGNED: 0,
    ExerciseStatus.COMPLETED: 1,
    ExerciseStatus.WITHDRAWN: 2,
}
TOO_LONG = (
    f"An answer can hold up to {RESPONSE_MAX:,} characters. Please shorten it a little: what "
    "you wrote is still here."
)


# --- Reading ---------------------------------------------------------------------------------


def _day(value: date) -> str:
    return value.strftime("%a %-d %b")


def _due(row: ExerciseAssignment, today: date) -> tuple[str, bool]:
    """The due label and whether it is overdue (said kindly: it is never too late)."""
    days = (row.due_date - today).days
    if row.status != ExerciseStatus.ASSIGNED:
        return f"Due {_day(row.due_date)}", False
    if days < 0:
        return f"Was due {_day(row.due_date)}", True
    return {0: "Due today", 1: "Due tomorrow"}.get(days, f"Due {_day(row.due_date)}"), False


def _numbers(session: Session, rows: list[ExerciseAssignment]) -> dict[int, int]:
    ids = {r.dosing_session_id for r in rows if r.dosing_session_id}
    if not ids:
        return {}
    found = session.exec(
        select(DosingSession.id, DosingSession.number).where(DosingSession.id.in_(ids))
    ).all()
    return {i: n for i, n in found}


def _row(
    row: ExerciseAssignment,
    client: User,
    *,
    today: date,
    numbers: dict[int, int],
    names: dict[int, str],
    for_staff: bool,
) -> ExerciseRow:
    spec = EXERCISES.get(row.exercise)
    due, overdue = _due(row, today)
    done = row.status == ExerciseStatus.COMPLETED
    number = numbers.get(row.dosing_session_id or 0)
    return ExerciseRow(
        assignment_id=row.id or 0,
        key=row.exercise,
        title=spec.title if spec else row.exercise,
        kind=str(spec.kind) if spec else "text",
        minutes=spec.minutes if spec else 0,
        due=due,
        due_date=row.due_date.isoformat(),
        overdue=overdue,
        status=row.status,
        session_label=f"After session {number}" if number else "",
        note=row.note,
        completed=when(row.completed_at, client.timezone) if done and row.completed_at else "",
        response=row.response if for_staff and done else "",
        assigned_by=names.get(row.assigned_by_id, ""),
        href=exercise_url(row.id or 0),
    )


def _rows(session: Session, client: User, actor: Actor) -> list[ExerciseRow]:
    query = select(ExerciseAssignment).where(ExerciseAssignment.client_id == client.id)
    if actor.is_client:
        query = query.where(ExerciseAssignment.status != ExerciseStatus.WITHDRAWN)
    found = list(session.exec(query).all())
    found.sort(key=lambda r: (STATUS_ORDER.get(r.status, 3), r.due_date, r.id or 0))
    staff_ids = {r.assigned_by_id for r in found}
    names = {u.id: u.display_name for u in session.exec(select(User).where(User.id.in_(staff_ids)))}
    today = local_today(client.timezone)
    numbers = _numbers(session, found)
    return [
        _row(r, client, today=today, numbers=numbers, names=names, for_staff=actor.is_staff)
        for r in found
    ]


def list_exercises(
    *, session: Session, actor: Actor, client_id: object = None
) -> list[ExerciseRow]:
    """A client's exercises: their own (``client_id`` None), or their care team's view of them
    (with the writing of the finished ones, and the withdrawn ones too)."""
    purpose = "exercises_viewed"
    client = load_client(
        session, actor=actor, client_id=own_or(actor, client_id, purpose), purpose=purpose
    )
    return _rows(session, client, actor)


def intention_for(session: Session, dosing_session_id: int) -> str:
    """The intention the client set (ticked) before a dosing session; "" when there was none."""
    item = session.exec(
        select(ChecklistItem).where(
            ChecklistItem.dosing_session_id == dosing_session_id,
            ChecklistItem.key == "intention",
            ChecklistItem.done_at.is_not(None),
        )
    ).first()
    if item is None or not item.value:
        return ""
    try:
        data = json.loads(item.value)
    except ValueError:
        return ""
    text = data.get("text", "") if isinstance(data, dict) else ""
    return text.strip() if isinstance(text, str) else ""


def _intention(session: Session, row: ExerciseAssignment, client: User) -> tuple[str, str]:
    """The intention to show back, and the session it was set for.

    The assignment's own session when it names one; otherwise the latest session that began
    before the exercise was assigned and had an intention.
    """
    if row.dosing_session_id:
        candidates = [session.get(DosingSession, row.dosing_session_id)]
    else:
        candidates = session.exec(
            select(DosingSession)
            .where(
                DosingSession.client_id == client.id,
                DosingSession.scheduled_at <= as_utc(row.assigned_at),
            )
            .order_by(DosingSession.scheduled_at.desc())
            .limit(12)
        ).all()
    for dosing in candidates:
        if dosing is None:
            continue
        text = intention_for(session, dosing.id or 0)
        if text:
            local = as_utc(dosing.scheduled_at).astimezone(ZoneInfo(client.timezone))
            return text, f"Session {dosing.number}, {_day(local.date())}"
    return "", ""


def _view(session: Session, row: ExerciseAssignment, client: User) -> ExerciseView:
    spec: Exercise | None = EXERCISES.get(row.exercise)
    if spec is None:  # a key retired from the library: show it as a plain writing prompt
        spec = Exercise(row.exercise, "Exercise", ExerciseKind.TEXT, "", (), 10, "")
    due, overdue = _due(row, local_today(client.timezone))
    intention, intention_session = (
        _intention(session, row, client) if spec.kind == ExerciseKind.INTENTION else ("", "")
    )
    number = _numbers(session, [row]).get(row.dosing_session_id or 0)
    return ExerciseView(
        assignment_id=row.id or 0,
        key=spec.key,
        title=spec.title,
        kind=str(spec.kind),
        intro=spec.intro,
        prompts=list(spec.prompts),
        minutes=spec.minutes,
        source=spec.source,
        note=row.note,
        due=due,
        overdue=overdue,
        status=row.status,
        session_label=f"After session {number}" if number else "",
        response=row.response,
        intention=intention,
        intention_session=intention_session,
        completed=when(row.completed_at, client.timezone) if row.completed_at else "",
        max_chars=RESPONSE_MAX,
    )


def _own(
    session: Session, actor: Actor, assignment_id: object, purpose: str
) -> tuple[ExerciseAssignment, User]:
    """The client's own assignment; anything else looks like a missing record."""
    if not actor.is_client:
        raise deny(actor, purpose)
    row = fetch(session, ExerciseAssignment, assignment_id)
    if row is None:
        raise deny(actor, purpose)
    client = load_client(session, actor=actor, client_id=row.client_id, purpose=purpose)
    return row, client


def get_exercise(*, session: Session, actor: Actor, assignment_id: object) -> ExerciseView:
    """One exercise to do: its prompts, the saved draft, and the intention where it has one."""
    row, client = _own(session, actor, assignment_id, "exercise_viewed")
    return _view(session, row, client)


# --- The client writing ----------------------------------------------------------------------


def _writable(row: ExerciseAssignment) -> None:
    if row.status == ExerciseStatus.WITHDRAWN:
        raise ValidationFailed(
            {"form": "Your care team has taken this exercise off your list. Nothing to do here."}
        )
    if row.status == ExerciseStatus.COMPLETED:
        raise ValidationFailed({"form": "This exercise is already done."})


def _text(text: object) -> str:
    if text is not None and not isinstance(text, str):
        raise ValidationFailed({"text": "Please write your answer as text."})
    cleaned = clean_text(text, max_length=RESPONSE_MAX)
    if len(cleaned) > RESPONSE_MAX:
        raise ValidationFailed({"text": TOO_LONG})
    return cleaned


def save_exercise_draft(
    *, session: Session, actor: Actor, assignment_id: object, text: object
) -> ExerciseView:
    """Keep what is typed. Too long is refused with a message (the last draft that fitted stays
    saved, and the page keeps every character)."""
    row, client = _own(session, actor, assignment_id, "exercise_draft")
    _writable(row)
    cleaned = _text(text)
    if cleaned != row.response:
        row.response = cleaned
        row.updated_at = now()
        session.add(row)
        session.flush()
    return _view(session, row, client)


def complete_exercise(
    *, session: Session, actor: Actor, assignment_id: object, text: object
) -> ExerciseView:
    """Mark as done with the final text; the clinician can read it from then on."""
    row, client = _own(session, actor, assignment_id, "exercise_completed")
    if row.status == ExerciseStatus.COMPLETED:
        return _view(session, row, client)  # a second tap on "Mark as done"
    _writable(row)
    cleaned = _text(text)
    spec = EXERCISES.get(row.exercise)
    if not cleaned and (spec is None or spec.needs_text):
        raise ValidationFailed({"text": "Write a few words first: a single line is enough."})
    row.response = cleaned
    row.status = ExerciseStatus.COMPLETED
    row.completed_at = row.updated_at = now()
    session.add(row)
    session.flush()
    _audit(session, actor, row, "exercise_completed")
    return _view(session, row, client)


def _audit(session: Session, actor: Actor, row: ExerciseAssignment, action: str) -> None:
    audit.record(
        session,
        action=action,
        actor_id=actor.user_id,
        subject_client_id=row.client_id,
        target=f"exercise:{row.id}",
        ip=actor.ip,
        detail=f"key={row.exercise}",
    )


# --- The care team assigning -----------------------------------------------------------------


def _due_date(value: object, today: date, problems: dict[str, str]) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        due = value
    elif isinstance(value, str) and value.strip():
        try:
            due = date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else None
        except ValueError:
            due = None
        if due is None:
            problems["due_date"] = "Enter the date as YYYY-MM-DD, or pick it from the calendar."
            return today
    else:
        problems["due_date"] = "Choose a due date."
        return today
    if due < today:
        problems["due_date"] = "Choose today or a later day (in the client's time zone)."
    elif due > today + timedelta(days=ASSIGN_AHEAD_DAYS):
        problems["due_date"] = "Choose a date within the next year."
    return due


def _dosing(session: Session, value: object, client: User, problems: dict[str, str]) -> int | None:
    if value is None or value in ("", 0, "0"):
        return None
    dosing = fetch(session, DosingSession, record_id(value))
    if dosing is None or dosing.client_id != client.id:
        problems["dosing_session_id"] = "Choose one of this client's sessions, or none."
        return None
    return dosing.id


def assign_exercise(
    *,
    session: Session,
    actor: Actor,
    client_id: object,
    exercise: object,
    due_date: object,
    dosing_session_id: object = None,
    note: object = "",
) -> list[ExerciseRow]:
    """Assign a library exercise to a client (and, optionally, one of their sessions)."""
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="exercise_assigned"
    )
    problems: dict[str, str] = {}
    spec = EXERCISES.get(exercise) if isinstance(exercise, str) else None
    if spec is None:
        problems["exercise"] = "Choose an exercise from the library."
    due = _due_date(due_date, local_today(client.timezone), problems)
    dosing_id = _dosing(session, dosing_session_id, client, problems)
    words = clean_text(note, max_length=NOTE_MAX)
    if note is not None and not isinstance(note, str):
        problems["note"] = "Write the note as text."
    elif len(words) > NOTE_MAX:
        problems["note"] = f"Keep the note under {NOTE_MAX:,} characters."
    if problems or spec is None:
        raise ValidationFailed(problems)
    row = ExerciseAssignment(
        client_id=client.id or 0,
        clinic_id=client.clinic_id,
        dosing_session_id=dosing_id,
        exercise=spec.key,
        due_date=due,
        note=words,
        assigned_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    _audit(session, actor, row, "exercise_assigned")
    return _rows(session, client, actor)


def withdraw_exercise(
    *, session: Session, actor: Actor, assignment_id: object
) -> list[ExerciseRow]:
    """Take an exercise off the client's list. A finished one stays in the record."""
    purpose = "exercise_withdrawn"
    if not actor.is_staff:
        raise deny(actor, purpose)
    row = fetch(session, ExerciseAssignment, assignment_id)
    if row is None:
        raise deny(actor, purpose)
    client = load_client_for_staff(session, actor=actor, client_id=row.client_id, purpose=purpose)
    if row.status == ExerciseStatus.COMPLETED:
        raise ValidationFailed({"form": "This exercise is already done, so it stays on record."})
    if row.status == ExerciseStatus.ASSIGNED:
        row.status = ExerciseStatus.WITHDRAWN
        row.updated_at = now()
        session.add(row)
        session.flush()
        _audit(session, actor, row, purpose)
    return _rows(session, client, actor)


# --- Today -------------------------------------------------------------------------------------


def todos(session: Session, client: User, at: datetime) -> list[TodoItem]:
    """Exercises due today or overdue, for the client's Today list."""
    today = local_today(client.timezone, at)
    rows = session.exec(
        select(ExerciseAssignment)
        .where(
            ExerciseAssignment.client_id == client.id,
            ExerciseAssignment.status == ExerciseStatus.ASSIGNED,
            ExerciseAssignment.due_date <= today,
        )
        .order_by(ExerciseAssignment.due_date, ExerciseAssignment.id)
    ).all()
    items = []
    for row in rows:
        spec = EXERCISES.get(row.exercise)
        items.append(
            TodoItem(
                key=f"exercise-{row.id}",
                title=spec.title if spec else "An exercise from your care team",
                detail="Due today"
                if row.due_date == today
                else f"Whenever you're ready (it was due {_day(row.due_date)})",
                href=exercise_url(row.id or 0),
                icon="wind" if spec and spec.kind == ExerciseKind.BREATHING else "notebook-pen",
            )
        )
    return items
