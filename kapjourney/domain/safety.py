"""Safety rules as data: which answers and readings make a worrying report, and how grave.

A rule names what it watches (questionnaire items, post-session symptoms, blood pressure and
pulse), its threshold, and its tier. Defaults follow the clinical reference (section 3.3) and
each cites its source; a clinic may change thresholds and raise a tier, never lower one below the
published default, and never switch a rule off. ``evaluate`` is pure: services gather the facts
and raise the alert in the same transaction that stores the report.

The app supports clinical work; a rule met is a prompt for a clinician's review, not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.instruments import Choice, Instrument, Item

TIER_ORDER = {AlertSeverity.ROUTINE: 1, AlertSeverity.URGENT: 2, AlertSeverity.EMERGENCY: 3}
TIER_LABELS = {
    AlertSeverity.EMERGENCY: "Emergency",
    AlertSeverity.URGENT: "Urgent",
    AlertSeverity.ROUTINE: "Routine",
}

# --- Post-session symptoms: PRO-CTCAE-style severity, CTCAE-like grade ------------------------

SEVERITY = (
    Choice(0, "None"),
    Choice(1, "Mild"),
    Choice(2, "Moderate"),
    Choice(3, "Severe"),
    Choice(4, "Very severe"),
)
# Patient-reported severity to a CTCAE-like grade for clinicians: mild G1, moderate G2, severe
# and very severe G3 (clinical reference 3.3: "G3+ ~ severe/very severe"). Grades 4-5 are
# clinician judgements (life-threatening, death) and are never inferred from a self-report.
GRADE_BY_SEVERITY = {0: 0, 1: 1, 2: 2, 3: 3, 4: 3}
GRADE_LABELS = {0: "None", 1: "Grade 1 (mild)", 2: "Grade 2 (moderate)", 3: "Grade 3 (severe)"}

SYMPTOM_ITEMS: tuple[tuple[str, str], ...] = (
    ("nausea", "Nausea or vomiting"),
    ("dizziness", "Dizziness"),
    ("headache", "Headache"),
    ("blurred_vision", "Blurred or double vision"),
    ("detached", "Still feeling detached, unreal, or outside yourself"),
    ("hallucinations", "Seeing or hearing things others do not"),
    ("anxiety", "Anxiety or agitation"),
    ("low_mood", "Low mood"),
    ("self_harm", "Thoughts of hurting yourself or of being better off dead"),
    ("urinary", "Pain when passing urine, needing to go urgently, or blood in the urine"),
    ("chest_pain", "Chest pain or breathlessness"),
    ("severe_headache", "A sudden, very bad headache"),
    ("craving", "Craving ketamine, or taking more than prescribed"),
    ("fall_injury", "A fall or an injury"),
)

SYMPTOMS = Instrument(
    key="symptoms",
    version="1",
    title="How are you feeling after your session?",
    short_title="After-session check",
    preamble=(
        "Since your session, how bad has each of these been at its worst? "
        'Choose "None" for anything you have not had.'
    ),
    items=tuple(Item(key, text, choices=SEVERITY, scored=False) for key, text in SYMPTOM_ITEMS),
    source=(
        "Items: ketamine side effects in the clinical reference (KSET, Short 2020; esketamine "
        "label). Wording: PRO-CTCAE severity scale (US National Cancer Institute, free to use)."
    ),
    minutes=2,
)

# Physiologically possible readings: anything outside is a typing slip, not a finding.
SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
PULSE_RANGE = (30, 220)


def grade(severity: object) -> int:
    return GRADE_BY_SEVERITY.get(severity, 0) if type(severity) is int else 0  # type: ignore[arg-type]


def grades(answers: Mapping[str, object]) -> dict[str, int]:
    return {key: grade(answers.get(key)) for key, _ in SYMPTOM_ITEMS}


# --- Rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyRule:
    """One rule. ``watches`` says which report it reads:

    * an instrument key ("phq9", "cssrs"): any of ``items`` answered ``threshold`` or more;
    * "symptoms": any of ``items`` (all symptoms when empty) at severity ``threshold`` or more,
      only at ``min_hours`` or later after dosing when that is set;
    * "vitals": systolic at or above ``systolic`` or diastolic at or above ``diastolic``, or a
      pulse above ``threshold``; with ``with_items``, only when one of those symptoms is present.
    """

    code: str
    tier: AlertSeverity
    label: str  # for the care team
    source: str
    watches: str
    items: tuple[str, ...] = ()
    threshold: int | None = None
    threshold_label: str = ""
    threshold_range: tuple[int, int] = (1, 4)
    min_hours: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    with_items: tuple[str, ...] = ()
    grade_based: bool = False  # threshold is a CTCAE-like grade, not a severity answer


CSSRS_SOURCE = "Columbia triage (cssrs.columbia.edu); clinical reference 3.1, 3.3."
BP_SOURCE = (
    "Hypertensive emergency: 180/120 with symptoms (step2.medbullets.com); example clinic "
    "protocol 180/110 (clinical reference 3.3)."
)

RULES: tuple[SafetyRule, ...] = (
    SafetyRule(
        "cssrs_intent_plan_behaviour",
        AlertSeverity.EMERGENCY,
        "C-SSRS: suicidal intent, a plan, or suicidal behaviour in the past 3 months",
        CSSRS_SOURCE,
        "cssrs",
        items=("q4", "q5", "q6_recent"),
        threshold=1,
        threshold_range=(1, 1),
    ),
    SafetyRule(
        "bp_crisis_with_symptoms",
        AlertSeverity.EMERGENCY,
        "Very high blood pressure with headache, chest pain, breathlessness or vision change",
        BP_SOURCE,
        "vitals",
        systolic=180,
        diastolic=120,
        with_items=("severe_headache", "chest_pain", "blurred_vision"),
    ),
    SafetyRule(
        "chest_pain",
        AlertSeverity.EMERGENCY,
        "Chest pain or breathlessness after a session",
        "Clinical reference 3.3 (emergency tier).",
        "symptoms",
        items=("chest_pain",),
        threshold=1,
        threshold_label="Lowest severity that counts",
    ),
    SafetyRule(
        "phq9_item9",
        AlertSeverity.URGENT,
        "PHQ-9 item 9 (thoughts of death or self-harm) answered above zero",
        "Item 9 above zero is significant whatever the total (calcipedia PHQ-9; clinical "
        "reference 3.1).",
        "phq9",
        items=("q9",),
        threshold=1,
        threshold_range=(1, 1),
    ),
    SafetyRule(
        "cssrs_ideation",
        AlertSeverity.URGENT,
        "C-SSRS: wish to be dead or suicidal thoughts, without intent or plan",
        CSSRS_SOURCE,
        "cssrs",
        items=("q1", "q2", "q3"),
        threshold=1,
        threshold_range=(1, 1),
    ),
    SafetyRule(
        "self_harm_thoughts",
        AlertSeverity.URGENT,
        "Thoughts of self-harm reported after a session",
        "Treated as PHQ-9 item 9 (clinical reference 3.1, 3.3).",
        "symptoms",
        items=("self_harm",),
        threshold=1,
        threshold_range=(1, 1),
    ),
    SafetyRule(
        "dissociation_persistent",
        AlertSeverity.URGENT,
        "Dissociation or hallucinations still present 24 hours or more after dosing",
        "Dissociation and volatility usually resolve within 24 h (KAP consent; esketamine "
        "label; clinical reference 3.3).",
        "symptoms",
        items=("detached", "hallucinations"),
        threshold=1,
        threshold_label="Lowest severity that counts",
        min_hours=24,
    ),
    SafetyRule(
        "urinary_symptoms",
        AlertSeverity.URGENT,
        "Urinary pain, urgency or blood after a session",
        "Ketamine cystitis review (healthpsychologyresearch); clinical reference 3.3.",
        "symptoms",
        items=("urinary",),
        threshold=1,
        threshold_label="Lowest severity that counts",
    ),
    SafetyRule(
        "craving",
        AlertSeverity.URGENT,
        "Craving, or taking more than prescribed",
        "Misuse red flags (frontiersin 10.3389/fpsyt.2022.1016439); clinical reference 3.3.",
        "symptoms",
        items=("craving",),
        threshold=1,
        threshold_label="Lowest severity that counts",
    ),
    SafetyRule(
        "fall_injury",
        AlertSeverity.URGENT,
        "A fall or an injury after a session",
        "Clinical reference 3.3 (urgent tier).",
        "symptoms",
        items=("fall_injury",),
        threshold=1,
        threshold_label="Lowest severity that counts",
    ),
    SafetyRule(
        "bp_very_high",
        AlertSeverity.URGENT,
        "Very high blood pressure",
        BP_SOURCE,
        "vitals",
        systolic=180,
        diastolic=110,
    ),
    SafetyRule(
        "pulse_high",
        AlertSeverity.URGENT,
        "Pulse above the clinic's limit",
        "Sustained heart rate above 120 (clinical reference 3.3).",
        "vitals",
        threshold=120,
        threshold_label="Pulse above (beats/min)",
        threshold_range=(90, 180),
    ),
    SafetyRule(
        "severe_grade",
        AlertSeverity.URGENT,
        "A symptom graded severe",
        "CTCAE v5 grade 3: severe or medically significant (clinical reference 3.3).",
        "symptoms",
        threshold=3,
        threshold_label="Lowest grade that counts",
        threshold_range=(2, 3),
        grade_based=True,
    ),
    SafetyRule(
        "symptom_moderate",
        AlertSeverity.ROUTINE,
        "A side effect graded moderate",
        "Routine tier: log, show in the trend, discuss at the next session (clinical "
        "reference 3.3).",
        "symptoms",
        threshold=2,
        threshold_label="Lowest grade that counts",
        threshold_range=(1, 3),
        grade_based=True,
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}
ALERT_REASONS = {rule.code: rule.label for rule in RULES}


@dataclass(frozen=True)
class RuleSetting:
    """A clinic's override of one rule (None keeps the default)."""

    tier: AlertSeverity | None = None
    threshold: int | None = None
    systolic: int | None = None
    diastolic: int | None = None


