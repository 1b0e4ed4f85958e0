"""The dosing-day readiness gate: pure rules over facts a service gathers.

Green: consent current, screening done and reviewed (and re-done after a lapse), every required
preparation step done, blood pressure and pulse within the clinic's limits, no open urgent alert.
Amber: the only things missing are steps that are due but not yet late.
Red: anything else, with every reason listed.

A step is late once ``now`` is strictly past its due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kapjourney.domain.enums import Readiness


@dataclass(frozen=True)
class Vitals:
    systolic: int
    diastolic: int
    pulse: int


@dataclass(frozen=True)
class StepFact:
    key: str
    label: str
    required: bool
    due_at: datetime
    done: bool
    vitals: Vitals | None = None


@dataclass(frozen=True)
class Limits:
    systolic_max: int
    diastolic_max: int
    pulse_max: int


@dataclass(frozen=True)
class GateFacts:
    consent: str  # "current" | "none" | "outdated" | "withdrawn"
    screening_complete: bool
    screening_reviewed: bool
    lapsed_days: int | None  # set when the last session is older than the lapse rule allows
    rescreened_since_last: bool
    open_urgent_alerts: int
    steps: tuple[StepFact, ...]
    limits: Limits


@dataclass(frozen=True)
class Reason:
    code: str
    staff: str  # wording for the care team
    client: str  # wording for the client: what to do, kindly
    blocking: bool  # True: part of a red light; False: still to do, not late
    step_key: str = ""


_CONSENT = {
    "none": ("Consent not signed", "Sign your consent"),
    "outdated": (
        "Consent is for an earlier version: re-consent needed",
        "Your clinic updated the consent: please read and sign it again",
    ),
    "withdrawn": ("Consent withdrawn", "You withdrew your consent: talk to your care team"),
}


def evaluate(facts: GateFacts, *, at: datetime) -> tuple[Readiness, tuple[Reason, ...]]:
    reasons: list[Reason] = []
    if facts.consent != "current":
        staff, client = _CONSENT.get(facts.consent, _CONSENT["none"])
        reasons.append(Reason(f"consent_{facts.consent}", staff, client, True))
    if not facts.screening_complete:
        reasons.append(
            Reason(
                "screening_incomplete",
                "Screening not complete",
                "Finish your health screening",
                True,
            )
        )
    elif not facts.screening_reviewed:
        reasons.append(
            Reason(
                "screening_unreviewed",
                "Screening not yet reviewed",
                "Your clinician is still to review your screening",
                True,
            )
        )
    if facts.lapsed_days is not None and not facts.rescreened_since_last:
        reasons.append(
            Reason(
                "lapsed",
                f"Last session more than {facts.lapsed_days} days ago: re-screen before dosing",
                "It has been a while since your last session: your care team will re-check "
                "a few things first",
                True,
            )
        )
    if facts.open_urgent_alerts:
        reasons.append(
            Reason(
                "open_alert",
                "Open urgent alert: review before dosing",
                "Your care team will talk with you before this session",
                True,
            )
        )
    for step in facts.steps:
        if step.vitals is not None:
            reasons.extend(_vitals_reasons(step, facts.limits))
        if not step.required or step.done:
            continue
        late = at > step.due_at
        reasons.append(
            Reason(
                f"step_{'late' if late else 'due'}",
                f"{'Late' if late else 'To do'}: {step.label}",
                f"{'Overdue' if late else 'Still to do'}: {step.label}",
                late,
                step.key,
            )
        )
    if any(r.blocking for r in reasons):
        level = Readiness.RED
    elif reasons:
        level = Readiness.AMBER
    else:
        level = Readiness.GREEN
    reasons.sort(key=lambda r: not r.blocking)
    return level, tuple(reasons)


def _vitals_reasons(step: StepFact, limits: Limits) -> list[Reason]:
    v = step.vitals
    assert v is not None
    out = []
    if v.systolic > limits.systolic_max or v.diastolic > limits.diastolic_max:
        out.append(
            Reason(
                "bp_high",
                f"Blood pressure {v.systolic}/{v.diastolic} above the limit "
                f"{limits.systolic_max}/{limits.diastolic_max}",
                "Your blood pressure reading is above the clinic's limit: rest for 5 minutes "
                "and measure again, or call your clinic",
                True,
                step.key,
            )
        )
    if v.pulse > limits.pulse_max:
        out.append(
            Reason(
                "pulse_high",
                f"Pulse {v.pulse} above the limit {limits.pulse_max}",
                "Your pulse reading is above the clinic's limit: rest for 5 minutes and measure "
                "again, or call your clinic",
                True,
                step.key,
            )
        )
    return out
