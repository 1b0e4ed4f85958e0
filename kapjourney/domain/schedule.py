"""Which questionnaires a client owes now: pure rules, no database.

* PHQ-9 weekly during the course and before each dosing session; GAD-7 weekly; PCL-5 every two
  weeks when the clinician enabled it (intervals are clinic protocol settings, clinical ref. 3.1).
* The C-SSRS screener is owed when the newest PHQ-9 has item 9 above zero, or the newest
  post-session symptom report has thoughts of self-harm, and no C-SSRS was submitted since.

"Weekly" counts local calendar days in the client's time zone, so a questionnaire answered on a
Tuesday evening is due again the next Tuesday morning, not at the same minute a week later.
The screening round (baseline) is not scheduled here: it has its own page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WEEKLY = "weekly"
PRE_SESSION = "pre_session"
CSSRS_PURPOSE = "cssrs"
SCHEDULED = ("phq9", "gad7", "pcl5", "cssrs")  # the instruments this schedule can ask for


@dataclass(frozen=True)
class Intervals:
    """A clinic's schedule (``ClinicProtocol``; defaults in ``domain.protocol.SETTINGS``)."""

    phq9_days: int = 7
    gad7_days: int = 7
    pcl5_days: int = 14
    pre_session_phq9_hours: int = 72


@dataclass(frozen=True)
class Due:
    instrument: str
    purpose: str  # weekly | pre_session | cssrs
    urgent: bool = False


def _local_days_since(then: datetime, at: datetime, tz: ZoneInfo) -> int:
    return (at.astimezone(tz).date() - then.astimezone(tz).date()).days


def periodic_due(last: datetime | None, at: datetime, days: int, tz: ZoneInfo) -> bool:
    """Due when never answered, or answered ``days`` or more local days ago."""
    return last is None or _local_days_since(last, at, tz) >= days


def pre_session_due(
    last_phq9: datetime | None, at: datetime, next_session_at: datetime | None, hours: int
) -> bool:
    """Due inside the window of ``hours`` before a session, unless answered within it."""
    if next_session_at is None:
        return False
    opens = next_session_at - timedelta(hours=hours)
    if not opens <= at < next_session_at:
        return False
    return last_phq9 is None or last_phq9 < opens


def cssrs_owed(
    *,
    newest_phq9: tuple[datetime, int] | None,
    newest_report: tuple[datetime, int] | None,
    last_cssrs: datetime | None,
) -> bool:
    """``newest_phq9`` is (submitted at, item 9 answer); ``newest_report`` is (submitted at,
    self-harm severity). Either above zero, with no C-SSRS submitted after it, owes one."""
    for trigger in (newest_phq9, newest_report):
        if trigger is None:
            continue
        when, value = trigger
        if value > 0 and (last_cssrs is None or last_cssrs < when):
            return True
    return False


def due_now(
    *,
    at: datetime,
    tz: str,
    last: Mapping[str, datetime | None],
    next_session_at: datetime | None,
    intervals: Intervals,
    pcl5_enabled: bool,
    active: bool,
    owes_cssrs: bool,
) -> list[Due]:
    """What is due at ``at``, most pressing first. ``last`` maps an instrument to its newest
    submitted time (any purpose, baseline included); ``active`` is a course in preparation,
    dosing or integration with its screening done. An owed C-SSRS is due whatever the course."""
    zone = ZoneInfo(tz)
    due: list[Due] = []
    if owes_cssrs:
        due.append(Due("cssrs", CSSRS_PURPOSE, urgent=True))
    if not active:
        return due
    phq9 = last.get("phq9")
    if pre_session_due(phq9, at, next_session_at, intervals.pre_session_phq9_hours):
        due.append(Due("phq9", PRE_SESSION))
    elif periodic_due(phq9, at, intervals.phq9_days, zone):
        due.append(Due("phq9", WEEKLY))
    if periodic_due(last.get("gad7"), at, intervals.gad7_days, zone):
        due.append(Due("gad7", WEEKLY))
    if pcl5_enabled and periodic_due(last.get("pcl5"), at, intervals.pcl5_days, zone):
        due.append(Due("pcl5", WEEKLY))
    return due


def purpose_at(
    instrument: str,
    *,
    at: datetime,
    next_session_at: datetime | None,
    intervals: Intervals,
) -> str:
    """The purpose a response submitted at ``at`` is filed under."""
    if instrument == "cssrs":
        return CSSRS_PURPOSE
    if instrument == "phq9" and next_session_at is not None:
        opens = next_session_at - timedelta(hours=intervals.pre_session_phq9_hours)
        if opens <= at < next_session_at:
            return PRE_SESSION
    return WEEKLY