def configured(settings: Mapping[str, RuleSetting] | None = None) -> tuple[SafetyRule, ...]:
    """The rules with a clinic's settings applied. A tier below the default is ignored."""
    settings = settings or {}
    rules = []
    for rule in RULES:
        s = settings.get(rule.code)
        if s is None:
            rules.append(rule)
            continue
        tier = rule.tier
        if s.tier is not None and TIER_ORDER[AlertSeverity(s.tier)] >= TIER_ORDER[rule.tier]:
            tier = AlertSeverity(s.tier)
        rules.append(
            replace(
                rule,
                tier=tier,
                threshold=s.threshold if s.threshold is not None else rule.threshold,
                systolic=s.systolic if s.systolic is not None else rule.systolic,
                diastolic=s.diastolic if s.diastolic is not None else rule.diastolic,
            )
        )
    return tuple(rules)


def setting_problem(rule: SafetyRule, setting: RuleSetting) -> dict[str, str]:
    """Why a clinic's setting for ``rule`` cannot be saved (field -> message)."""
    problems: dict[str, str] = {}
    if setting.tier is not None:
        if setting.tier not in TIER_ORDER:
            problems["tier"] = "Choose emergency, urgent or routine."
        elif TIER_ORDER[AlertSeverity(setting.tier)] < TIER_ORDER[rule.tier]:
            problems["tier"] = (
                f"This rule cannot be set below its published tier "
                f"({TIER_LABELS[rule.tier].lower()})."
            )
    if setting.threshold is not None and rule.threshold is not None:
        low, high = rule.threshold_range
        if not low <= setting.threshold <= high:
            problems["threshold"] = f"Enter a number from {low} to {high}."
    for name, (low, high) in (("systolic", SYSTOLIC_RANGE), ("diastolic", DIASTOLIC_RANGE)):
        value = getattr(setting, name)
        if value is not None and getattr(rule, name) is not None and not low <= value <= high:
            problems[name] = f"Enter a number from {low} to {high}."
    return problems


