"""The clinician's charts of one client (issue 6, item 3): mood, anxiety and sleep by day, the
PHQ-9 / GAD-7 / PCL-5 scores, the dosing sessions marked on both, and each session's outcome.

Care team only (a client sees her own Progress page), audited as ``charts_viewed``. Days are the
client's local days, whoever looks. Only the range's check-ins are read (three small columns);
the scores and sessions are read whole, since a baseline is the first score ever and an outcome
table covers the course: a handful of rows a week.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import mean

from sqlmodel import Session, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.chart_views import (
    DEFAULT_DAYS,
    RANGES,
    ClientCharts,
    DayPoint,
    OutcomeCell,
    OutcomeRow,
    ScoreDay,
    ScorePoint,
    ScoreSeries,
    SessionMarker,
)
from kapjourney.domain.enums import DosingStatus
from kapjourney.domain.instruments import INSTRUMENTS
from kapjourney.domain.models import CheckIn, DosingSession, QuestionnaireResponse
from kapjourney.domain.outcomes import SCORED, SHORT, Change, ScoreAt, SessionAt, session_outcomes
from kapjourney.domain.progress import band_label
from kapjourney.domain.schemas import Actor
from kapjourney.services.clients import load_client_for_staff
from kapjourney.services.plan import STATUS_LABELS
from kapjourney.services.progress import scored_responses

PURPOSE = "charts_viewed"


def range_days(days: object) -> int:
    """30, 90 or 365; anything else (a browser can send anything) is the default 90."""
    return days if type(days) is int and days in RANGES else DEFAULT_DAYS


def _label(day: date) -> str:
    return day.strftime("%b %-d")


def _checkins(session: Session, client_id: int, first: date, last: date) -> dict[date, tuple]:
    rows = session.exec(
        select(CheckIn.local_date, CheckIn.mood, CheckIn.anxiety, CheckIn.sleep).where(
            CheckIn.client_id == client_id,
            CheckIn.status == "submitted",
            CheckIn.local_date >= first,
            CheckIn.local_date <= last,
        )
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _point(day: date, mood: int | None, anxiety: int | None, sleep: int | None) -> DayPoint:
    return DayPoint(
        date=day.isoformat(), label=_label(day), mood=mood, anxiety=anxiety, sleep=sleep
    )


def _sessions(session: Session, client_id: int) -> list[DosingSession]:
    return list(
        session.exec(
            select(DosingSession)
            .where(
                DosingSession.client_id == client_id,
                DosingSession.status != DosingStatus.CANCELLED,
            )
            .order_by(DosingSession.scheduled_at, DosingSession.id)
        ).all()
    )


def _series(responses: list[QuestionnaireResponse], tz: str, first: date) -> list[ScoreSeries]:
    out = []
    for key in SCORED:
        points = []
        for r in responses:
            day = local_today(tz, as_utc(r.submitted_at))  # type: ignore[arg-type]
            if r.instrument == key and day >= first and r.score is not None:
                band = r.band or band_label(key, r.score)
                points.append(
                    ScorePoint(date=day.isoformat(), label=_label(day), score=r.score, band=band)
                )
        out.append(
            ScoreSeries(
                instrument=key,
                title=SHORT[key],
                max_score=INSTRUMENTS[key].max_score,
                points=points,
            )
        )
    return out


def _score_days(days: list[date], series: list[ScoreSeries]) -> list[ScoreDay]:
    by_day: dict[str, dict[str, int]] = {}
    for s in series:
        for p in s.points:  # oldest first: the newest score of a day wins
            by_day.setdefault(p.date, {})[s.instrument] = p.score
    return [ScoreDay(label=_label(d), **by_day.get(d.isoformat(), {})) for d in days]


def _markers(
    sessions: list[DosingSession], tz: str, first: date, last: date
) -> list[SessionMarker]:
    out = []
    for s in sessions:
        day = local_today(tz, as_utc(s.scheduled_at))
        if first <= day <= last:
            out.append(
                SessionMarker(
                    date=day.isoformat(),
                    label=_label(day),
                    name=f"S{s.number}",
                    number=s.number,
                    status=s.status,
                )
            )
    return out


def _arrow(value: int | None) -> str:
    return "–" if value is None else str(value)


def _cell(c: Change) -> OutcomeCell:
    return OutcomeCell(
        instrument=c.instrument,
        title=SHORT[c.instrument],
        before=c.before,
        after=c.after,
        text=f"{_arrow(c.before)} → {_arrow(c.after)}",
        response=c.response,
        remission=c.remission,
    )


def _outcome_keys(responses: list[QuestionnaireResponse]) -> tuple[str, ...]:
    """PHQ-9 and GAD-7 always; PCL-5 (optional per course) once the client has a score."""
    return tuple(k for k in SCORED if k != "pcl5" or any(r.instrument == k for r in responses))


def _outcomes(
    sessions: list[DosingSession],
    responses: list[QuestionnaireResponse],
    tz: str,
    at: datetime,
    keys: tuple[str, ...],
) -> list[OutcomeRow]:
    scores = [ScoreAt(r.instrument, r.score or 0, as_utc(r.submitted_at)) for r in responses]  # type: ignore[arg-type]
    marks = [SessionAt(s.number, as_utc(s.scheduled_at), s.status) for s in sessions]
    return [
        OutcomeRow(
            number=o.number,
            name=f"S{o.number}",
            when=local_today(tz, o.at).strftime("%a %-d %b %Y"),
            status=o.status,
            status_label=STATUS_LABELS.get(DosingStatus(o.status), o.status),
            cells=[_cell(c) for c in o.changes],
        )
        for o in session_outcomes(marks, scores, now=at, instruments=keys)
    ]


def _sessions_text(markers: list[SessionMarker]) -> str:
    if not markers:
        return " No dosing sessions in this range."
    return " Dosing sessions: " + ", ".join(f"{m.name} on {m.label}" for m in markers) + "."


def _checkin_summary(points: list[DayPoint], markers: list[SessionMarker]) -> str:
    span = f"{points[0].label} to {points[-1].label}"
    done = [p for p in points if p.mood is not None or p.anxiety is not None or p.sleep is not None]
    if not done:
        return f"No check-ins from {span}." + _sessions_text(markers)
    text = f"Check-ins on {len(done)} of {len(points)} days, {span}."
    for name in ("mood", "anxiety", "sleep"):
        values = [v for p in done if (v := getattr(p, name)) is not None]
        if values:
            low, high = min(values), max(values)
            text += f" {name.capitalize()} averaged {mean(values):.1f} of 5"
            text += f" (low {low}, high {high})."
    return text + _sessions_text(markers)


def _score_summary(series: list[ScoreSeries], markers: list[SessionMarker]) -> str:
    parts = []
    for s in series:
        if not s.points:
            parts.append(f"{s.title}: no scores in this range.")
            continue
        first, latest = s.points[0], s.points[-1]
        text = f"{s.title}: {len(s.points)} score{'s' if len(s.points) > 1 else ''}"
        text += f", first {first.score} of {s.max_score} ({first.band}) on {first.label}"
        if len(s.points) > 1:
            text += f", latest {latest.score} ({latest.band}) on {latest.label}"
        parts.append(text + ".")
    return " ".join(parts) + _sessions_text(markers)


def client_charts(
    *, session: Session, actor: Actor, client_id: object, days: object = DEFAULT_DAYS
) -> ClientCharts:
    """The charts of a client in ``actor``'s care over the last ``days`` local days."""
    span = range_days(days)
    client = load_client_for_staff(session, actor=actor, client_id=client_id, purpose=PURPOSE)
    tz, at = client.timezone, now()
    last = local_today(tz, at)
    first = last - timedelta(days=span - 1)
    day_list = [first + timedelta(days=n) for n in range(span)]
    checkins = _checkins(session, client.id or 0, first, last)
    points = [_point(d, *checkins.get(d, (None, None, None))) for d in day_list]
    responses = scored_responses(session, client.id or 0)
    sessions = _sessions(session, client.id or 0)
    series = _series(responses, tz, first)
    markers = _markers(sessions, tz, first, last)
    keys = _outcome_keys(responses)
    return ClientCharts(
        client_id=client.id or 0,
        days=span,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        points=points,
        score_days=_score_days(day_list, series),
        series=series,
        markers=markers,
        outcome_titles=[SHORT[k] for k in keys],
        outcomes=_outcomes(sessions, responses, tz, at, keys),
        checkin_summary=_checkin_summary(points, markers),
        score_summary=_score_summary(series, markers),
    )
