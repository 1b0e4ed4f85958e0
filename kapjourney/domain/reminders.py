"""Reminder timing: local clock times, quiet hours and the reminder kinds. Pure functions.

Times are kept as the client's local "HH:MM" and turned into UTC instants for a given local date
through the IANA zone, so 19:00 stays 19:00 across a daylight-saving change. A local time that
does not exist that day (the spring-forward gap) resolves forward, as a wall clock would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kapjourney.domain.errors import ValidationFailed

HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
DEFAULT_CHECKIN_TIME = "19:00"
DEFAULT_QUIET_START = "22:00"
DEFAULT_QUIET_END = "08:00"

CHECKIN_DUE = "checkin_due"
PREP_OPEN = "prep_open"
FOLLOWUP_DUE = "followup_due"
EXERCISE_DUE = "exercise_due"
ALERT_RAISED = "alert_raised"
ALERT_ESCALATED = "alert_escalated"  # unacknowledged too long: to every clinician and admin
KINDS = (CHECKIN_DUE, PREP_OPEN, FOLLOWUP_DUE, EXERCISE_DUE, ALERT_RAISED, ALERT_ESCALATED)
# A clinician's urgent alert, or its escalation, is never held back.
QUIET_EXEMPT = frozenset({ALERT_RAISED, ALERT_ESCALATED})

PREP_MARKS = (48, 24)  # hours before a session: the preparation reminders
PREP_AHEAD_MINUTES = 120  # steps due this long or more before a session can be done ahead
EXERCISE_TIME = time(10, 0)  # an exercise's reminder on its due date, local time


@dataclass(frozen=True)
class Quiet:
    start: time
    end: time

    def holds(self, local: time) -> bool:
        """True when ``local`` falls inside the quiet hours (which may span midnight)."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_hhmm(value: object, field: str) -> time:
    if not isinstance(value, str) or not HHMM.fullmatch(value.strip()):
        raise ValidationFailed({field: "Choose a time as hours and minutes, like 19:00."})
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a local date.

    ``fold=0`` picks the first of a repeated (fall-back) time and, for a time inside the
    spring-forward gap, the offset before the change: 02:30 on a day that skips 02:00-03:00
    becomes 03:30, forward by the gap's length, as a wall clock would.
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def release_from_quiet(at: datetime, tz: ZoneInfo, quiet: Quiet) -> datetime:
    """``at`` itself, or the end of the quiet hours it falls in."""
    local = at.astimezone(tz)
    if not quiet.holds(local.time().replace(second=0, microsecond=0)):
        return at
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    return local_instant(day, quiet.end, tz)


def checkin_due_at(day: date, tz: ZoneInfo, at: time, quiet: Quiet) -> datetime:
    return release_from_quiet(local_instant(day, at, tz), tz, quiet)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    return local_instant(day + timedelta(days=1), time(0, 0), tz)
