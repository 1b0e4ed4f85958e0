"""Per-session outcomes: the scores either side of each dosing session, with response and
remission. One rule, shown by the course-summary PDF and by the clinician's charts.

Pure: no database. For each dosing session not cancelled (in time order), for each instrument:

* before: the newest score at or before the session;
* after: the newest score after it and up to the next session (for the last, up to now; a
  session still ahead has no "after");
* response and remission of the "after" score against the baseline (the first score of that
  instrument), by ``domain.progress``: never for the baseline score itself. PCL-5 has no
  remission rule, so never shows remission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kapjourney.domain.enums import DosingStatus
from kapjourney.domain.progress import is_remission, is_response

SCORED = ("phq9", "gad7", "pcl5")
SHORT = {"phq9": "PHQ-9", "gad7": "GAD-7", "pcl5": "PCL-5"}


@dataclass(frozen=True)
class ScoreAt:
    """A scored questionnaire: its instrument, total and submission time (aware UTC)."""

    instrument: str
    score: int
    at: datetime


@dataclass(frozen=True)
class SessionAt:
    """A dosing session: its number, scheduled time (aware UTC) and status."""

    number: int
    at: datetime
    status: str


@dataclass(frozen=True)
class Change:
    """One instrument around one session."""

    instrument: str
    before: int | None
    after: int | None
    response: bool = False
    remission: bool = False


@dataclass(frozen=True)
class Outcome:
    number: int
    at: datetime
    status: str
    changes: tuple[Change, ...]  # one per instrument asked for, in that order

    def change(self, instrument: str) -> Change:
        return next(c for c in self.changes if c.instrument == instrument)


def _newest(scores: list[ScoreAt], after: datetime | None, upto: datetime) -> int | None:
    """Index of the newest score in (after, upto]; None when there is none."""
    picked = None
    for i, s in enumerate(scores):
        if (after is None or s.at > after) and s.at <= upto:
            picked = i
    return picked


def _change(key: str, scores: list[ScoreAt], start: datetime, upto: datetime | None) -> Change:
    before = _newest(scores, None, start)
    after = _newest(scores, start, upto) if upto is not None else None
    if after is None:
        return Change(key, scores[before].score if before is not None else None, None)
    baseline, score = scores[0].score, scores[after].score
    later = after != 0  # the baseline is never a response to itself
    return Change(
        key,
        scores[before].score if before is not None else None,
        score,
        response=later and is_response(baseline, score),
        remission=later and is_remission(key, score),
    )


def session_outcomes(
    sessions: Iterable[SessionAt],
    scores: Iterable[ScoreAt],
    *,
    now: datetime,
    instruments: tuple[str, ...] = SCORED,
) -> list[Outcome]:
    """The outcome of each session not cancelled, oldest first (see the module docstring)."""
    kept = sorted(
        (s for s in sessions if s.status != DosingStatus.CANCELLED), key=lambda s: (s.at, s.number)
    )
    ordered = sorted(scores, key=lambda s: s.at)  # stable: equal times keep their given order
    by_key = {key: [s for s in ordered if s.instrument == key] for key in instruments}
    out = []
    for i, s in enumerate(kept):
        end = kept[i + 1].at if i + 1 < len(kept) else now
        upto = min(end, now) if s.at <= now else None  # a session still ahead has no "after"
        changes = tuple(_change(key, by_key[key], s.at, upto) for key in instruments)
        out.append(Outcome(s.number, s.at, s.status, changes))
    return out
