"""The questionnaire engine and its instruments: published scoring, bands, skip logic and
validation. Which answers alert the care team is the clinic's safety rules (``domain.safety``);
the item-9 tests below check the engine and those rules together.

Pure: no database. Band edges follow Kroenke 2001 (PHQ-9) and Spitzer 2006 (GAD-7); the PCL-5
cut-off follows the National Center for PTSD (31-33, 33 used here).
"""

from __future__ import annotations

import copy

import pytest

from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.instruments import (
    CSSRS,
    FLAG_LABELS,
    GAD7,
    INSTRUMENTS,
    INTAKE,
    PCL5,
    PHQ9,
    TEXT_ANSWER_MAX,
    Instrument,
    answer_problem,
    score,
    visible_answers,
)
from kapjourney.domain.safety import ALERT_REASONS, Facts, evaluate

PHQ9_SCORED = [f"q{n}" for n in range(1, 10)]


def _codes(instrument: Instrument, answers: dict) -> list[str]:
    """The safety rules the answers meet (the clinic defaults)."""
    facts = Facts(instrument.key, visible_answers(instrument, answers))
    return [rule.code for rule in evaluate(facts).rules]


def _answers(instrument: Instrument, total: int, *, last_first: bool = False) -> dict[str, int]:
    """Answers to every scored item adding up to ``total`` (filled greedily, in item order)."""
    items = [i for i in instrument.items if i.scored and i.kind == "choice"]
    if last_first:
        items.reverse()
    out, left = {}, total
    for item in items:
        top = max(c.value for c in item.choices)
        out[item.key] = min(top, left)
        left -= out[item.key]
    assert left == 0, f"{total} is above {instrument.key}'s maximum"
    return out


def _intake(**yes: int) -> dict[str, object]:
    answers: dict[str, object] = {i.key: 0 for i in INTAKE.items if i.kind == "yesno"}
    answers.update(yes)
    return answers


# --- PHQ-9 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
        (27, "Severe"),
    ],
)
def test_it_bands_phq9_totals_at_every_published_edge(total, band):
    result = score(PHQ9, _answers(PHQ9, total))
    assert result.complete
    assert result.total == total
    assert result.band == band


def test_it_scores_a_worked_phq9_example_as_moderate():
    # 2+2+2+2+1+1+2+2+0 = 14: the top of the Moderate band (10-14).
    values = [2, 2, 2, 2, 1, 1, 2, 2, 0]
    result = score(PHQ9, dict(zip(PHQ9_SCORED, values, strict=True)))
    assert (result.total, result.band) == (14, "Moderate")
    assert _codes(PHQ9, dict(zip(PHQ9_SCORED, values, strict=True))) == []


def test_it_does_not_score_phq9_item10():
    answers = _answers(PHQ9, 5)
    with_difficulty = score(PHQ9, {**answers, "q10": 3})
    assert with_difficulty.total == 5
    assert with_difficulty.band == "Mild"
    assert PHQ9.item("q10").scored is False


def test_it_treats_phq9_item10_as_optional_but_still_validates_it():
    answers = _answers(PHQ9, 5)
    assert score(PHQ9, answers).complete
    assert "q10" not in score(PHQ9, {}).missing
    assert score(PHQ9, {**answers, "q10": 4}).invalid == ("q10",)


@pytest.mark.parametrize("q9", [1, 2, 3])
def test_it_raises_the_item9_alert_whatever_the_total(q9):
    answers = {key: 0 for key in PHQ9_SCORED} | {"q9": q9}
    result = score(PHQ9, answers)
    assert result.total == q9
    assert result.band == "Minimal"
    triage = evaluate(Facts("phq9", visible_answers(PHQ9, answers)))
    assert [r.code for r in triage.rules] == ["phq9_item9"]
    assert triage.tier is AlertSeverity.URGENT


