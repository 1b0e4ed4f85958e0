"""Screening: drafts saved answer by answer, submitting, alerts raised with the answer that causes
them, the clinician's review, PCL-5 on demand, and re-screening."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.enums import AlertSeverity, AlertStatus, ResponseStatus
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import Alert, QuestionnaireResponse
from kapjourney.services import screening
from kapjourney.services.uow import unit_of_work
from tests.journey_support import answer_form, calm_answers, complete_screening, review
from tests.support import audit_events, count

HOSTILE = "<script>alert(1)</script> & <b>Ada</b>'); DROP TABLE alert; --"


def _save(personas, instrument: str, item: object, value: object):
    with unit_of_work() as s:
        return screening.save_answer(
            session=s, actor=personas.actor("client"), instrument=instrument, item=item, value=value
        )


def _submit(personas, instrument: str):
    with unit_of_work() as s:
        return screening.submit_form(
            session=s, actor=personas.actor("client"), instrument=instrument
        )


def _form(personas, instrument: str):
    with unit_of_work() as s:
        return screening.get_form(session=s, actor=personas.actor("client"), instrument=instrument)


def _view(personas):
    with unit_of_work() as s:
        return screening.get_screening(session=s, actor=personas.actor("client"))


def _summary(personas):
    with unit_of_work() as s:
        return screening.screening_summary(
            session=s, actor=personas.actor("clinician"), client_id=personas.client.id
        )


def _staff(personas, fn, **kwargs):
    with unit_of_work() as s:
        return fn(
            session=s, actor=personas.actor("clinician"), client_id=personas.client.id, **kwargs
        )


def _drafts(engine, instrument: str) -> list[dict]:
    with db.session_scope(engine) as s:
        rows = s.exec(
            select(QuestionnaireResponse).where(
                QuestionnaireResponse.instrument == instrument,
                QuestionnaireResponse.status == ResponseStatus.DRAFT,
            )
        ).all()
        return [json.loads(r.answers) for r in rows]


# --- Drafts --------------------------------------------------------------------------------------


def test_a_new_client_has_three_questionnaires_to_do(engine, personas):
    view = _view(personas)
    assert [(t.instrument, t.status) for t in view.tasks] == [
        ("intake", "todo"),
        ("phq9", "todo"),
        ("gad7", "todo"),
    ]
    assert (view.complete, view.reviewed) == (False, False)


def test_each_answer_is_kept_in_one_draft_as_it_is_given(engine, personas):
    assert _save(personas, "phq9", "q1", 2) == screening.AnswerSaved(problem="", alert=False)
    _save(personas, "phq9", "q2", "1")
    _save(personas, "phq9", "q1", 3)
    assert _drafts(engine, "phq9") == [{"q1": 3, "q2": 1}]
    form = _form(personas, "phq9")
    assert [(i.key, i.answer) for i in form.items[:3]] == [("q1", "3"), ("q2", "1"), ("q3", "")]
    assert (form.answered, form.required, form.submitted) == (2, 9, False)
    assert [t.status for t in _view(personas).tasks] == ["todo", "draft", "todo"]


def test_an_empty_answer_clears_it(engine, personas):
    _save(personas, "phq9", "q1", 2)
    _save(personas, "phq9", "q1", "")
    assert _drafts(engine, "phq9") == [{"q1": None}]
    assert _form(personas, "phq9").answered == 0


def test_the_database_holds_one_draft_per_client_and_questionnaire(engine, personas):
    _save(personas, "gad7", "q1", 1)
    with pytest.raises(IntegrityError), db.session_scope(engine) as s:
        s.add(
            QuestionnaireResponse(
                client_id=personas.client.id,
                clinic_id=personas.client.clinic_id,
                instrument="gad7",
                instrument_version="1",
            )
        )
    assert len(_drafts(engine, "gad7")) == 1


@pytest.mark.parametrize("value", [4, -1, "4", "-1", 1.0, True, "one", [1], {"v": 1}])
def test_a_choice_outside_the_answers_is_refused_and_not_stored(engine, personas, value):
    with pytest.raises(ValidationFailed) as raised:
        _save(personas, "phq9", "q1", value)
    assert set(raised.value.fields) == {"q1"}
    assert count(engine, QuestionnaireResponse) == 0


def test_a_superscript_digit_is_refused_as_a_choice(engine, personas):
    with pytest.raises(ValidationFailed):
        _save(personas, "phq9", "q1", "²")


@pytest.mark.parametrize(
    ("instrument", "item"),
    [("phq9", "q11"), ("phq9", None), ("phq9", 1), ("pcl5", "q1"), ("nope", "q1"), (None, "q1")],
)
def test_questions_outside_the_screening_are_refused(engine, personas, instrument, item):
    with pytest.raises(ValidationFailed) as raised:
        _save(personas, instrument, item, 1)
    assert set(raised.value.fields) == {"form"}
    assert count(engine, QuestionnaireResponse) == 0


def test_a_yes_no_answer_takes_one_or_zero(engine, personas):
    _save(personas, "intake", "pregnancy", "1")
    with pytest.raises(ValidationFailed):
        _save(personas, "intake", "bladder", 2)
    assert _drafts(engine, "intake") == [{"pregnancy": 1}]


# --- Free text -----------------------------------------------------------------------------------


def test_hostile_text_in_the_medicines_answer_is_kept_intact(engine, personas):
    assert _save(personas, "intake", "medicines", HOSTILE).problem == ""
    answer_form(personas.actor("client"), "intake", calm_answers("intake"))
    _submit(personas, "intake")
    assert _summary(personas).medicines == HOSTILE


def test_a_very_long_text_answer_is_kept_but_flagged_and_cannot_be_submitted(engine, personas):
    answer_form(personas.actor("client"), "intake", calm_answers("intake"))
    typed = "m" * 10_001
    saved = _save(personas, "intake", "medicines", typed)
    assert "2000" in saved.problem
    assert _drafts(engine, "intake")[0]["medicines"] == typed[:10_000]
    with pytest.raises(ValidationFailed) as raised:
        _submit(personas, "intake")
    assert set(raised.value.fields) == {"medicines"}


@pytest.mark.parametrize("value", [5, ["aspirin"]])
def test_a_text_answer_that_is_not_text_is_refused_or_flagged(engine, personas, value):
    try:
        saved = _save(personas, "intake", "medicines", value)
    except ValidationFailed:
        return
    assert saved.problem != ""


# --- Submitting ----------------------------------------------------------------------------------


def test_submitting_with_missing_answers_names_each_one(engine, personas):
    answer_form(personas.actor("client"), "phq9", {"q1": 1, "q2": 1, "q5": 0})
    with pytest.raises(ValidationFailed) as raised:
        _submit(personas, "phq9")
    assert raised.value.fields == {
        f"q{n}": "Please answer this question." for n in (3, 4, 6, 7, 8, 9)
    }
    assert _drafts(engine, "phq9") == [{"q1": 1, "q2": 1, "q5": 0}]


def test_submitting_nothing_at_all_is_refused(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _submit(personas, "gad7")
    assert set(raised.value.fields) == {f"q{n}" for n in range(1, 8)}


def test_a_complete_form_is_scored_banded_and_audited(engine, personas):
    answer_form(personas.actor("client"), "phq9", calm_answers("phq9", q1=3, q2=3, q3=3, q4=1))
    result = _submit(personas, "phq9")
    assert (result.score, result.band, result.max_score, result.alert) == (
        10,
        "Moderate",
        27,
        False,
    )
    assert _drafts(engine, "phq9") == []
    assert _form(personas, "phq9").submitted
    [event] = audit_events(engine, "questionnaire_submitted")
    assert (event.subject_client_id, event.detail) == (personas.client.id, "instrument=phq9")


# --- Alerts --------------------------------------------------------------------------------------


def _alerts(engine) -> list[Alert]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(Alert)).all())


def test_phq9_item9_above_zero_raises_one_urgent_alert_as_soon_as_it_is_saved(engine, personas):
    saved = _save(personas, "phq9", "q9", 1)
    assert saved.alert
    [alert] = _alerts(engine)
    with db.session_scope(engine) as s:
        draft = s.exec(select(QuestionnaireResponse)).one()
    assert (alert.severity, alert.status, alert.reason_code, alert.client_id) == (
        AlertSeverity.URGENT,
        AlertStatus.OPEN,
        "phq9_item9",
        personas.client.id,
    )
    assert (alert.source_kind, alert.source_id) == ("questionnaire", draft.id)
    assert [e.detail for e in audit_events(engine, "alert_raised")] == [f"alert={alert.id}"]


def test_the_alert_is_not_raised_again_by_changes_or_by_submitting(engine, personas):
    _save(personas, "phq9", "q9", 1)
    _save(personas, "phq9", "q9", 3)
    answer_form(personas.actor("client"), "phq9", calm_answers("phq9", q9=2))
    assert _submit(personas, "phq9").alert
    assert len(_alerts(engine)) == 1
    assert len(audit_events(engine, "alert_raised")) == 1


@pytest.mark.parametrize("value", [0, None, ""])
def test_phq9_item9_at_zero_raises_nothing(engine, personas, value):
    answer_form(personas.actor("client"), "phq9", calm_answers("phq9", q9=0))
    assert not _save(personas, "phq9", "q9", value).alert
    assert _alerts(engine) == []


def test_a_rolled_back_answer_leaves_neither_the_answer_nor_its_alert(engine, personas):
    with pytest.raises(RuntimeError), unit_of_work() as s:
        saved = screening.save_answer(
            session=s, actor=personas.actor("client"), instrument="phq9", item="q9", value=2
        )
        assert saved.alert
        raise RuntimeError("connection dropped before commit")
    assert (count(engine, QuestionnaireResponse), count(engine, Alert)) == (0, 0)
    assert audit_events(engine, "alert_raised") == []


# --- The care team's side ------------------------------------------------------------------------


def test_review_waits_for_a_complete_screening(engine, personas):
    answer_form(personas.actor("client"), "phq9", calm_answers("phq9"))
    _submit(personas, "phq9")
    with pytest.raises(ValidationFailed):
        _staff(personas, screening.review_screening)
    summary = _summary(personas)
    assert (summary.complete, summary.reviewed, summary.missing) == (
        False,
        False,
        ["Health screening", "GAD-7 · anxiety"],
    )


def test_a_reviewed_screening_shows_scores_and_flags(engine, personas):
    complete_screening(personas.actor("client"))
    answer_form(personas.actor("client"), "intake", calm_answers("intake", pregnancy=1))
    _submit(personas, "intake")
    summary = _staff(personas, screening.review_screening)
    assert (summary.complete, summary.reviewed, summary.missing) == (True, True, [])
    assert summary.reviewed_at != ""
    assert summary.flags == ["Pregnancy, planned pregnancy or breastfeeding"]
    assert [(r.instrument, r.score) for r in summary.results] == [
        ("intake", ""),
        ("phq9", "0 of 27"),
        ("gad7", "0 of 21"),
    ]
    assert _view(personas).reviewed


def test_pcl5_is_asked_only_once_enabled(engine, personas):
    complete_screening(personas.actor("client"))
    with pytest.raises(ValidationFailed):
        _form(personas, "pcl5")
    summary = _staff(personas, screening.set_pcl5, enabled=True)
    assert (summary.pcl5_enabled, summary.complete, summary.missing) == (
        True,
        False,
        ["PCL-5 · stress"],
    )
    assert [t.instrument for t in _view(personas).tasks][-1] == "pcl5"
    answer_form(personas.actor("client"), "pcl5", calm_answers("pcl5", q1=4))
    assert _submit(personas, "pcl5").score == 4
    assert _summary(personas).complete


@pytest.mark.parametrize("enabled", ["yes", 1, None])
def test_only_true_enables_pcl5(engine, personas, enabled):
    assert not _staff(personas, screening.set_pcl5, enabled=enabled).pcl5_enabled


def test_a_rescreen_asks_for_fresh_answers_and_a_fresh_review(engine, personas):
    complete_screening(personas.actor("client"))
    _staff(personas, screening.review_screening)
    summary = _staff(personas, screening.request_rescreen)
    assert (summary.complete, summary.reviewed, summary.results) == (False, False, [])
    assert [t.status for t in _view(personas).tasks] == ["todo", "todo", "todo"]
    complete_screening(personas.actor("client"))
    assert (_summary(personas).complete, _summary(personas).reviewed) == (True, False)
    review(personas.actor("clinician"), personas.client.id)
    assert _summary(personas).reviewed
