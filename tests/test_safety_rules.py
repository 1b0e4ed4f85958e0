"""The safety rules as data (``domain.safety``): every default rule at, just below and just above
its threshold; vitals with and without symptoms; the 24-hour line; grading; "routine" only when
nothing graver is met; and what a clinic may and may not change."""

from __future__ import annotations

import pytest

from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.safety import (
    RULES,
    RULES_BY_CODE,
    SYMPTOM_ITEMS,
    Facts,
    RuleSetting,
    configured,
    evaluate,
    grade,
    grades,
    hold_tier,
    setting_problem,
)

E, U, R = AlertSeverity.EMERGENCY, AlertSeverity.URGENT, AlertSeverity.ROUTINE
NONE = {key: 0 for key, _ in SYMPTOM_ITEMS}


def symptoms(hours: float | None = 2.0, bp=(None, None), pulse=None, **answers) -> Facts:
    return Facts(
        "symptoms",
        NONE | answers,
        hours_after_dosing=hours,
        systolic=bp[0],
        diastolic=bp[1],
        pulse=pulse,
    )


def codes(facts: Facts, rules=RULES) -> list[str]:
    return [r.code for r in evaluate(facts, rules).rules]


def tier(facts: Facts, rules=RULES):
    return evaluate(facts, rules).tier


# --- Questionnaire rules ------------------------------------------------------------------------


@pytest.mark.parametrize("item", ["q4", "q5", "q6_recent"])
@pytest.mark.parametrize(("value", "expected"), [(0, None), (1, E), (2, E)])
def test_cssrs_intent_plan_or_behaviour_is_an_emergency(item, value, expected):
    assert tier(Facts("cssrs", {item: value})) == expected


@pytest.mark.parametrize("item", ["q1", "q2", "q3"])
@pytest.mark.parametrize(("value", "expected"), [(0, None), (1, U), (2, U)])
def test_cssrs_wish_or_thoughts_without_plan_are_urgent(item, value, expected):
    assert tier(Facts("cssrs", {item: value})) == expected


def test_cssrs_plan_outranks_ideation():
    triage = evaluate(Facts("cssrs", {"q1": 1, "q2": 1, "q4": 1}))
    assert triage.tier == E
    assert triage.top.code == "cssrs_intent_plan_behaviour"
    assert [r.code for r in triage.rules] == ["cssrs_intent_plan_behaviour", "cssrs_ideation"]


@pytest.mark.parametrize(("value", "expected"), [(0, None), (1, U), (3, U)])
def test_phq9_item9_above_zero_is_urgent_whatever_the_total(value, expected):
    assert tier(Facts("phq9", {"q9": value})) == expected
    assert tier(Facts("phq9", {f"q{i}": 3 for i in range(1, 9)} | {"q9": 0})) is None


def test_questionnaire_answers_do_not_trip_symptom_or_vitals_rules():
    assert tier(Facts("phq9", {"chest_pain": 4, "q9": 0}, systolic=250, diastolic=150)) is None
    assert tier(Facts("gad7", {"q1": 3})) is None


# --- Symptom rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "rule", "expected"),
    [
        ("chest_pain", "chest_pain", E),
        ("self_harm", "self_harm_thoughts", U),
        ("urinary", "urinary_symptoms", U),
        ("craving", "craving", U),
        ("fall_injury", "fall_injury", U),
    ],
)
def test_any_severity_of_a_red_flag_symptom_meets_its_rule(item, rule, expected):
    assert tier(symptoms(**{item: 0})) is None  # below
    assert tier(symptoms(**{item: 1})) == expected  # at: mild counts
    assert tier(symptoms(**{item: 2})) == expected  # above
    assert evaluate(symptoms(**{item: 2})).top.code == rule


@pytest.mark.parametrize("item", ["detached", "hallucinations"])
@pytest.mark.parametrize(
    ("hours", "expected"), [(2.0, None), (23.9, None), (24.0, U), (24.1, U), (170.0, U)]
)
def test_dissociation_is_urgent_from_24_hours_after_dosing(item, hours, expected):
    assert tier(symptoms(hours=hours, **{item: 1})) == expected


def test_dissociation_rule_needs_the_symptom_and_a_known_time():
    assert tier(symptoms(hours=48.0, detached=0)) is None
    assert tier(symptoms(hours=None, detached=1)) is None
    assert codes(symptoms(hours=30.0, detached=1)) == ["dissociation_persistent"]


@pytest.mark.parametrize(
    ("severity", "expected", "rule"),
    [
        (1, None, None),  # grade 1: logged only
        (2, R, "symptom_moderate"),  # grade 2: routine
        (3, U, "severe_grade"),  # grade 3: urgent
        (4, U, "severe_grade"),  # very severe is grade 3 too
    ],
)
def test_graded_rules_at_and_around_moderate_and_severe(severity, expected, rule):
    triage = evaluate(symptoms(nausea=severity))
    assert triage.tier == expected
    assert (triage.top.code if triage.top else None) == rule


def test_routine_is_reported_only_when_nothing_graver_is_met():
    assert codes(symptoms(nausea=2, headache=2)) == ["symptom_moderate"]
    assert codes(symptoms(nausea=2, urinary=1)) == ["urinary_symptoms"]
    assert codes(symptoms(nausea=2, chest_pain=1)) == ["chest_pain"]


def test_rules_come_gravest_first():
    triage = evaluate(symptoms(hours=30.0, chest_pain=3, detached=1, craving=1))
    assert triage.tier == E
    assert [r.tier for r in triage.rules] == [E, U, U, U]
    assert triage.top.code == "chest_pain"


def test_a_calm_report_meets_nothing():
    assert evaluate(symptoms(hours=30.0, bp=(128, 84), pulse=76)).rules == ()


