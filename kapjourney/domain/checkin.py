"""The daily mood check-in as data: its scales with word anchors, the note limit, which local day
an entry belongs to (and whether it is late), and the checks on its answers.

Pure functions only: no database, no clock. The service passes in "now" and the client's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kapjourney.domain.errors import ValidationFailed

NOTE_MAX = 500  # characters a submitted note may have
NOTE_KEEP_MAX = 10_000  # characters a draft note keeps (over NOTE_MAX is reported, not lost)
DAYS = ("today", "yesterday")


@dataclass(frozen=True)
class Scale:
    key: str
    question: str
    anchors: tuple[str, str, str, str, str]  # the words for 1..5
    required: bool = True


SCALES: tuple[Scale, ...] = (
    Scale("mood", "How is your mood?", ("Very low", "Low", "Okay", "Good", "Very good")),
    Scale(
        "anxiety",
        "How anxious do you feel?",
        ("Calm", "A little tense", "Uneasy", "Very anxious", "Overwhelmed"),
    ),
    Scale(
        "sleep",
        "How did you sleep last night?",
        ("Very poor", "Poor", "Okay", "Good", "Very good"),
    ),
    Scale(
        "energy",
        "How is your energy?",
        ("Very low", "Low", "Okay", "Good", "High"),
        required=False,
    ),
)
SCALE_BY_KEY = {s.key: s for s in SCALES}
REQUIRED = tuple(s.key for s in SCALES if s.required)
FIELDS = (*SCALE_BY_KEY, "note")


# --- Which day an entry is for ---------------------------------------------------------------


def window_closes(today: date, tz: ZoneInfo, grace_hours: int) -> datetime:
    """When yesterday stops taking entries: ``grace_hours`` of wall-clock time after local
    midnight today (12 means noon, also on a daylight-saving day; 24 means midnight tonight)."""
    hours = max(0, min(24, grace_hours))
    if hours == 24:
        return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(today, time(hours), tzinfo=tz)


def yesterday_open(at_utc: datetime, tz_name: str, grace_hours: int) -> bool:
    """Whether yesterday's check-in may still be entered (marked late) at ``at_utc``."""
    tz = ZoneInfo(tz_name)
    today = at_utc.astimezone(tz).date()
    return grace_hours > 0 and at_utc < window_closes(today, tz, grace_hours)


def entry_day(
    at_utc: datetime,
    tz_name: str,
    grace_hours: int,
    for_yesterday: bool,
    *,
    captured_utc: datetime | None = None,
) -> tuple[date, bool]:
    """The local date an entry is for, and whether it is late.

    ``at_utc`` is now (when the window is judged); ``captured_utc`` is when the client actually
    answered (an offline entry synced later), already checked as plausible by the caller.
    "Today" and "yesterday" are counted from the capture. An entry for a day before today is
    late, and only yesterday is accepted, only while its window is open: no back-filling.
    Raises ``ValidationFailed({"day": ...})`` otherwise.
    """
    tz = ZoneInfo(tz_name)
    today = at_utc.astimezone(tz).date()
    captured_day = (captured_utc or at_utc).astimezone(tz).date()
    wanted = captured_day - timedelta(days=1 if for_yesterday else 0)
    if wanted > today:
        raise ValidationFailed({"day": "That day has not started yet."})
    if wanted == today:
        return wanted, False
    if wanted == today - timedelta(days=1) and yesterday_open(at_utc, tz_name, grace_hours):
        return wanted, True
    if grace_hours <= 0:
        raise ValidationFailed({"day": "Check-ins can be entered for today only."})
    raise ValidationFailed(
        {"day": "Yesterday's check-in has closed. Today's is open whenever you are ready."}
    )


def parse_day(value: object) -> bool:
    """``True`` for "yesterday", ``False`` for "today"; anything else is a field problem."""
    if isinstance(value, str) and value.strip().lower() in DAYS:
        return value.strip().lower() == "yesterday"
    raise ValidationFailed({"day": 'Choose "today" or "yesterday".'})


# --- Answers -----------------------------------------------------------------------------------


def _whole_number(value: object) -> int | None:
    if type(value) is int:
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= 9:  # "²" and 5,000 digits are refused
        return int(text)
    return None


def score_problem(key: str, value: object) -> tuple[int | None, str]:
    """(the answer, "") when ``value`` is a valid answer to scale ``key`` or empty; else a message.

    Empty (None or "") is no answer, which is fine for a draft; submit checks required ones.
    """
    scale = SCALE_BY_KEY[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    number = _whole_number(value)
    if number is None or not 1 <= number <= 5:
        words = f"from 1 ({scale.anchors[0]}) to 5 ({scale.anchors[4]})"
        return None, f"Choose one of the five answers, {words}."
    return number, ""


def missing_message(key: str) -> str:
    return {
        "mood": "Choose how your mood is.",
        "anxiety": "Choose how anxious you feel.",
        "sleep": "Choose how you slept.",
    }.get(key, "Choose an answer.")


def note_problem(note: str) -> str:
    """A message when a (cleaned) note is longer than a submitted note may be."""
    if len(note) <= NOTE_MAX:
        return ""
    over = len(note) - NOTE_MAX
    extra = f"{over:,} character{'s' if over != 1 else ''}"
    return f"Notes can be up to {NOTE_MAX} characters. Please shorten it by {extra}."


@dataclass(frozen=True)
class Answers:
    mood: int
    anxiety: int
    sleep: int
    energy: int | None
    note: str


def check_answers(values: dict[str, object], note: str) -> Answers:
    """The answers of a submission, or ``ValidationFailed`` naming every field with a problem.

    ``note`` is already cleaned (``clean_text``); the scales are raw values from the client.
    """
    problems: dict[str, str] = {}
    scores: dict[str, int | None] = {}
    for scale in SCALES:
        number, problem = score_problem(scale.key, values.get(scale.key))
        if problem:
            problems[scale.key] = problem
        elif number is None and scale.required:
            problems[scale.key] = missing_message(scale.key)
        scores[scale.key] = number
    if message := note_problem(note):
        problems["note"] = message
    if problems:
        raise ValidationFailed(problems)
    return Answers(
        mood=scores["mood"] or 0,
        anxiety=scores["anxiety"] or 0,
        sleep=scores["sleep"] or 0,
        energy=scores["energy"],
        note=note,
    )
