"""A client's history as one timeline for the care team: its kinds, tones and view models.

``services.history`` turns what the client recorded (and what the team did about it) into
``HistoryEntry`` rows, newest first. Everything here is plain text: titles and detail lines are
shown by text components, so a note that holds markup shows as the characters typed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

# The kinds a clinician can filter on, in the order the filter chips show them.
KIND_LABELS: dict[str, str] = {
    "checkin": "Check-ins",
    "questionnaire": "Questionnaires",
    "symptom_report": "Symptom reports",
    "consent": "Consent",
    "checklist": "Checklists",
    "session": "Sessions",
    "exercise": "Exercises",
    "alert": "Alerts",
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)
# How the marker of an entry is drawn: nothing to note, worth a look, or a safety alert.
TONES: tuple[str, ...] = ("neutral", "attention", "alert")
DETAIL_MAX = 500  # characters of free text (a note, a response) shown in one detail line
PAGE_SIZE = 30
PAGE_SIZE_MAX = 100


def clip_text(value: object, limit: int = DETAIL_MAX) -> str:
    """Free text for a detail line: at most ``limit`` characters, an ellipsis when cut."""
    text = value if isinstance(value, str) else ""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def local_label(at: datetime, tz: ZoneInfo, this_year: int) -> str:
    """``at`` as "Tue 3 Nov, 19:05" in ``tz``; with the year when it is not ``this_year``."""
    local = at.astimezone(tz)
    year = "" if local.year == this_year else f" {local.year}"
    return f"{local.strftime('%a %-d %b')}{year}, {local.strftime('%H:%M')}"


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class HistoryEntry(_View):
    """One thing that happened, as the timeline shows it."""

    key: str  # "checkin-12": stable and unique within one client's history
    kind: str  # one of KINDS
    at: str  # ISO 8601, UTC
    local_time: str  # "Tue 3 Nov, 19:05" in the client's time zone
    title: str
    detail: list[str] = []
    tone: str = "neutral"  # one of TONES


class KindCount(_View):
    kind: str
    label: str
    count: int


class HistoryView(_View):
    """One page of a client's timeline, with the counts for the filter chips."""

    client_id: int
    timezone: str
    entries: list[HistoryEntry]
    counts: list[KindCount]  # every kind, in KINDS order, unfiltered
    total: int  # entries matching the filter (all pages)
    kinds: list[str]  # the filter applied; empty for every kind
    page: int
    page_size: int
    has_more: bool
