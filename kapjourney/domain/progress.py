"""Progress as the client sees it: a forgiving streak, response and remission, band labels.

Pure: no database. Kind by design (clinical ref. 3.4, "Kind engagement design"): a streak with a
grace day and no shaming, while the care team sees strict completion counts elsewhere.

* Forgiving streak: the check-in days of the current run. One missed day (the grace day) does not
  end a run; two missed days in a row do. Today, not yet done, never counts as missed.
* Response: a score at least 50% below the baseline score (clinical ref. 3.1, idea 10).
* Remission: a PHQ-9 score below 5 (the "minimal" band).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from kapjourney.domain.instruments import INSTRUMENTS

REMISSION_BELOW = {"phq9": 5}
RESPONSE_REDUCTION = 0.5

# Words at the ends and middle of the 1-5 check-in scales, for the chart's axis.
MOOD_ANCHORS = {1: "Very low", 2: "Low", 3: "Okay", 4: "Good", 5: "Very good"}


@dataclass(frozen=True)
class Streak:
    checkins: int  # check-in days in the current run
    since: date | None  # the run's first check-in day


def forgiving_streak(days: Iterable[date], today: date) -> Streak:
    done = {d for d in days if d <= today}
    if not done:
        return Streak(0, None)
    first = min(done)
    cursor = today if today in done else today - timedelta(days=1)
    count, missed, since = 0, 0, None
    while cursor >= first:
        if cursor in done:
            count, missed, since = count + 1, 0, cursor
        else:
            missed += 1
            if missed >= 2:
                break
        cursor -= timedelta(days=1)
    return Streak(count, since)


def checked_in_of_last(days: Iterable[date], today: date, window: int) -> int:
    """Check-in days among the last ``window`` days. The window ends today when today is done,
    else yesterday: a day still open never counts against anyone."""
    done = set(days)
    end = today if today in done else today - timedelta(days=1)
    return sum(1 for n in range(window) if end - timedelta(days=n) in done)


def is_response(baseline: int | None, score: int | None) -> bool:
    """At least a 50% drop from a baseline above zero (nothing to halve at zero)."""
    if baseline is None or score is None or baseline <= 0:
        return False
    return score <= baseline * (1 - RESPONSE_REDUCTION)


def is_remission(instrument: str, score: int | None) -> bool:
    below = REMISSION_BELOW.get(instrument)
    return below is not None and score is not None and score < below


def band_label(instrument: str, score: int | None) -> str:
    """The published band a score falls in ("" when unscored or unknown)."""
    form = INSTRUMENTS.get(instrument)
    if form is None or score is None:
        return ""
    return next((b.label for b in form.bands if b.low <= score <= b.high), "")


def streak_message(streak: Streak, last_7: int) -> str:
    """Kind words about checking in: what was done, never what was missed."""
    if streak.checkins == 0 and last_7 == 0:
        return "Check in whenever you're ready. Every check-in helps you and your care team."
    text = f"You've checked in {last_7} of the last 7 days."
    if streak.checkins >= 2:
        text += f" Your current run: {streak.checkins} check-ins. A missed day doesn't break it."
    return text
