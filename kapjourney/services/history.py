"""A client's history for the care team: everything recorded, newest first, one page at a time.

Staff only (the client has their own pages): ``load_client_for_staff`` authorizes and audits
each read as "history_viewed". The records come from ``exports.load_records`` (the one reader of
a client's whole record) plus what a timeline needs beyond it: every preparation step done, and
the names of the staff who acknowledged or resolved alerts. Times are labelled in the client's
own time zone, as everything else on the client's page is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from itertools import chain
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from kapjourney.clock import now
from kapjourney.domain.enums import ValueKind
from kapjourney.domain.history import (
    KIND_LABELS,
    KINDS,
    PAGE_SIZE,
    PAGE_SIZE_MAX,
    HistoryEntry,
    HistoryView,
    KindCount,
    local_label,
)
from kapjourney.domain.models import ChecklistItem, User
from kapjourney.domain.schemas import Actor
from kapjourney.services import history_entries as build
from kapjourney.services.clients import load_client_for_staff
from kapjourney.services.exports import ClientRecords, load_records

KIND_ORDER = {kind: n for n, kind in enumerate(KINDS)}
MAX_PAGE = 10_000


def client_history(
    *,
    session: Session,
    actor: Actor,
    client_id: object,
    kinds: list[str] | None = None,
    page: int = 0,
    page_size: int = PAGE_SIZE,
) -> HistoryView:
    """Page ``page`` (from 0) of the client's timeline, only ``kinds`` when given.

    Unknown kinds are ignored; a bad page or page size is brought into range (never an error).
    Anyone but the client's care team gets ``AccessDenied``, which the caller shows as not found.
    """
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="history_viewed"
    )
    wanted = [k for k in KINDS if isinstance(kinds, list) and k in kinds]
    page = page if type(page) is int and 0 <= page <= MAX_PAGE else 0
    size = page_size if type(page_size) is int and 1 <= page_size <= PAGE_SIZE_MAX else PAGE_SIZE

    tz = ZoneInfo(client.timezone)
    at = now()
    this_year = at.astimezone(tz).year
    events = _events(
        session,
        load_records(session, client.id or 0),
        at=at,
        label=lambda when: local_label(when, tz, this_year),
    )
    counts = Counter(e.kind for e in events)
    shown = [e for e in events if e.kind in wanted] if wanted else events
    # Newest first; at one instant, an alert above the report that raised it (KINDS order).
    shown.sort(key=lambda e: (e.at, KIND_ORDER[e.kind], e.key), reverse=True)
    start = page * size
    return HistoryView(
        client_id=client.id or 0,
        timezone=client.timezone,
        entries=[_entry(e, tz, this_year) for e in shown[start : start + size]],
        counts=[KindCount(kind=k, label=KIND_LABELS[k], count=counts[k]) for k in KINDS],
        total=len(shown),
        kinds=wanted,
        page=page,
        page_size=size,
        has_more=len(shown) > start + size,
    )


def _entry(event: build.Event, tz: ZoneInfo, this_year: int) -> HistoryEntry:
    return HistoryEntry(
        key=event.key,
        kind=event.kind,
        at=event.at.isoformat(),
        local_time=local_label(event.at, tz, this_year),
        title=event.title,
        detail=[line for line in event.detail if line],
        tone=event.tone,
    )


def _events(
    session: Session, records: ClientRecords, *, at: datetime, label: Callable[[datetime], str]
) -> list[build.Event]:
    client_id = records.client.id
    steps = list(
        session.exec(
            select(ChecklistItem).where(
                ChecklistItem.client_id == client_id,
                ChecklistItem.done_at.is_not(None),
                ChecklistItem.value_kind != ValueKind.BLOOD_PRESSURE,
            )
        ).all()
    )
    numbers = {d.id: d.number for d in records.sessions}
    staff_ids = {i for a in records.alerts for i in (a.acknowledged_by_id, a.resolved_by_id) if i}
    names = (
        dict(session.exec(select(User.id, User.display_name).where(User.id.in_(staff_ids))).all())
        if staff_ids
        else {}
    )
    return list(
        chain(
            build.checkins(records),
            build.questionnaires(records),
            build.symptom_reports(records),
            build.consent(records),
            build.checklist([*steps, *records.vitals], numbers),
            build.sessions(records, at, label),
            build.exercises(records),
            build.alerts(records, names),
        )
    )
