"""View models of the clinician's charts of one client (services.charts builds them).

Kept apart from ``domain.schemas``: the charts are one page's read model. Every list is on the
client's local days; a day without a check-in or a score is ``None`` (a gap, never a zero).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

RANGES = (30, 90, 365)
DEFAULT_DAYS = 90


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class DayPoint(_View):
    """One local day of the check-in chart."""

    date: str  # ISO date
    label: str  # "Nov 3": the chart's category (unique in a range of at most 365 days)
    mood: int | None = None
    anxiety: int | None = None
    sleep: int | None = None


class ScoreDay(_View):
    """One local day of the score chart, on the same days as the check-in chart."""

    label: str
    phq9: int | None = None
    gad7: int | None = None
    pcl5: int | None = None


class ScorePoint(_View):
    date: str
    label: str
    score: int
    band: str


class ScoreSeries(_View):
    instrument: str  # "phq9"
    title: str  # "PHQ-9"
    max_score: int
    points: list[ScorePoint]


class SessionMarker(_View):
    """A dosing session (not cancelled) on a day in the range."""

    date: str
    label: str  # the day's category on both charts
    name: str  # "S1"
    number: int
    status: str


class OutcomeCell(_View):
    instrument: str
    title: str
    before: int | None = None
    after: int | None = None
    text: str  # "20 → 4", "12 → –"
    response: bool = False
    remission: bool = False


class OutcomeRow(_View):
    number: int
    name: str  # "S1"
    when: str  # "Mon 3 Nov 2030", the client's local date
    status: str
    status_label: str
    cells: list[OutcomeCell]  # PHQ-9, GAD-7, and PCL-5 when the client has a PCL-5 score


class ClientCharts(_View):
    client_id: int
    days: int  # 30, 90 or 365
    first_day: str  # ISO
    last_day: str  # ISO (the client's today)
    points: list[DayPoint]
    score_days: list[ScoreDay]
    series: list[ScoreSeries]
    markers: list[SessionMarker]
    outcome_titles: list[str]  # the outcome table's instrument columns, as in each row's cells
    outcomes: list[OutcomeRow]
    checkin_summary: str  # the check-in chart in words, for screen readers
    score_summary: str  # the score chart in words
