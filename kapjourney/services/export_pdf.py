"""The course summary as a PDF (reportlab) for the clinic's record.

The client and course; each dosing session with the PHQ-9 and GAD-7 before and after it and
the response and remission markers of ``domain.outcomes``; alerts by tier; check-in adherence
over the course. Everything typed by a person is escaped for reportlab's Paragraph markup, so
hostile text prints as text.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlmodel import Session

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.enums import COURSE_STATUS_LABELS, CourseStatus
from kapjourney.domain.outcomes import Change, ScoreAt, SessionAt
from kapjourney.domain.outcomes import session_outcomes as outcomes_of
from kapjourney.domain.schemas import Actor
from kapjourney.services.consent_pdf import _FONT, _FONT_BOLD, _fonts, _p
from kapjourney.services.exports import ClientRecords, authorize_client_export, load_records

SCORED = (("phq9", "PHQ-9"), ("gad7", "GAD-7"))
TIERS = ("emergency", "urgent", "routine")


@dataclass(frozen=True)
class SessionOutcome:
    number: int
    when: str
    status: str
    cells: tuple[str, ...]  # one "before to after (markers)" per instrument in SCORED


def _local(at: datetime, tz: str) -> str:
    return as_utc(at).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _cell(change: Change) -> str:
    def shown(score: int | None) -> str:
        return "-" if score is None else str(score)

    marks = [m for m, on in (("response", change.response), ("remission", change.remission)) if on]
    text = f"{shown(change.before)} to {shown(change.after)}"
    return text + (f" ({', '.join(marks)})" if marks else "")


def session_outcomes(r: ClientRecords) -> list[SessionOutcome]:
    """Each session not cancelled, by ``domain.outcomes``: the newest score at or before it, and
    the newest after it and up to the next session (for the last, up to now)."""
    keys = tuple(key for key, _ in SCORED)
    scores = [
        ScoreAt(q.instrument, q.score, as_utc(q.submitted_at))
        for q in r.responses
        if q.instrument in keys and q.score is not None and q.submitted_at is not None
    ]
    sessions = [SessionAt(s.number, as_utc(s.scheduled_at), s.status) for s in r.sessions]
    return [
        SessionOutcome(
            o.number,
            _local(o.at, r.client.timezone),
            o.status,
            tuple(_cell(c) for c in o.changes),
        )
        for o in outcomes_of(sessions, scores, now=now(), instruments=keys)
    ]


def adherence(r: ClientRecords, today: date) -> tuple[int, int]:
    """(days checked in, days in the course so far), from the course start to today."""
    start = r.course.start_date if r.course else local_today(r.client.timezone, r.client.created_at)
    days = (today - start).days + 1
    if days <= 0:
        return 0, 0
    done = {c.local_date for c in r.checkins if start <= c.local_date <= today}
    return len(done), days


def _table(rows: list[list[Paragraph]], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#999999"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), "#EEEEEE"))
    table.setStyle(TableStyle(style))
    return table


def render(r: ClientRecords) -> bytes:
    _fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("kjsbody", parent=styles["BodyText"], fontName=_FONT, fontSize=9)
    small = ParagraphStyle("kjssmall", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("kjsh1", parent=styles["Heading1"], fontName=_FONT_BOLD, fontSize=16)
    h2 = ParagraphStyle("kjsh2", parent=styles["Heading2"], fontName=_FONT_BOLD, fontSize=12)
    tz = r.client.timezone
    today = local_today(tz, now())
    course = r.course
    done, days = adherence(r, today)
    record = [
        ("Client", r.client.display_name),
        ("Clinic", r.clinic.name if r.clinic else ""),
        ("Course", COURSE_STATUS_LABELS[CourseStatus(course.status)] if course else "No course"),
        ("Course start", course.start_date.isoformat() if course else ""),
        ("Planned sessions", str(course.planned_sessions) if course else ""),
        ("Time zone", tz),
        ("Generated", _local(now(), tz)),
    ]
    story: list = [
        _p("Course summary", h1),
        _table([[_p(k, small), _p(v, body)] for k, v in record], [45 * mm, 125 * mm], False),
        Spacer(1, 6 * mm),
        _p("Dosing sessions", h2),
    ]
    outcomes = session_outcomes(r)
    if outcomes:
        head = ["#", "When", "Status", *(f"{title} before to after" for _, title in SCORED)]
        rows = [[_p(h, small) for h in head]]
        rows += [
            [_p(str(o.number), body), _p(o.when, body), _p(o.status, body)]
            + [_p(c, body) for c in o.cells]
            for o in outcomes
        ]
        story.append(_table(rows, [10 * mm, 32 * mm, 24 * mm, 52 * mm, 52 * mm]))
    else:
        story.append(_p("No dosing sessions yet.", body))
    story.append(
        _p(
            "Response: at least 50% below the first score. Remission: PHQ-9 below 5. "
            "For clinician review, not a diagnosis.",
            small,
        )
    )
    tiers = Counter(a.severity for a in r.alerts)
    still_open = sum(1 for a in r.alerts if a.status == "open")
    alerts = f"{len(r.alerts)} in all ({', '.join(f'{tiers[t]} {t}' for t in TIERS)}); "
    alerts += f"{still_open} still open."
    share = f" ({round(100 * done / days)}%)" if days else ""
    story += [
        Spacer(1, 4 * mm),
        _p("Alerts", h2),
        _p(alerts, body),
        _p("Check-ins", h2),
        _p(f"Checked in on {done} of {days} days of the course{share}.", body),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Course summary",
        author="KAP Journey",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    ).build(story)
    return buffer.getvalue()


def course_summary_pdf(*, session: Session, actor: Actor, client_id: object) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the course summary of a client ``actor`` may export."""
    subject = authorize_client_export(session=session, actor=actor, client_id=client_id, fmt="pdf")
    pdf = render(load_records(session, subject.client_id))
    return f"course-summary-{subject.client_id}.pdf", pdf