def test_it_raises_no_alert_when_item9_is_zero_even_at_a_high_total():
    answers = {key: 3 for key in PHQ9_SCORED} | {"q9": 0}
    result = score(PHQ9, answers)
    assert result.total == 24
    assert result.band == "Severe"
    assert _codes(PHQ9, answers) == []


def test_it_raises_no_alert_from_an_invalid_item9_answer():
    answers = {key: 0 for key in PHQ9_SCORED}
    for bad in (True, "3", 3.0):
        result = score(PHQ9, answers | {"q9": bad})
        assert result.invalid == ("q9",)
        assert _codes(PHQ9, answers | {"q9": bad}) == []
        assert result.total is None


# --- GAD-7 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Severe"),
        (21, "Severe"),
    ],
)
def test_it_bands_gad7_totals_at_every_published_edge(total, band):
    result = score(GAD7, _answers(GAD7, total, last_first=True))
    assert result.total == total
    assert result.band == band
    assert result.flags == ()


# --- PCL-5 ----------------------------------------------------------------------------------


def test_it_gives_pcl5_twenty_items_scored_zero_to_four():
    assert len(PCL5.items) == 20
    for item in PCL5.items:
        assert [c.value for c in item.choices] == [0, 1, 2, 3, 4]
        assert [c.label for c in item.choices] == [
            "Not at all",
            "A little bit",
            "Moderately",
            "Quite a bit",
            "Extremely",
        ]


@pytest.mark.parametrize(("total", "flagged"), [(0, False), (32, False), (33, True), (80, True)])
def test_it_flags_pcl5_at_the_provisional_cutoff_of_33(total, flagged):
    result = score(PCL5, _answers(PCL5, total))
    assert result.total == total
    assert ("pcl5_cutoff" in result.flags) is flagged
    assert result.band == ("At or above 33" if flagged else "Below the provisional cut-off")


def test_it_rejects_a_pcl5_answer_of_five():
    answers = _answers(PCL5, 0) | {"q20": 5}
    assert score(PCL5, answers).invalid == ("q20",)


# --- Shape of every instrument --------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "maximum"), [(PHQ9, 27), (GAD7, 21), (PCL5, 80)])
def test_it_reports_the_published_maximum_score(instrument, maximum):
    assert instrument.max_score == maximum
    assert score(instrument, _answers(instrument, maximum)).total == maximum


@pytest.mark.parametrize("instrument", [PHQ9, GAD7, PCL5], ids=lambda i: i.key)
def test_it_bands_every_possible_total_exactly_once(instrument):
    for total in range(instrument.max_score + 1):
        labels = [b.label for b in instrument.bands if b.low <= total <= b.high]
        assert len(labels) == 1, (instrument.key, total, labels)


@pytest.mark.parametrize("instrument", list(INSTRUMENTS.values()), ids=lambda i: i.key)
def test_it_names_a_source_and_keeps_item_keys_unique(instrument):
    assert instrument.source.strip()
    assert instrument.title.strip()
    keys = [i.key for i in instrument.items]
    assert len(keys) == len(set(keys))
    for item in instrument.items:
        assert item.text.strip()
        values = [c.value for c in item.choices]
        assert len(values) == len(set(values))
        assert (item.kind == "choice") == bool(item.choices)


def test_it_registers_every_instrument_under_its_own_key():
    assert set(INSTRUMENTS) == {"intake", "phq9", "gad7", "pcl5", "cssrs"}
    assert all(key == instrument.key for key, instrument in INSTRUMENTS.items())


def test_it_has_wording_for_every_flag_and_alert_it_can_raise():
    for instrument in INSTRUMENTS.values():
        for item in instrument.items:
            if item.kind == "yesno" and (item.flag or instrument.key == "intake"):
                assert item.flag in FLAG_LABELS
        if instrument.cutoff is not None:
            assert f"{instrument.key}_cutoff" in FLAG_LABELS
    for code in ("phq9_item9", "cssrs_intent_plan_behaviour", "cssrs_ideation"):
        assert code in ALERT_REASONS


