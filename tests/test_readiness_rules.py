"""The dosing-day readiness gate: every rule at its boundary, over plain facts (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kapjourney.domain.enums import Readiness
from kapjourney.domain.readiness import GateFacts, Limits, StepFact, Vitals, evaluate

AT = datetime(2026, 11, 21, 10, tzinfo=UTC)
LIMITS = Limits(systolic_max=160, diastolic_max=100, pulse_max=120)
TICK = timedelta(microseconds=1)


def _step(
    key: str = "fast",
    *,
    required: bool = True,
    due_at: datetime = AT,
    done: bool = True,
    vitals: Vitals | None = None,
) -> StepFact:
    return StepFact(key, f"Step {key}", required, due_at, done, vitals)


def _vitals_step(systolic: int, diastolic: int, pulse: int) -> StepFact:
    return _step("vitals", vitals=Vitals(systolic, diastolic, pulse))


GOOD = GateFacts(
    consent="current",
    screening_complete=True,
    screening_reviewed=True,
    lapsed_days=None,
    rescreened_since_last=False,
    open_urgent_alerts=0,
    steps=(_step("fast"), _vitals_step(120, 80, 70)),
    limits=LIMITS,
)


def _codes(facts: GateFacts, at: datetime = AT) -> tuple[Readiness, list[str]]:
    level, reasons = evaluate(facts, at=at)
    return level, [r.code for r in reasons]


def test_it_is_green_when_everything_is_in_order():
    assert evaluate(GOOD, at=AT) == (Readiness.GREEN, ())


def test_it_is_green_with_no_steps_at_all():
    assert evaluate(replace(GOOD, steps=()), at=AT) == (Readiness.GREEN, ())


# --- Preparation steps: due versus late -----------------------------------------------------


@pytest.mark.parametrize("before", [timedelta(0), TICK, timedelta(hours=3)])
def test_it_is_amber_while_an_undone_step_is_due_but_not_late(before):
    facts = replace(GOOD, steps=(_step("fast", done=False, due_at=AT),))
    level, reasons = evaluate(facts, at=AT - before)
    assert level is Readiness.AMBER
    assert [(r.code, r.blocking, r.step_key) for r in reasons] == [("step_due", False, "fast")]
    assert reasons[0].staff == "To do: Step fast"
    assert reasons[0].client == "Still to do: Step fast"


@pytest.mark.parametrize("after", [TICK, timedelta(days=1)])
def test_it_is_red_once_an_undone_step_is_past_due(after):
    facts = replace(GOOD, steps=(_step("fast", done=False, due_at=AT),))
    level, reasons = evaluate(facts, at=AT + after)
    assert level is Readiness.RED
    assert [(r.code, r.blocking, r.step_key) for r in reasons] == [("step_late", True, "fast")]
    assert reasons[0].staff == "Late: Step fast"
    assert reasons[0].client == "Overdue: Step fast"


def test_it_ignores_an_optional_step_even_when_long_overdue():
    optional = _step("journal", required=False, done=False, due_at=AT - timedelta(days=7))
    assert evaluate(replace(GOOD, steps=(optional,)), at=AT) == (Readiness.GREEN, ())


def test_it_ignores_a_done_step_even_when_its_due_time_has_passed():
    done = _step("fast", done=True, due_at=AT - timedelta(days=7))
    assert evaluate(replace(GOOD, steps=(done,)), at=AT) == (Readiness.GREEN, ())


def test_it_lists_each_undone_required_step_by_its_key():
    steps = (
        _step("a", done=False, due_at=AT + timedelta(hours=1)),
        _step("b", done=False, due_at=AT + timedelta(hours=2)),
        _step("c", done=True),
    )
    level, reasons = evaluate(replace(GOOD, steps=steps), at=AT)
    assert level is Readiness.AMBER
    assert [r.step_key for r in reasons] == ["a", "b"]


# --- Consent, screening, lapse, alerts ------------------------------------------------------


@pytest.mark.parametrize("consent", ["none", "outdated", "withdrawn"])
def test_it_is_red_unless_consent_is_current(consent):
    level, reasons = evaluate(replace(GOOD, consent=consent), at=AT)
    assert level is Readiness.RED
    assert [(r.code, r.blocking) for r in reasons] == [(f"consent_{consent}", True)]


def test_it_words_each_consent_state_differently():
    wording = {
        consent: evaluate(replace(GOOD, consent=consent), at=AT)[1][0]
        for consent in ("none", "outdated", "withdrawn")
    }
    assert len({r.staff for r in wording.values()}) == 3
    assert len({r.client for r in wording.values()}) == 3
    assert "withdr" in wording["withdrawn"].client.lower()
    assert "again" in wording["outdated"].client.lower()


def test_it_is_red_when_screening_is_incomplete_and_says_only_that():
    facts = replace(GOOD, screening_complete=False, screening_reviewed=False)
    assert _codes(facts) == (Readiness.RED, ["screening_incomplete"])


def test_it_is_red_when_screening_is_complete_but_unreviewed():
    facts = replace(GOOD, screening_complete=True, screening_reviewed=False)
    assert _codes(facts) == (Readiness.RED, ["screening_unreviewed"])


def test_it_is_red_after_a_lapse_without_a_rescreen():
    facts = replace(GOOD, lapsed_days=90, rescreened_since_last=False)
    level, reasons = evaluate(facts, at=AT)
    assert level is Readiness.RED
    assert [r.code for r in reasons] == ["lapsed"]
    assert "90" in reasons[0].staff


@pytest.mark.parametrize(("lapsed_days", "rescreened"), [(90, True), (None, False), (None, True)])
def test_it_is_green_when_there_is_no_lapse_or_a_rescreen_followed_it(lapsed_days, rescreened):
    facts = replace(GOOD, lapsed_days=lapsed_days, rescreened_since_last=rescreened)
    assert evaluate(facts, at=AT) == (Readiness.GREEN, ())


@pytest.mark.parametrize("alerts", [1, 3])
def test_it_is_red_while_an_urgent_alert_is_open(alerts):
    assert _codes(replace(GOOD, open_urgent_alerts=alerts)) == (Readiness.RED, ["open_alert"])


# --- Vitals against the clinic's limits -----------------------------------------------------


def test_it_is_green_with_vitals_exactly_at_the_limits():
    facts = replace(GOOD, steps=(_vitals_step(160, 100, 120),))
    assert evaluate(facts, at=AT) == (Readiness.GREEN, ())


@pytest.mark.parametrize(
    ("systolic", "diastolic", "pulse", "codes"),
    [
        (161, 100, 120, ["bp_high"]),
        (160, 101, 120, ["bp_high"]),
        (161, 101, 120, ["bp_high"]),
        (160, 100, 121, ["pulse_high"]),
        (161, 100, 121, ["bp_high", "pulse_high"]),
    ],
)
def test_it_is_red_one_above_any_vital_limit(systolic, diastolic, pulse, codes):
    facts = replace(GOOD, steps=(_vitals_step(systolic, diastolic, pulse),))
    level, reasons = evaluate(facts, at=AT)
    assert level is Readiness.RED
    assert [r.code for r in reasons] == codes
    assert all(r.blocking and r.step_key == "vitals" for r in reasons)


def test_it_uses_the_clinics_own_limits():
    facts = replace(
        GOOD,
        steps=(_vitals_step(150, 95, 100),),
        limits=Limits(systolic_max=140, diastolic_max=90, pulse_max=100),
    )
    assert _codes(facts) == (Readiness.RED, ["bp_high"])


def test_it_shows_the_bp_reading_to_staff_but_not_to_the_client():
    facts = replace(GOOD, steps=(_vitals_step(187, 113, 131),))
    _, reasons = evaluate(facts, at=AT)
    bp, pulse = reasons
    assert "187/113" in bp.staff
    assert "160/100" in bp.staff
    assert "131" in pulse.staff
    for reason in reasons:
        for number in ("187", "113", "131", "160", "100", "120"):
            assert number not in reason.client, (reason.code, number)


# --- Several reasons at once ----------------------------------------------------------------


def _everything_wrong() -> GateFacts:
    return replace(
        GOOD,
        consent="outdated",
        screening_complete=True,
        screening_reviewed=False,
        lapsed_days=60,
        rescreened_since_last=False,
        open_urgent_alerts=2,
        steps=(
            _step("ride", done=False, due_at=AT + timedelta(hours=1)),  # due: not blocking
            _step("fast", done=False, due_at=AT - TICK),  # late
            _vitals_step(170, 80, 125),
        ),
    )


def test_it_lists_every_reason_at_once_with_blocking_ones_first():
    level, reasons = evaluate(_everything_wrong(), at=AT)
    assert level is Readiness.RED
    assert [r.code for r in reasons] == [
        "consent_outdated",
        "screening_unreviewed",
        "lapsed",
        "open_alert",
        "step_late",
        "bp_high",
        "pulse_high",
        "step_due",
    ]
    assert [r.blocking for r in reasons] == [True] * 7 + [False]
    assert reasons[-1].step_key == "ride"


def test_it_sorts_a_late_step_before_an_earlier_listed_due_one():
    steps = (
        _step("due", done=False, due_at=AT + timedelta(hours=1)),
        _step("late", done=False, due_at=AT - timedelta(hours=1)),
    )
    level, reasons = evaluate(replace(GOOD, steps=steps), at=AT)
    assert level is Readiness.RED
    assert [(r.step_key, r.blocking) for r in reasons] == [("late", True), ("due", False)]


def test_it_words_every_reason_for_both_staff_and_client():
    _, reasons = evaluate(_everything_wrong(), at=AT)
    for reason in reasons:
        assert reason.staff.strip(), reason.code
        assert reason.client.strip(), reason.code
        assert reason.staff != reason.client, reason.code
