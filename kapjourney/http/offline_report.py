"""The after-session symptom reports on the offline page (GET /offline.html).

Each follow-up that is due now, or falls due within a week, gets a compact report form built
from the same definitions as the online report (kapjourney/domain/safety.py: the items, the
PRO-CTCAE severity choices, the blood pressure and pulse ranges; the note's limit from the
service). The script (assets/js/offline.js) shows a form once it is due on the phone's clock and
queues the answers like the check-in.

The page cannot triage offline, but it can tell at once that an answer is one the clinic's
safety rules treat as urgent or an emergency, and show the crisis card. What counts is worked
out here from the clinic's own rules by ``domain.safety.evaluate`` itself, so the page never
holds a second copy of the item rules: for each item, the least severity that would alert (from
each hour after dosing at which a rule starts to apply). Vitals rules are passed as data and
read in the script exactly as ``domain.safety`` reads them.

The page holds no answers: what was typed stays in the form, then in the service worker's queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape

from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.safety import (
    DIASTOLIC_RANGE,
    PULSE_RANGE,
    SEVERITY,
    SYMPTOMS,
    SYSTOLIC_RANGE,
    Facts,
    SafetyRule,
    evaluate,
)
from kapjourney.services.symptoms import NOTE_MAX, VITAL_NAMES, OpenFollowUp

WORRYING = (AlertSeverity.URGENT, AlertSeverity.EMERGENCY)
READINGS = (
    ("systolic", "Upper number", SYSTOLIC_RANGE),
    ("diastolic", "Lower number", DIASTOLIC_RANGE),
    ("pulse", "Pulse (per minute)", PULSE_RANGE),
)


@dataclass(frozen=True)
class OfflineReport:
    """One follow-up as the offline page carries it (no answers: the page holds no health
    data beyond which follow-ups are open)."""

    followup: OpenFollowUp
    worry: dict[str, list[list[float]]]  # item -> [[from hours after dosing, least severity]]
    vitals: list[dict[str, object]]  # the clinic's urgent and emergency vitals rules


def _alerts(rules: tuple[SafetyRule, ...], answers: dict[str, int], hours: float) -> bool:
    return evaluate(Facts("symptoms", answers, hours_after_dosing=hours), rules).tier in WORRYING


def worry_steps(rules: tuple[SafetyRule, ...], key: str, from_hours: float) -> list[list[float]]:
    """For one item, ``[[hours, least severity that alerts], ...]`` from ``from_hours`` after
    dosing on (0 when no answer alerts): one step more for each rule that starts to apply
    later, e.g. still feeling detached counts from 24 hours."""
    marks = [from_hours, *sorted({r.min_hours for r in rules if (r.min_hours or 0) > from_hours})]
    severities = [c.value for c in SEVERITY if c.value > 0]
    steps: list[list[float]] = []
    for hours in marks:
        least = next((s for s in severities if _alerts(rules, {key: s}, hours)), 0)
        if not steps or steps[-1][1] != least:
            steps.append([hours, least])
    return steps


def vitals_rules(rules: tuple[SafetyRule, ...]) -> list[dict[str, object]]:
    """The clinic's urgent and emergency blood pressure and pulse rules, for the script."""
    found: list[dict[str, object]] = []
    for rule in rules:
        if rule.watches != "vitals" or rule.tier not in WORRYING:
            continue
        if rule.systolic is None and rule.diastolic is None:
            found.append({"pulse": rule.threshold})
        else:
            found.append(
                {
                    "systolic": rule.systolic,
                    "diastolic": rule.diastolic,
                    "with": list(rule.with_items),
                }
            )
    return found


def offline_report(followup: OpenFollowUp, rules: tuple[SafetyRule, ...]) -> OfflineReport:
    hours = followup.offset_minutes / 60
    return OfflineReport(
        followup=followup,
        worry={item.key: worry_steps(rules, item.key, hours) for item in SYMPTOMS.items},
        vitals=vitals_rules(rules),
    )


# --- Rendering --------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _item(prefix: str, number: int, key: str, text: str, worry: list[list[float]]) -> str:
    fid = f"{prefix}-{key}"
    choices = "".join(
        f'<label class="choice"><input type="radio" name="{escape(key)}" value="{c.value}">'
        f"<span>{escape(c.label)}</span></label>"
        for c in SEVERITY
    )
    return (
        f'<fieldset class="scale symptom" id="{fid}" data-key="{escape(key)}" '
        f'data-worry="{escape(json.dumps(worry))}" aria-describedby="{fid}-error">'
        f"<legend>{number}. {escape(text)}</legend>"
        f'<div class="choices">{choices}</div>'
        f'<p class="error" id="{fid}-error"></p></fieldset>'
    )


def _reading(prefix: str, name: str, label: str, bounds: tuple[int, int]) -> str:
    fid = f"{prefix}-{name}"
    low, high = bounds
    return (
        f'<div class="reading"><label for="{fid}">{escape(label)}</label>'
        f'<input id="{fid}" name="{name}" inputmode="numeric" autocomplete="off" '
        f'maxlength="12" data-min="{low}" data-max="{high}" data-what="{VITAL_NAMES[name]}" '
        f'aria-describedby="{fid}-error">'
        f'<p class="error" id="{fid}-error"></p></div>'
    )


