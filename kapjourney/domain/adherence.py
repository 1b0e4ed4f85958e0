"""The caseload dashboard's figures for one client: pure functions, checkable by hand.

Pure: no database. ``services.dashboard`` gathers the facts and stores the results in
``ClientSummary``; these functions say what the figures mean.

* Enrolment starts on the later of the course's start date and the day the account was created
  (both as the client's local dates). Days before enrolment never count, for or against anyone.
* An adherence window is the last ``window`` local days. Like the client's own count
  (``domain.progress.checked_in_of_last``) it ends today when today's check-in is done, else
  yesterday: a day still open never counts as missed. ``days`` is how many of those days the client
  was enrolled; ``on_time`` and ``late`` count submitted check-ins on those days (late ones were
  made the next morning, within the clinic's grace hours). ``days - on_time - late`` were missed,
  including the days between enrolment and a first check-in.
* Recency, by whole local days since the last submitted check-in: "2d" when 0-2 days ago, "7d"
  when 3-7 days ago, "older" beyond that, "never" without any.
* Attention: a sum of distinct powers of two, one per flag, so the graver flag always sorts first
  whatever the lesser ones are (see ``ATTENTION``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

RECENCY_LABELS = {
    "2d": "Within 2 days",
    "7d": "Within 7 days",
    "older": "Over 7 days ago",
    "never": "Never",
}
RECENT_DAYS = 2
WEEK_DAYS = 7
SPARK_DAYS = 14

# Flags that raise a client up the "needs attention" order, gravest first. Each weight is larger
# than the sum of all below it, so the order is by the gravest flag, then the next, and so on.
ATTENTION = {
    "open_emergency": 256,  # an open (unresolved) emergency alert
    "open_urgent": 128,  # an open urgent alert
    "red_soon": 64,  # the next dosing session is today or tomorrow and its light is red
    "silent_7d": 32,  # no check-in for over 7 days (or never) after a week or more enrolled
    "open_routine": 16,  # an open routine alert
    "score_worse": 8,  # latest PHQ-9 or GAD-7 at least 5 points above its baseline
    "reminders_failing": 4,  # reminders not reaching them: failing, expired or revoked
    "amber_soon": 2,  # the next session is today or tomorrow and its light is amber
    "recency_7d": 1,  # last check-in 3-7 days ago
}
WORSE_BY = 5  # points on PHQ-9 / GAD-7 that count as clinically worse (about one band)
FAILING_REMINDERS = ("failing", "expired", "revoked")


@dataclass(frozen=True)
class Adherence:
    on_time: int
    late: int
    days: int  # enrolled days in the window

    @property
    def missed(self) -> int:
        return self.days - self.on_time - self.late


def enrolment_start(course_start: date | None, account_created: date) -> date:
    """The first day that counts: the later of the course start and the account's creation."""
    return max(course_start, account_created) if course_start else account_created


def adherence(checkins: Mapping[date, bool], today: date, window: int, enrolled: date) -> Adherence:
    """Check-ins in the last ``window`` days. ``checkins`` maps each submitted check-in's local
    date to whether it was late."""
    end = today if today in checkins else today - timedelta(days=1)
    start = max(end - timedelta(days=window - 1), enrolled)
    if start > end:
        return Adherence(0, 0, 0)
    in_window = [late for day, late in checkins.items() if start <= day <= end]
    late = sum(1 for flag in in_window if flag)
    return Adherence(len(in_window) - late, late, (end - start).days + 1)


def recency(last: date | None, today: date) -> str:
    if last is None:
        return "never"
    since = (today - last).days
    if since <= RECENT_DAYS:
        return "2d"
    return "7d" if since <= WEEK_DAYS else "older"


def mood_series(moods: Mapping[date, int | None], today: date, days: int = SPARK_DAYS) -> list:
    """The mood of each of the last ``days`` local days, oldest first; None where none."""
    return [moods.get(today - timedelta(days=n)) for n in range(days - 1, -1, -1)]


def last_mood(moods: Mapping[date, int | None]) -> int | None:
    """The mood of the newest check-in that has one."""
    rated = [day for day, mood in moods.items() if mood is not None]
    return moods[max(rated)] if rated else None


@dataclass(frozen=True)
class ScoreFacts:
    score: int | None
    band: str
    baseline: int | None  # the course's first score of the instrument

    @property
    def change(self) -> int | None:
        if self.score is None or self.baseline is None:
            return None
        return self.score - self.baseline


def score_text(facts: ScoreFacts, *, response: bool, remission: bool) -> str:
    """ "12 · Moderate · −6 from 18", with " · remission" or " · response" when met; the first
    score alone reads "18 · Moderately severe · baseline"; "" when there is none."""
    if facts.score is None:
        return ""
    parts = [str(facts.score)] + ([facts.band] if facts.band else [])
    change = facts.change
    if change is None or facts.baseline is None:
        parts.append("baseline")
    elif change == 0:
        parts.append(f"no change from {facts.baseline}")
    else:
        sign = "−" if change < 0 else "+"
        parts.append(f"{sign}{abs(change)} from {facts.baseline}")
    if remission:
        parts.append("remission")
    elif response:
        parts.append("response")
    return " · ".join(parts)


@dataclass(frozen=True)
class Device:
    """One push subscription's delivery facts (times aware UTC)."""

    status: str  # active | expired | unsubscribed | refused
    last_success: datetime | None
    last_failure: datetime | None


def reminder_state(
    devices: Iterable[Device],
    *,
    permission: str,
    permission_at: datetime | None,
) -> str:
    """Whether reminders reach the client, as ``services.reminders.delivery_health`` words it:
    never | revoked | expired | off | reaching | failing | waiting."""
    rows = list(devices)
    if not rows:
        return "never"
    successes = [d.last_success for d in rows if d.last_success]
    last = max(successes) if successes else None
    if permission == "denied" and (permission_at is None or not last or permission_at >= last):
        return "revoked"
    active = [d for d in rows if d.status == "active"]
    if not active:
        return "expired" if any(d.status == "expired" for d in rows) else "off"
    failing = any(
        d.last_failure and (d.last_success is None or d.last_failure > d.last_success)
        for d in active
    )
    if failing:
        return "failing"
    return "reaching" if last else "waiting"


@dataclass(frozen=True)
class AttentionFacts:
    emergency: int = 0
    urgent: int = 0
    routine: int = 0
    readiness: str = ""  # the next session's light
    session_soon: bool = False  # the next session is today or tomorrow (client's local days)
    recency: str = "never"
    enrolled_days: int = 0  # days enrolled up to today
    score_worse: bool = False
    reminders: str = ""


def attention_flags(f: AttentionFacts) -> list[str]:
    flags = {
        "open_emergency": f.emergency > 0,
        "open_urgent": f.urgent > 0,
        "red_soon": f.session_soon and f.readiness == "red",
        "silent_7d": f.recency in ("older", "never") and f.enrolled_days >= WEEK_DAYS,
        "open_routine": f.routine > 0,
        "score_worse": f.score_worse,
        "reminders_failing": f.reminders in FAILING_REMINDERS,
        "amber_soon": f.session_soon and f.readiness == "amber",
        "recency_7d": f.recency == "7d",
    }
    return [name for name in ATTENTION if flags[name]]


def attention(f: AttentionFacts) -> int:
    return sum(ATTENTION[name] for name in attention_flags(f))


def is_worse(facts: ScoreFacts) -> bool:
    change = facts.change
    return change is not None and change >= WORSE_BY
