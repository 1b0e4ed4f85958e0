"""The client's progress: 30 days of check-ins, scores per dosing session, a forgiving streak.

Read by the client for herself, and by her care team (audited as ``progress_viewed``). Local
dates are the client's own, whoever looks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import mean

from sqlmodel import Session, select

from kapjourney.clock import as_utc, local_today, now
from kapjourney.domain.enums import DosingStatus, ResponseStatus
from kapjourney.domain.instruments import INSTRUMENTS
from kapjourney.domain.models import CheckIn, DosingSession, QuestionnaireResponse, User
from kapjourney.domain.progress import (
    MOOD_ANCHORS,
    band_label,
    checked_in_of_last,
    forgiving_streak,
    is_remission,
    is_response,
    streak_message,
)
from kapjourney.domain.schemas import Actor, MoodPoint, ProgressView, ScoreCell, ScoreRow
from kapjourney.services.clients import load_client, own_or
from kapjourney.services.screening import latest_course

DAYS = 30
SCORED = ("phq9", "gad7", "pcl5")
SHORT = {"phq9": "PHQ-9", "gad7": "GAD-7", "pcl5": "PCL-5"}
STREAK_LOOKBACK = 400  # days of check-ins read for the streak; runs longer than this are rare


def _checkins(session: Session, client_id: int, since: date) -> list[CheckIn]:
    return list(
        session.exec(
            select(CheckIn)
            .where(
                CheckIn.client_id == client_id,
                CheckIn.status == "submitted",
                CheckIn.local_date >= since,
            )
            .order_by(CheckIn.local_date)
        ).all()
    )


def _points(rows: list[CheckIn], today: date) -> list[MoodPoint]:
    by_day = {r.local_date: r for r in rows}
    points = []
    for n in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=n)
        row = by_day.get(day)
        points.append(
            MoodPoint(
                day=day.strftime("%b %-d"),
                date=day.isoformat(),
                mood=row.mood if row else None,
                anxiety=row.anxiety if row else None,
                sleep=row.sleep if row else None,
            )
        )
    return points


def _summary(points: list[MoodPoint]) -> str:
    moods = [p.mood for p in points if p.mood is not None]
    if not moods:
        return "No check-ins in the last 30 days yet. The chart fills in as you check in."
    low, high = min(moods), max(moods)
    text = (
        f"Mood over the last 30 days, from {len(moods)} check-ins: between "
        f"{MOOD_ANCHORS[low].lower()} ({low}) and {MOOD_ANCHORS[high].lower()} ({high}), "
        f"{mean(moods):.1f} out of 5 on average."
    )
    recent = [p.mood for p in points[-7:] if p.mood is not None]
    if recent:
        text += f" The last 7 days averaged {mean(recent):.1f}."
    return text


def scored_responses(session: Session, client_id: int) -> list[QuestionnaireResponse]:
    """A client's submitted PHQ-9, GAD-7 and PCL-5 scores, oldest first (progress and charts)."""
    return list(
        session.exec(
            select(QuestionnaireResponse)
            .where(
                QuestionnaireResponse.client_id == client_id,
                QuestionnaireResponse.status == ResponseStatus.SUBMITTED,
                QuestionnaireResponse.instrument.in_(SCORED),
                QuestionnaireResponse.score.is_not(None),
                QuestionnaireResponse.submitted_at.is_not(None),
            )
            .order_by(QuestionnaireResponse.submitted_at, QuestionnaireResponse.id)
        ).all()
    )


def _row(label: str, picked: dict[str, QuestionnaireResponse], baseline, tz: str) -> ScoreRow:
    cells = []
    for key in SCORED:
        r = picked.get(key)
        if r is None or r.score is None:
            continue
        base = baseline.get(key)
        later = base is not None and r.id != base.id
        cells.append(
            ScoreCell(
                instrument=key,
                title=SHORT[key],
                score=r.score,
                max_score=INSTRUMENTS[key].max_score,
                band=r.band or band_label(key, r.score),
                response=later and is_response(base.score, r.score),
                remission=later and is_remission(key, r.score),
            )
        )
    newest = max(as_utc(r.submitted_at) for r in picked.values() if r.submitted_at)
    return ScoreRow(label=label, when=_day(newest, tz), scores=cells)


def _day(at: datetime, tz: str) -> str:
    return local_today(tz, at).strftime("%a %-d %b")


def _score_rows(session: Session, client: User) -> list[ScoreRow]:
    """Baseline, then the newest scores before each dosing session, then any since the last."""
    responses = [r for r in scored_responses(session, client.id or 0) if r.submitted_at]
    baseline: dict[str, QuestionnaireResponse] = {}
    for r in responses:
        baseline.setdefault(r.instrument, r)
    course = latest_course(session, client.id or 0)
    sessions = (
        session.exec(
            select(DosingSession)
            .where(
                DosingSession.course_id == course.id,
                DosingSession.status != DosingStatus.CANCELLED,
            )
            .order_by(DosingSession.scheduled_at, DosingSession.id)
        ).all()
        if course
        else []
    )
    rows = [_row("Baseline", baseline, baseline, client.timezone)] if baseline else []
    later = [r for r in responses if r.id not in {b.id for b in baseline.values()}]
    start: datetime | None = None
    windows = [(f"Before session {s.number}", as_utc(s.scheduled_at)) for s in sessions]
    last = sessions[-1] if sessions else None
    windows.append((f"Since session {last.number}" if last else "Since baseline", None))
    for label, end in windows:
        picked: dict[str, QuestionnaireResponse] = {}
        for r in later:
            at = as_utc(r.submitted_at)  # type: ignore[arg-type]
            if (start is None or at > start) and (end is None or at <= end):
                picked[r.instrument] = r  # the newest in the window wins
        if picked:
            rows.append(_row(label, picked, baseline, client.timezone))
        start = end
    return rows


def get_progress(*, session: Session, actor: Actor, client_id: object = None) -> ProgressView:
    target = own_or(actor, client_id, "progress_viewed")
    client = load_client(session, actor=actor, client_id=target, purpose="progress_viewed")
    today = local_today(client.timezone, now())
    rows = _checkins(session, client.id or 0, today - timedelta(days=STREAK_LOOKBACK))
    days = [r.local_date for r in rows]
    points = _points([r for r in rows if r.local_date > today - timedelta(days=DAYS)], today)
    streak = forgiving_streak(days, today)
    last_7 = checked_in_of_last(days, today, 7)
    return ProgressView(
        client_id=client.id or 0,
        first_name=client.display_name.split(" ")[0],
        points=points,
        chart_summary=_summary(points),
        rows=_score_rows(session, client),
        streak=streak.checkins,
        streak_since=streak.since.strftime("%a %-d %b") if streak.since else "",
        last_7=last_7,
        last_30=checked_in_of_last(days, today, DAYS),
        streak_message=streak_message(streak, last_7),
    )
