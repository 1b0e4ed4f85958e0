"""The timeline's entries, one builder per kind of record (``services.history`` pages them).

Each builder reads rows ``exports.load_records`` (or the history service) already loaded and
returns ``Event``s: when, what kind, a title and short detail lines, and a tone for the marker.
Free text (notes, responses, reasons) is clipped and kept as text, never interpreted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import NamedTuple

from kapjourney.clock import as_utc
from kapjourney.domain.checkin import SCALES
from kapjourney.domain.enums import ROUTE_LABELS, SETTING_LABELS, DosingStatus, ValueKind
from kapjourney.domain.exercises import EXERCISES
from kapjourney.domain.history import clip_text
from kapjourney.domain.instruments import FLAG_LABELS, INSTRUMENTS
from kapjourney.domain.models import ChecklistItem
from kapjourney.domain.safety import ALERT_REASONS, GRADE_LABELS, SYMPTOM_ITEMS, TIER_LABELS
from kapjourney.services.checklists import stored_values, vitals_of
from kapjourney.services.exports import ClientRecords, grades_of, recorded_at
from kapjourney.services.inbox import OUTCOMES
from kapjourney.services.symptoms import offset_label

SYMPTOM_LABELS = dict(SYMPTOM_ITEMS)
GRAVE = ("urgent", "emergency")


class Event(NamedTuple):
    at: datetime  # aware UTC
    kind: str
    key: str
    title: str
    detail: tuple[str, ...] = ()
    tone: str = "neutral"


def _note(text: str, prefix: str = "Note") -> tuple[str, ...]:
    clipped = clip_text(text)
    return (f"{prefix}: {clipped}",) if clipped else ()


def _tier(severity: str) -> str:
    return TIER_LABELS.get(severity, severity).lower()  # type: ignore[call-overload]


# --- What the client recorded --------------------------------------------------------------------


def checkins(r: ClientRecords) -> Iterator[Event]:
    for c in r.checkins:
        scales = []
        for scale in SCALES:
            value = getattr(c, scale.key)
            if isinstance(value, int) and 1 <= value <= 5:
                scales.append(f"{scale.key.capitalize()}: {scale.anchors[value - 1]} ({value})")
        late = (f"Entered late, for {c.local_date.strftime('%a %-d %b')}",) if c.late else ()
        yield Event(
            recorded_at(c),
            "checkin",
            f"checkin-{c.id}",
            "Daily check-in (late)" if c.late else "Daily check-in",
            (" · ".join(scales), *late, *_note(c.note)) if scales else (*late, *_note(c.note)),
            "attention" if c.mood == 1 else "neutral",
        )


def _json_list(value: str) -> list:
    try:
        data = json.loads(value or "[]")
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def questionnaires(r: ClientRecords) -> Iterator[Event]:
    for q in r.responses:
        form = INSTRUMENTS.get(q.instrument)
        name = form.short_title.split(" · ")[0] if form else q.instrument.upper()
        if q.score is not None:
            band = f" ({q.band[:1].lower()}{q.band[1:]})" if q.band else ""
            title = f"{name}: {q.score}{band}"
        else:
            title = f"{name}: answered"
        flags = [FLAG_LABELS.get(str(f), str(f)) for f in _json_list(q.flags)]
        yield Event(
            as_utc(q.submitted_at or q.updated_at),
            "questionnaire",
            f"questionnaire-{q.id}",
            title,
            tuple(f"Flag: {f}" for f in flags[:10]),
            "attention" if flags else "neutral",
        )


def symptom_reports(r: ClientRecords) -> Iterator[Event]:
    numbers = {d.id: d.number for d in r.sessions}
    for p in r.reports:
        number = numbers.get(p.dosing_session_id)
        after = f"after session {number}" if number else "after a session"
        triage = f", {p.triage}" if p.triage != "none" else ""
        graded = sorted(((g, k) for k, g in grades_of(p).items() if g > 0), reverse=True)
        lines = [f"{offset_label(p.offset_minutes)} after the session"]
        lines += [f"{SYMPTOM_LABELS.get(k, k)}: {GRADE_LABELS.get(g, g)}" for g, k in graded]
        if not graded:
            lines.append("No symptoms reported.")
        if p.systolic and p.diastolic:
            pulse = f", pulse {p.pulse}" if p.pulse else ""
            lines.append(f"Reading: {p.systolic}/{p.diastolic}{pulse}")
        if p.triage in GRAVE:
            tone = "alert"
        elif p.triage == "routine" or p.max_grade >= 2:
            tone = "attention"
        else:
            tone = "neutral"
        yield Event(
            recorded_at(p),
            "symptom_report",
            f"symptom_report-{p.id}",
            f"Symptom report {after}: grade {p.max_grade}{triage}",
            (*lines, *_note(p.note)),
            tone,
        )


def consent(r: ClientRecords) -> Iterator[Event]:
    for s in r.signatures:
        yield Event(
            as_utc(s.signed_at),
            "consent",
            f"consent-{s.id}",
            f"Consent signed (version {s.document_version})",
            (f"Signed as: {clip_text(s.signed_name, 200)}",),
        )
        withdrawal = r.withdrawals.get(s.id or 0)
        if withdrawal is not None:
            yield Event(
                as_utc(withdrawal.withdrawn_at),
                "consent",
                f"consent-withdrawn-{withdrawal.id}",
                f"Consent withdrawn (version {s.document_version})",
                _note(withdrawal.reason, "Reason"),
                "attention",
            )


def checklist(items: list[ChecklistItem], numbers: dict[int | None, int]) -> Iterator[Event]:
    """Preparation steps done (blood pressure steps included, with the reading)."""
    for item in items:
        if item.done_at is None:
            continue
        number = numbers.get(item.dosing_session_id)
        lines = [f"Preparing for session {number}"] if number else []
        values = stored_values(item)
        kind = item.value_kind
        if kind == ValueKind.BLOOD_PRESSURE:
            v = vitals_of(item)
            if v is not None:
                lines.append(f"Reading: {v.systolic}/{v.diastolic}, pulse {v.pulse}")
        elif kind == ValueKind.CHAPERONE:
            lines.append(clip_text(f"{values.get('name', '')} · {values.get('phone', '')}", 200))
        elif kind == ValueKind.TEXT:
            lines.extend(_note(values.get("text", ""), "Wrote"))
        yield Event(
            as_utc(item.done_at),
            "checklist",
            f"checklist-{item.id}",
            f"Checklist: {clip_text(item.label, 160)}",
            tuple(lines),
        )


def sessions(r: ClientRecords, at: datetime, label: Callable[[datetime], str]) -> Iterator[Event]:
    """Sessions held or due by ``at`` (the course plan shows what is ahead), and each cancelled
    or paused one when that happened."""
    for d in r.sessions:
        status, planned = str(d.status), as_utc(d.scheduled_at)
        routes = (ROUTE_LABELS.get(d.route, ""), SETTING_LABELS.get(d.setting, ""))  # type: ignore[call-overload]
        how = tuple(filter(None, [" · ".join(filter(None, routes))]))
        if status == DosingStatus.SCHEDULED and planned > at:
            continue
        if status in (DosingStatus.SCHEDULED, DosingStatus.COMPLETED):
            done = status == DosingStatus.COMPLETED
            title = f"Session {d.number}: {'completed' if done else 'scheduled, not marked done'}"
            yield Event(planned, "session", f"session-{d.id}", title, how)
            continue
        reason = _note(d.cancel_reason, "Reason") if status == DosingStatus.CANCELLED else ()
        yield Event(
            as_utc(d.updated_at),
            "session",
            f"session-{d.id}",
            f"Session {d.number}: {status.replace('_', ' ')}",
            (f"Was planned for {label(planned)}", *how, *reason),
            "attention",
        )


def exercises(r: ClientRecords) -> Iterator[Event]:
    for e in r.exercises:
        if e.completed_at is None:
            continue
        known = EXERCISES.get(e.exercise)
        yield Event(
            as_utc(e.completed_at),
            "exercise",
            f"exercise-{e.id}",
            f"Exercise done: {known.title if known else e.exercise}",
            _note(e.response, "Wrote"),
        )


# --- What the care team did ----------------------------------------------------------------------


def alerts(r: ClientRecords, names: dict[int, str]) -> Iterator[Event]:
    for a in r.alerts:
        reason = ALERT_REASONS.get(a.reason_code, "Worrying answer")
        grave = a.severity in GRAVE
        yield Event(
            as_utc(a.created_at),
            "alert",
            f"alert-{a.id}",
            f"Alert ({_tier(a.severity)}): {reason}",
            (),
            "alert" if grave else "attention",
        )
        if a.acknowledged_at is not None:
            by = names.get(a.acknowledged_by_id or 0, "")
            yield Event(
                as_utc(a.acknowledged_at),
                "alert",
                f"alert-acknowledged-{a.id}",
                f"Alert acknowledged: {reason}",
                (f"By {by}",) if by else (),
            )
        if a.escalated_at is not None:
            yield Event(
                as_utc(a.escalated_at),
                "alert",
                f"alert-escalated-{a.id}",
                f"Alert escalated to the clinic: {reason}",
                ("Not acknowledged in time",),
                "alert",
            )
        if a.resolved_at is not None:
            by = names.get(a.resolved_by_id or 0, "")
            lines = (f"Outcome: {OUTCOMES[a.outcome]}",) if a.outcome in OUTCOMES else ()
            lines += (f"By {by}",) if by else ()
            yield Event(
                as_utc(a.resolved_at),
                "alert",
                f"alert-resolved-{a.id}",
                f"Alert resolved: {reason}",
                (*lines, *_note(a.resolution_note)),
            )