# --- Published wording ----------------------------------------------------------------------


def test_it_keeps_the_published_phq9_wording():
    assert PHQ9.preamble == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert PHQ9.item("q1").text == "Little interest or pleasure in doing things"
    assert PHQ9.item("q9").text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [c.label for c in PHQ9.item("q1").choices] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]


def test_it_keeps_the_published_gad7_and_pcl5_wording():
    assert GAD7.item("q1").text == "Feeling nervous, anxious, or on edge"
    assert GAD7.item("q2").text == "Not being able to stop or control worrying"
    assert PCL5.item("q1").text == (
        "Repeated, disturbing, and unwanted memories of the stressful experience?"
    )
    assert PCL5.item("q17").text == 'Being "superalert" or watchful or on guard?'
    assert PCL5.item("q20").text == "Trouble falling or staying asleep?"


# --- Missing and invalid answers ------------------------------------------------------------


def test_it_reports_missing_answers_in_item_order_and_does_not_score():
    result = score(PHQ9, {"q1": 3, "q4": 2})
    assert result.missing == ("q2", "q3", "q5", "q6", "q7", "q8", "q9")
    assert result.invalid == ()
    assert result.total is None
    assert result.band == ""
    assert not result.complete


@pytest.mark.parametrize("blank", [None, ""])
def test_it_counts_a_blank_answer_as_missing(blank):
    result = score(GAD7, _answers(GAD7, 3) | {"q7": blank})
    assert result.missing == ("q7",)
    assert result.total is None


@pytest.mark.parametrize(
    "bad",
    [3.0, "2", True, False, 4, -1, [1], {"v": 1}, 10**100],
    ids=["float", "string", "true", "false", "four", "minus_one", "list", "dict", "huge"],
)
def test_it_reports_invalid_choice_values_without_crashing(bad):
    result = score(PHQ9, _answers(PHQ9, 6) | {"q1": bad})
    assert result.invalid == ("q1",)
    assert result.missing == ()
    assert result.total is None
    assert answer_problem(PHQ9.item("q1"), bad)


@pytest.mark.parametrize("bad", [None, 3.0, "2", True, 4, -1])
def test_it_explains_why_a_choice_value_is_not_an_answer(bad):
    assert answer_problem(PHQ9.item("q1"), bad) == "Please choose one of the answers."


@pytest.mark.parametrize("good", [0, 1, 2, 3])
def test_it_accepts_every_listed_choice(good):
    assert answer_problem(PHQ9.item("q1"), good) == ""


def test_it_reports_missing_and_invalid_together():
    answers = {key: 1 for key in PHQ9_SCORED} | {"q2": "1"}
    del answers["q5"]
    result = score(PHQ9, answers)
    assert result.missing == ("q5",)
    assert result.invalid == ("q2",)


def test_it_ignores_answers_to_items_the_instrument_lacks():
    result = score(GAD7, _answers(GAD7, 7) | {"q99": "anything", "q8": 3})
    assert (result.total, result.band) == (7, "Mild")


# --- Intake: yes/no flags and free text -----------------------------------------------------


def test_it_raises_no_flags_when_every_intake_answer_is_no():
    result = score(INTAKE, _intake())
    assert result.complete
    assert result.flags == ()
    assert result.total is None
    assert result.band == ""
    assert INTAKE.scored is False


@pytest.mark.parametrize(
    ("key", "flag"),
    [
        ("pregnancy", "pregnancy"),
        ("psychosis", "psychosis_history"),
        ("mania", "mania_history"),
        ("blood_pressure", "uncontrolled_bp"),
        ("substance_use", "substance_use"),
        ("benzodiazepines", "benzodiazepines"),
        ("bladder", "bladder"),
    ],
)
def test_it_raises_the_flag_of_each_intake_yes(key, flag):
    assert score(INTAKE, _intake(**{key: 1})).flags == (flag,)