# --- Vitals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bp", "expected"),
    [
        ((179, 109), None),  # just below both limits
        ((180, 90), U),  # systolic at 180
        ((181, 90), U),
        ((150, 110), U),  # diastolic at 110
        ((150, 111), U),
    ],
)
def test_very_high_blood_pressure_without_symptoms_is_urgent(bp, expected):
    assert tier(symptoms(bp=bp)) == expected


@pytest.mark.parametrize("symptom", ["severe_headache", "blurred_vision"])
@pytest.mark.parametrize(
    ("bp", "expected"),
    [
        ((179, 100), None),  # below every limit: the mild symptom alone is logged
        ((180, 100), E),  # systolic at 180 with a symptom
        ((150, 119), U),  # diastolic just below 120: the urgent rule (>= 110) instead
        ((150, 120), E),  # diastolic at 120 with a symptom
        ((200, 125), E),
    ],
)
def test_blood_pressure_crisis_with_symptoms_is_an_emergency(symptom, bp, expected):
    assert tier(symptoms(bp=bp, **{symptom: 1})) == expected


def test_crisis_pressure_without_symptoms_is_urgent_not_emergency():
    triage = evaluate(symptoms(bp=(200, 125)))
    assert triage.tier == U
    assert [r.code for r in triage.rules] == ["bp_very_high"]


def test_only_one_pressure_number_still_counts():
    assert tier(symptoms(bp=(185, None))) == U
    assert tier(symptoms(bp=(None, 112))) == U
    assert tier(symptoms(bp=(None, None))) is None


@pytest.mark.parametrize(("pulse", "expected"), [(119, None), (120, None), (121, U), (150, U)])
def test_pulse_above_120_is_urgent(pulse, expected):
    assert tier(symptoms(pulse=pulse)) == expected


# --- Grading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "expected"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (None, 0), ("3", 0), (True, 0), (9, 0)],
)
def test_grading_table_maps_patient_severity_to_ctcae_like_grade(severity, expected):
    assert grade(severity) == expected


def test_grades_cover_every_item_and_treat_missing_as_none():
    graded = grades({"nausea": 2, "headache": 4})
    assert set(graded) == {key for key, _ in SYMPTOM_ITEMS}
    assert graded["nausea"] == 2 and graded["headache"] == 3 and graded["dizziness"] == 0


def test_urgent_and_emergency_put_the_next_session_on_hold():
    assert hold_tier(E) and hold_tier(U) and hold_tier("urgent")
    assert not hold_tier(R) and not hold_tier(None)


# --- A clinic's settings ------------------------------------------------------------------------


def test_a_clinic_can_raise_a_tier():
    rules = configured({"symptom_moderate": RuleSetting(tier=U)})
    assert tier(symptoms(nausea=2), rules) == U
    assert RULES_BY_CODE["symptom_moderate"].tier == R  # the catalogue itself is untouched


def test_a_clinic_cannot_lower_a_tier():
    rules = configured({"chest_pain": RuleSetting(tier=R), "craving": RuleSetting(tier=R)})
    assert tier(symptoms(chest_pain=1), rules) == E
    assert tier(symptoms(craving=1), rules) == U
    problem = setting_problem(RULES_BY_CODE["chest_pain"], RuleSetting(tier=R))
    assert problem == {"tier": "This rule cannot be set below its published tier (emergency)."}


def test_a_clinic_threshold_applies():
    rules = configured({"pulse_high": RuleSetting(threshold=100)})
    assert tier(symptoms(pulse=100), rules) is None
    assert tier(symptoms(pulse=101), rules) == U
    rules = configured({"bp_very_high": RuleSetting(systolic=160, diastolic=100)})
    assert tier(symptoms(bp=(159, 99)), rules) is None
    assert tier(symptoms(bp=(160, 80)), rules) == U
    rules = configured({"dissociation_persistent": RuleSetting(threshold=2)})
    assert tier(symptoms(hours=30.0, detached=1), rules) is None
    assert tier(symptoms(hours=30.0, detached=2), rules) == U


@pytest.mark.parametrize(
    ("code", "setting", "field"),
    [
        ("pulse_high", RuleSetting(threshold=89), "threshold"),
        ("pulse_high", RuleSetting(threshold=181), "threshold"),
        ("severe_grade", RuleSetting(threshold=1), "threshold"),
        ("phq9_item9", RuleSetting(threshold=2), "threshold"),  # fixed by the instrument
        ("bp_very_high", RuleSetting(systolic=59), "systolic"),
        ("bp_very_high", RuleSetting(diastolic=161), "diastolic"),
    ],
)
def test_thresholds_must_stay_within_their_range(code, setting, field):
    problems = setting_problem(RULES_BY_CODE[code], setting)
    assert set(problems) == {field}
    assert problems[field].startswith("Enter a number from")


@pytest.mark.parametrize(
    ("code", "setting"),
    [
        ("pulse_high", RuleSetting(threshold=90)),
        ("pulse_high", RuleSetting(threshold=180)),
        ("severe_grade", RuleSetting(threshold=2, tier=E)),
        ("bp_very_high", RuleSetting(systolic=60, diastolic=160)),
        ("symptom_moderate", RuleSetting(tier=U)),
    ],
)
def test_settings_within_range_are_accepted(code, setting):
    assert setting_problem(RULES_BY_CODE[code], setting) == {}


def test_every_rule_cites_a_source_and_has_a_unique_code():
    assert len(RULES_BY_CODE) == len(RULES)
    for rule in RULES:
        assert rule.source and rule.label
        if rule.threshold is not None:
            low, high = rule.threshold_range
            assert low <= rule.threshold <= high, rule.code
