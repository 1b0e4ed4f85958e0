"""Human-readable dates in a person's own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kapjourney.clock import as_utc, now


def when(value: datetime, tz_name: str, *, reference: datetime | None = None) -> str:
    local = as_utc(value).astimezone(ZoneInfo(tz_name))
    today = (reference or now()).astimezone(ZoneInfo(tz_name)).date()
    delta = (local.date() - today).days
    day = {0: "Today", 1: "Tomorrow", -1: "Yesterday"}.get(delta, local.strftime("%a %-d %b"))
    return f"{day}, {local.strftime('%-I:%M %p').lower()}"