@dataclass(frozen=True)
class Facts:
    """What a rule can read about one report."""

    watches: str  # an instrument key, "symptoms" (which also carries vitals), or "vitals"
    answers: Mapping[str, object]
    hours_after_dosing: float | None = None
    systolic: int | None = None
    diastolic: int | None = None
    pulse: int | None = None


def _answered(answers: Mapping[str, object], key: str) -> int:
    value = answers.get(key)
    return value if type(value) is int else 0


def _meets(rule: SafetyRule, facts: Facts) -> bool:
    if rule.watches == "vitals":
        if facts.watches not in ("symptoms", "vitals"):  # a report, or a pre-dose reading
            return False
        if rule.systolic is not None or rule.diastolic is not None:
            high = (
                rule.systolic is not None
                and facts.systolic is not None
                and facts.systolic >= rule.systolic
            ) or (
                rule.diastolic is not None
                and facts.diastolic is not None
                and facts.diastolic >= rule.diastolic
            )
            if not high:
                return False
            return not rule.with_items or any(
                _answered(facts.answers, k) >= 1 for k in rule.with_items
            )
        return (
            rule.threshold is not None and facts.pulse is not None and facts.pulse > rule.threshold
        )
    if rule.watches != facts.watches or rule.threshold is None:
        return False
    if rule.min_hours is not None and (
        facts.hours_after_dosing is None or facts.hours_after_dosing < rule.min_hours
    ):
        return False
    keys = rule.items or tuple(key for key, _ in SYMPTOM_ITEMS)
    if rule.grade_based:
        return any(grade(facts.answers.get(k)) >= rule.threshold for k in keys)
    return any(_answered(facts.answers, k) >= rule.threshold for k in keys)


@dataclass(frozen=True)
class Triage:
    tier: AlertSeverity | None  # None: nothing met; the report is logged
    rules: tuple[SafetyRule, ...]

    @property
    def top(self) -> SafetyRule | None:
        return self.rules[0] if self.rules else None


def evaluate(facts: Facts, rules: tuple[SafetyRule, ...] = RULES) -> Triage:
    """Every rule the report meets, gravest first (ties keep the catalogue's order).

    A routine rule is reported only when nothing graver is met: "routine (the rest)".
    """
    met = [rule for rule in rules if _meets(rule, facts)]
    met.sort(key=lambda r: -TIER_ORDER[r.tier])
    if met and met[0].tier != AlertSeverity.ROUTINE:
        met = [r for r in met if r.tier != AlertSeverity.ROUTINE]
    return Triage(tier=met[0].tier if met else None, rules=tuple(met))


def hold_tier(tier: AlertSeverity | str | None) -> bool:
    """Urgent and emergency alerts put the next dosing session on hold until reviewed."""
    return tier in (AlertSeverity.URGENT, AlertSeverity.EMERGENCY)