def test_it_raises_every_intake_flag_in_item_order():
    everything = _intake(**{i.key: 1 for i in INTAKE.items if i.kind == "yesno"})
    assert score(INTAKE, everything).flags == tuple(
        i.flag for i in INTAKE.items if i.kind == "yesno"
    )


@pytest.mark.parametrize("bad", [2, -1, True, "yes", 1.0])
def test_it_rejects_a_yes_no_answer_other_than_zero_or_one(bad):
    result = score(INTAKE, _intake(bladder=bad))
    assert result.invalid == ("bladder",)
    assert result.flags == ()


def test_it_requires_every_yes_no_but_not_the_medicines_text():
    result = score(INTAKE, {})
    assert "medicines" not in result.missing
    assert set(result.missing) == {i.key for i in INTAKE.items if i.kind == "yesno"}


def test_it_limits_the_medicines_text_to_2000_characters():
    item = INTAKE.item("medicines")
    assert TEXT_ANSWER_MAX == 2000
    assert answer_problem(item, "x" * 2000) == ""
    assert answer_problem(item, "x" * 2001) == "Please keep this under 2000 characters."
    assert score(INTAKE, _intake(medicines="x" * 2001)).invalid == ("medicines",)
    assert score(INTAKE, _intake(medicines="x" * 2000)).complete


@pytest.mark.parametrize("bad", [5, ["sertraline"], b"sertraline"])
def test_it_rejects_a_medicines_answer_that_is_not_text(bad):
    assert answer_problem(INTAKE.item("medicines"), bad) == "Please type your answer."
    assert score(INTAKE, _intake(medicines=bad)).invalid == ("medicines",)


def test_it_accepts_hostile_text_and_leaves_it_intact():
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> sertraline 50 mg & more'
    answers = _intake(medicines=hostile)
    before = copy.deepcopy(answers)
    assert answer_problem(INTAKE.item("medicines"), hostile) == ""
    result = score(INTAKE, answers)
    assert result.complete
    assert answers == before
    assert answers["medicines"] == hostile


# --- C-SSRS screener: skip logic, and its tiers from the safety rules ---------------------------


def test_cssrs_asks_the_thought_questions_only_after_a_yes_to_suicidal_thoughts():
    no_thoughts = {"q1": 1, "q2": 0, "q6": 0}
    result = score(CSSRS, no_thoughts)
    assert result.complete and result.total is None
    assert score(CSSRS, {"q1": 1, "q2": 1, "q6": 0}).missing == ("q3", "q4", "q5")
    assert score(CSSRS, {"q1": 0, "q2": 0, "q6": 1}).missing == ("q6_recent",)


def test_cssrs_answers_left_behind_by_a_changed_answer_no_longer_count():
    answers = {"q1": 1, "q2": 0, "q3": 1, "q4": 1, "q5": 1, "q6": 0}
    assert visible_answers(CSSRS, answers) == {"q1": 1, "q2": 0, "q6": 0}
    assert _codes(CSSRS, answers) == ["cssrs_ideation"]


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        ({"q1": 0, "q2": 0, "q6": 0}, None),
        ({"q1": 1, "q2": 0, "q6": 0}, AlertSeverity.URGENT),
        ({"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 0, "q6": 0}, AlertSeverity.URGENT),
        ({"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0}, AlertSeverity.EMERGENCY),
        ({"q1": 0, "q2": 1, "q3": 0, "q4": 0, "q5": 1, "q6": 0}, AlertSeverity.EMERGENCY),
        ({"q1": 0, "q2": 0, "q6": 1, "q6_recent": 1}, AlertSeverity.EMERGENCY),
        ({"q1": 0, "q2": 0, "q6": 1, "q6_recent": 0}, None),
    ],
)
def test_cssrs_tiers_follow_the_columbia_triage(answers, tier):
    assert evaluate(Facts("cssrs", visible_answers(CSSRS, answers))).tier == tier
