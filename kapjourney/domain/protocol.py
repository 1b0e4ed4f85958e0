"""Clinic protocol: published defaults with their sources, limits, and the preparation template.

Every number here is a default a clinic admin can change (changes are audited). The sources are
shown beside the setting in the app so a clinic can see where a default came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kapjourney.domain.enums import AppliesTo, ValueKind


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    unit: str
    default: int
    low: int
    high: int
    source: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "dosing_sessions",
        "Dosing sessions in a course",
        "sessions",
        6,
        1,
        48,
        "Six is the common induction unit (Mindbloom, Field Trip, IV models; clinical ref. 3.2).",
    ),
    Setting(
        "fasting_hours",
        "Fasting before a session",
        "hours",
        4,
        0,
        12,
        "Sources range 2-6 h; 4 h food and drink (Nue Life; KAP consent templates).",
    ),
    Setting(
        "bp_systolic_max",
        "Highest systolic blood pressure to dose",
        "mmHg",
        160,
        100,
        220,
        "Esketamine label: weigh risks above 140/90; 160/100 is a common KAP clinic limit.",
    ),
    Setting(
        "bp_diastolic_max",
        "Highest diastolic blood pressure to dose",
        "mmHg",
        100,
        60,
        140,
        "Esketamine label: weigh risks above 140/90; 160/100 is a common KAP clinic limit.",
    ),
    Setting(
        "pulse_max",
        "Highest resting pulse to dose",
        "beats/min",
        120,
        60,
        180,
        "Sustained heart rate above 120 is an urgent finding (clinical ref. 3.3).",
    ),
    Setting(
        "lapse_days",
        "Re-screen when the last session is older than",
        "days",
        90,
        14,
        730,
        "More than 3 months since the last dose: consult and fresh screening (clinical ref.).",
    ),
    Setting(
        "checkin_grace_hours",
        "Yesterday's check-in accepted (marked late) until",
        "hours after midnight",
        12,
        0,
        24,
        "On-time and late entries are counted apart; no back-filling beyond a short window "
        "(Mood 24/7, JMIR Ment Health 2020;7(5):e16237; clinical ref. 3.4).",
    ),
    Setting(
        "phq9_interval_days",
        "PHQ-9 during the course, every",
        "days",
        7,
        7,
        31,
        "PHQ-9 weekly during the course and before each dosing session (clinical ref. 3.1).",
    ),
    Setting(
        "pre_session_phq9_hours",
        "PHQ-9 before a dosing session, within",
        "hours",
        72,
        24,
        168,
        "PHQ-9 before each dosing session (clinical ref. 3.1).",
    ),
    Setting(
        "gad7_interval_days",
        "GAD-7 during the course, every",
        "days",
        7,
        7,
        31,
        "GAD-7 at baseline and weekly (clinical ref. 3.1).",
    ),
    Setting(
        "pcl5_interval_days",
        "PCL-5 (when enabled), every",
        "days",
        14,
        14,
        31,
        "PCL-5 every 2-4 weeks for clients with PTSD symptoms; past-month recall (clinical "
        "ref. 3.1).",
    ),
    # Alert escalation (issue 6): unacknowledged this long, an alert goes to the whole clinic.
    Setting(
        "escalate_emergency_minutes",
        "Escalate an unacknowledged emergency alert after",
        "minutes",
        5,
        1,
        60,
        "Tiered alerting with escalation when not acknowledged in N minutes (clinical ref., "
        "ideas 5: Vista tiers, Intervengine's unread-to-task SLA); 5 min for emergencies.",
    ),
    Setting(
        "escalate_urgent_minutes",
        "Escalate an unacknowledged urgent alert after",
        "minutes",
        15,
        5,
        240,
        "Same escalation rule (clinical ref., ideas 5); urgent findings get 15 min before the "
        "whole clinic and its admins are pushed.",
    ),
)
SETTING_BY_NAME = {s.name: s for s in SETTINGS}

DEFAULT_FOLLOWUP_MINUTES = (120, 1440, 4320, 10080)
FOLLOWUP_SOURCE = "Timed follow-ups at 2 h, 24 h, 72 h and 7 days after dosing (clinical ref.)."
_OFFSET = re.compile(r"^\s*(\d{1,4})\s*(m|min|h|d)\s*$", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440}


def parse_offsets(text: str) -> tuple[tuple[int, ...], str]:
    """ "2h, 24h, 72h, 7d" -> minutes. Returns (offsets, problem)."""
    parts = [p for p in text.split(",") if p.strip()] if len(text) <= 200 else []
    if not parts:
        return (), "List one or more times after dosing, like 2h, 24h, 72h, 7d."
    minutes = []
    for part in parts:
        match = _OFFSET.match(part)
        if not match:
            return (), f'"{part.strip()[:20]}" is not a time like 2h or 7d.'
        value = int(match.group(1)) * _UNIT_MINUTES[match.group(2).lower()]
        if not 15 <= value <= 60 * 24 * 60:
            return (), "Each follow-up must be between 15 minutes and 60 days after dosing."
        minutes.append(value)
    if len(set(minutes)) != len(minutes) or len(minutes) > 8:
        return (), "Use up to 8 different times."
    return tuple(sorted(minutes)), ""


def format_offsets(minutes: tuple[int, ...] | list[int]) -> str:
    out = []
    for value in minutes:
        if value % 1440 == 0 and value >= 1440 * 7:
            out.append(f"{value // 1440}d")
        elif value % 60 == 0:
            out.append(f"{value // 60}h")
        else:
            out.append(f"{value}m")
    return ", ".join(out)


@dataclass(frozen=True)
class TemplateStep:
    key: str
    label: str
    help: str
    applies_to: AppliesTo
    due_minutes_before: int
    value_kind: ValueKind = ValueKind.NONE
    required: bool = True


# "{fasting_hours}" is filled from the clinic protocol when a session's checklist is made.
DEFAULT_TEMPLATE: tuple[TemplateStep, ...] = (
    TemplateStep(
        "ride",
        "Arrange a ride home",
        "You can't drive or operate machinery until the next day, after a night's sleep. "
        "Ask someone to collect you, or book a car.",
        AppliesTo.IN_CLINIC,
        24 * 60,
    ),
    TemplateStep(
        "chaperone",
        "Name your chaperone",
        "An adult who stays with you for the whole session, checks on you every 15 minutes, "
        "helps you to the bathroom and can call for help.",
        AppliesTo.AT_HOME,
        24 * 60,
        ValueKind.CHAPERONE,
    ),
    TemplateStep(
        "benzodiazepines",
        "Talk to your prescriber about benzodiazepines",
        "Lorazepam, clonazepam, alprazolam or diazepam can blunt the session. Ask your "
        "prescriber whether to hold them for 24 hours. Never stop a medicine without advice. "
        "If you don't take any, tick this.",
        AppliesTo.ANY,
        48 * 60,
    ),
    TemplateStep(
        "intention",
        "Set an intention",
        "A word or a sentence about what you hope to explore. We'll show it back to you in "
        "your integration work afterwards.",
        AppliesTo.ANY,
        2 * 60,
        ValueKind.TEXT,
    ),
    TemplateStep(
        "no_alcohol",
        "No alcohol or cannabis from 24 hours before",
        "Nor other recreational drugs. Tick this on the day to confirm.",
        AppliesTo.ANY,
        30,
    ),
    TemplateStep(
        "fasting",
        "Stop eating {fasting_hours} hours before",
        "Nothing to eat, and only small sips of clear fluids, for {fasting_hours} hours before "
        "your session. Drink water earlier in the day. Tick this on the day to confirm.",
        AppliesTo.ANY,
        30,
    ),
    TemplateStep(
        "space",
        "Prepare your space",
        "A quiet room, eye mask, headphones and music, a blanket, water and a journal. Phone on "
        "do-not-disturb. Use the bathroom just before you start.",
        AppliesTo.AT_HOME,
        60,
    ),
    TemplateStep(
        "vitals",
        "Record your blood pressure and pulse",
        "On the day, seated and rested for 5 minutes. At the clinic, staff can record it when "
        "you arrive.",
        AppliesTo.ANY,
        15,
        ValueKind.BLOOD_PRESSURE,
    ),
)


def applies(applies_to: str, setting: str) -> bool:
    return applies_to == AppliesTo.ANY or applies_to == setting


# Physiological ranges: values outside them are refused as typing mistakes.
SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
PULSE_RANGE = (30, 220)