def _report_form(report: OfflineReport) -> str:
    f = report.followup
    prefix = f"rep-{f.dosing_session_id}-{f.offset_minutes}"
    items = "".join(
        _item(prefix, n, item.key, item.text, report.worry[item.key])
        for n, item in enumerate(SYMPTOMS.items, 1)
    )
    readings = "".join(_reading(prefix, *reading) for reading in READINGS)
    return (
        f'<details class="report" id="{prefix}" hidden data-dosing="{f.dosing_session_id}" '
        f'data-offset="{f.offset_minutes}" data-dosed="{_iso(f.dosed_at)}" '
        f'data-due="{_iso(f.due_at)}" data-closes="{_iso(f.closes_at)}" '
        f'data-vitals="{escape(json.dumps(report.vitals))}">'
        f'<summary><span class="report-title" id="{prefix}-title">{escape(f.title)}</span>'
        f'<span class="report-hint">About {SYMPTOMS.minutes} minutes</span></summary>'
        f'<div class="worry" id="{prefix}-worry" role="alert"></div>'
        # POST, so that even without the script no answer could end up in an address.
        f'<form class="offline-report" method="post" novalidate '
        f'aria-labelledby="{prefix}-title">'
        f'<p class="preamble">{escape(SYMPTOMS.preamble)}</p>{items}'
        '<fieldset class="readings"><legend>Blood pressure and pulse (optional)</legend>'
        '<p class="hint">If you have a monitor at home, add a reading taken in the last '
        f'hour.</p><div class="reading-grid">{readings}</div></fieldset>'
        f'<div class="note"><label for="{prefix}-note">Anything else your care team should '
        f'know? (optional)</label><textarea id="{prefix}-note" name="note" rows="3" '
        f'data-max="{NOTE_MAX}" aria-describedby="{prefix}-note-count {prefix}-note-error">'
        f'</textarea><p class="count" id="{prefix}-note-count">0 / {NOTE_MAX}</p>'
        f'<p class="error" id="{prefix}-note-error"></p></div>'
        f'<p class="error" id="{prefix}-form-error" role="alert"></p>'
        '<button type="submit" class="primary">Send to my care team</button></form>'
        f'<div class="report-status" id="{prefix}-status" role="status" aria-live="polite">'
        "</div></details>"
    )


def render_reports(reports: list[OfflineReport], calls: str, lines_text: str) -> str:
    """The section of report forms, hidden until the script finds one due; with the crisis
    and support messages the script shows (as templates, inert until used)."""
    if not reports:
        return ""
    forms = "".join(_report_form(r) for r in reports)
    return (
        '<section class="reports" id="offline-reports" hidden aria-labelledby="reports-title">'
        '<h2 id="reports-title">After your session</h2>'
        f'{forms}<p class="next" id="reports-next"></p></section>'
        '<template id="offline-worry">'
        '<div class="crisis urgent"><h3>Please reach out if you need help now</h3>'
        "<p><strong>Your answers will reach your care team when you are back online.</strong> "
        f"If you need help now, call {escape(lines_text)}.</p>{calls}</div></template>"
        '<template id="offline-support">'
        '<div class="support"><h3>Thank you for telling us</h3>'
        "<p>Your care team has been told and will contact you. If things feel worse before "
        f"they reach you, call {escape(lines_text)}.</p>{calls}</div></template>"
    )


CSS = """
.reports{margin:20px 0}
.next{margin:0;color:#3b3a37}
.next:empty{display:none}
.report{margin:0 0 12px;border:1px solid #dad9d6;border-radius:14px;background:#fff}
.report summary{display:flex;flex-direction:column;gap:2px;min-height:56px;padding:12px 16px;
cursor:pointer;list-style:none;position:relative;padding-right:44px}
.report summary::-webkit-details-marker{display:none}
.report summary::after{content:"";position:absolute;right:18px;top:50%;width:10px;height:10px;
border-right:2px solid #3b3a37;border-bottom:2px solid #3b3a37;transform:translateY(-70%)
rotate(45deg)}
.report[open] summary::after{transform:translateY(-30%) rotate(-135deg)}
.report summary:focus-visible{outline:3px solid #1f2d5c;outline-offset:2px;border-radius:14px}
.report-title{font-weight:600}
.report-hint{font-size:.875rem;color:#63635e}
.report form{margin:0;border:0;border-top:1px solid #dad9d6;border-radius:0 0 14px 14px}
.preamble{margin:0 0 12px}
.symptom legend{font-weight:600}
.symptom .choices{grid-template-columns:repeat(5,1fr)}
.symptom .choice{min-height:52px}
.readings{margin:0 0 16px}
.hint{margin:0 0 8px;font-size:.875rem;color:#63635e}
.reading-grid{display:grid;grid-template-columns:1fr 1fr;gap:8px 12px}
.reading label{display:block;font-size:.9375rem;font-weight:500;margin-bottom:4px}
.reading input{width:100%;min-height:48px;font:inherit;padding:8px 10px;
border:1px solid #8d8c85;border-radius:10px}
.reading input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b3242a}
input:focus-visible{outline:3px solid #1f2d5c;outline-offset:2px}
.worry:empty,.report-status:empty{display:none}
.worry{padding:0 12px}
.crisis.urgent{margin:4px 0 12px}
.crisis h3,.support h3{font-size:1.05rem;margin:0 0 6px}
.report-status{margin:0;padding:12px 16px}
.report-status .saved,.report-status .sent{margin:0;font-weight:600}
.report-status .saved{color:#1f2d5c}
.report-status .sent{color:#1d4d22}
.support{margin-top:12px;padding:16px;border-radius:14px;background:#eef1fd;color:#1f2d5c}
.support p{margin:0 0 8px}
"""
