"""Scheduled questionnaires and progress through the services: what is due and when, drafts,
PHQ-9 item 9 leading to the C-SSRS, alerts from the clinic's safety rules with their tiers, the
progress view, and who may reach each of them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import local_today, now
from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.errors import AccessDenied, NotFound, ValidationFailed
from kapjourney.domain.models import (
    Alert,
    AuditEvent,
    CheckIn,
    ClinicSafetyRule,
    QuestionnaireResponse,
    SymptomReport,
    User,
)
from kapjourney.services import progress, questionnaires, screening
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, calm_answers, complete_screening, schedule
from tests.support import audit_events, count

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(BASE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def screened(engine, personas):
    """Ada finished her screening (baseline PHQ-9 7, GAD-7 0) at BASE."""
    complete_screening(personas.actor("client"))
    return personas


def _call(personas, fn, who: str = "client", **kwargs):
    with unit_of_work() as s:
        return fn(session=s, actor=personas.actor(who), **kwargs)


def _todos(personas) -> list:
    with unit_of_work() as s:
        ada = s.get(User, personas.client.id)
        return questionnaires.todos(s, ada, now())


def _answer_all(personas, instrument: str, answers: dict) -> None:
    for item, value in answers.items():
        _call(
            personas,
            questionnaires.save_due_answer,
            instrument=instrument,
            item=item,
            value=value,
        )


def _fill(personas, instrument: str, answers: dict):
    _answer_all(personas, instrument, answers)
    return _call(personas, questionnaires.submit_due_form, instrument=instrument)


def _alerts(engine) -> list[Alert]:
    with db.session_scope(engine) as s:
        return list(s.exec(select(Alert).order_by(Alert.id)).all())


def _responses(engine, instrument: str) -> list[QuestionnaireResponse]:
    with db.session_scope(engine) as s:
        return list(
            s.exec(
                select(QuestionnaireResponse)
                .where(QuestionnaireResponse.instrument == instrument)
                .order_by(QuestionnaireResponse.id)
            ).all()
        )


NO_CSSRS = {"q1": 0, "q2": 0, "q6": 0}

# --- What is due -------------------------------------------------------------------------------


def test_nothing_is_scheduled_before_the_screening_is_done(engine, personas):
    assert _todos(personas) == []
    with pytest.raises(NotFound):
        _call(personas, questionnaires.get_due_form, instrument="phq9")


def test_a_week_after_the_baseline_phq9_and_gad7_are_due(screened, frozen):
    assert _todos(screened) == []
    frozen.shift(timedelta(days=7))
    todos = _todos(screened)
    assert [(t.key, t.title, t.href, t.urgent) for t in todos] == [
        ("form-phq9", "Weekly mood questionnaire (PHQ-9)", "/questionnaire/phq9", False),
        ("form-gad7", "Weekly anxiety questionnaire (GAD-7)", "/questionnaire/gad7", False),
    ]
    form = _call(screened, questionnaires.get_due_form, instrument="phq9")
    assert (form.instrument, len(form.items), form.submitted, form.answered) == (
        "phq9",
        10,
        False,
        0,
    )


def test_the_clinic_interval_setting_moves_the_due_date(screened, frozen):
    from kapjourney.domain.models import ClinicProtocol

    with db.session_scope() as s:
        row = s.get(ClinicProtocol, screened.client.clinic_id)
        row.phq9_interval_days = 14
        s.add(row)
    frozen.shift(timedelta(days=7))
    assert [t.key for t in _todos(screened)] == ["form-gad7"]


def test_a_weekly_questionnaire_is_scored_filed_as_weekly_and_then_not_due(
    engine, screened, frozen
):
    frozen.shift(timedelta(days=7))
    result = _fill(screened, "gad7", calm_answers("gad7", q1=3, q2=3, q3=2))
    assert (result.score, result.band, result.max_score, result.tier, result.next_form) == (
        8,
        "Mild",
        21,
        "",
        "",
    )
    assert [r.purpose for r in _responses(engine, "gad7")] == ["screening", "weekly"]
    assert [t.key for t in _todos(screened)] == ["form-phq9"]
    event = audit_events(engine, "questionnaire_submitted")[-1]
    assert (event.subject_client_id, event.detail) == (screened.client.id, "instrument=gad7")


def test_phq9_is_due_before_a_session_and_filed_as_pre_session(engine, screened, frozen):
    frozen.shift(timedelta(days=3))
    schedule(screened.actor("clinician"), screened.client.id, days_ahead=2)
    [todo] = _todos(screened)
    assert (todo.key, todo.title) == (
        "form-phq9",
        "Mood questionnaire before your session (PHQ-9)",
    )
    _fill(screened, "phq9", calm_answers("phq9"))
    assert [r.purpose for r in _responses(engine, "phq9")] == ["screening", "pre_session"]
    assert _todos(screened) == []


def test_pcl5_joins_the_schedule_once_enabled_and_a_started_draft_stays_open(
    engine, screened, frozen
):
    cleo = {"who": "clinician", "client_id": screened.client.id}
    _call(screened, screening.set_pcl5, enabled=True, **cleo)
    # Its baseline belongs to the screening, so nothing is scheduled until that is answered.
    assert _todos(screened) == []
    for item, value in calm_answers("pcl5").items():
        _call(screened, screening.save_answer, instrument="pcl5", item=item, value=value)
    _call(screened, screening.submit_form, instrument="pcl5")
    frozen.shift(timedelta(days=13))
    assert "form-pcl5" not in [t.key for t in _todos(screened)]
    frozen.shift(timedelta(days=1))
    assert [t.key for t in _todos(screened)] == ["form-phq9", "form-gad7", "form-pcl5"]
    _call(screened, questionnaires.save_due_answer, instrument="pcl5", item="q1", value=2)
    _call(screened, screening.set_pcl5, enabled=False, **cleo)
    todo = next(t for t in _todos(screened) if t.key == "form-pcl5")
    assert todo.detail == "Started: pick up where you left off"
    form = _call(screened, questionnaires.get_due_form, instrument="pcl5")
    assert form.items[0].answer == "2"


@pytest.mark.parametrize(
    "instrument", ["gad7", "intake", "pcl5", "nope", None, 7, ["phq9"], HOSTILE, "x" * 1_000_000]
)
def test_a_questionnaire_that_is_not_due_is_not_found_and_nothing_is_stored(
    engine, screened, instrument
):
    for fn, kwargs in (
        (questionnaires.get_due_form, {}),
        (questionnaires.save_due_answer, {"item": "q1", "value": 1}),
        (questionnaires.submit_due_form, {}),
    ):
        with pytest.raises(NotFound):
            _call(screened, fn, instrument=instrument, **kwargs)
    assert count(engine, QuestionnaireResponse, QuestionnaireResponse.status == "draft") == 0


def test_a_screening_draft_is_not_offered_as_a_scheduled_questionnaire(engine, personas):
    _call(personas, screening.save_answer, instrument="phq9", item="q1", value=1)
    assert _todos(personas) == []


# --- Answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [4, -1, "4", 1.5, True, HOSTILE, [1], "x" * 1_000_000])
def test_a_bad_answer_gets_a_message_at_its_question_and_the_draft_keeps_the_rest(
    engine, screened, frozen, value
):
    frozen.shift(timedelta(days=7))
    _call(screened, questionnaires.save_due_answer, instrument="phq9", item="q1", value=2)
    with pytest.raises(ValidationFailed) as raised:
        _call(screened, questionnaires.save_due_answer, instrument="phq9", item="q2", value=value)
    assert list(raised.value.fields) == ["q2"]
    [draft] = [r for r in _responses(engine, "phq9") if r.status == "draft"]
    assert json.loads(draft.answers) == {"q1": 2}
    assert draft.purpose == "weekly"


def test_an_unknown_question_is_refused_with_a_form_message(screened, frozen):
    frozen.shift(timedelta(days=7))
    for item in ("q11", None, HOSTILE):
        with pytest.raises(ValidationFailed) as raised:
            _call(screened, questionnaires.save_due_answer, instrument="phq9", item=item, value=1)
        assert list(raised.value.fields) == ["form"]


def test_submitting_with_missing_answers_names_each_one(screened, frozen):
    frozen.shift(timedelta(days=7))
    _answer_all(screened, "gad7", {"q1": 1, "q2": 1})
    with pytest.raises(ValidationFailed) as raised:
        _call(screened, questionnaires.submit_due_form, instrument="gad7")
    assert set(raised.value.fields) == {f"q{n}" for n in range(3, 8)}


# --- PHQ-9 item 9 and the C-SSRS -----------------------------------------------------------------


def test_phq9_item9_alerts_at_once_and_leads_straight_to_the_cssrs(engine, screened, frozen):
    frozen.shift(timedelta(days=7))
    saved = _call(screened, questionnaires.save_due_answer, instrument="phq9", item="q9", value=1)
    assert saved.alert
    [alert] = _alerts(engine)
    assert (alert.severity, alert.reason_code) == (AlertSeverity.URGENT, "phq9_item9")
    result = _fill(screened, "phq9", calm_answers("phq9", q9=1))
    assert (result.next_form, result.tier, result.alert) == ("cssrs", "urgent", True)
    assert len(_alerts(engine)) == 1  # one alert per response, however often it is saved
    todos = _todos(screened)
    assert [(t.key, t.urgent) for t in todos] == [("form-cssrs", True), ("form-gad7", False)]
    form = _call(screened, questionnaires.get_due_form, instrument="cssrs")
    assert [i.key for i in form.items] == ["q1", "q2", "q3", "q4", "q5", "q6", "q6_recent"]


def test_a_cssrs_with_intent_raises_an_emergency_alert_and_is_then_no_longer_owed(
    engine, screened, frozen
):
    frozen.shift(timedelta(days=7))
    _fill(screened, "phq9", calm_answers("phq9", q9=2))
    result = _fill(screened, "cssrs", {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0})
    assert (result.tier, result.alert, result.score, result.next_form) == (
        "emergency",
        True,
        None,
        "",
    )
    [response] = _responses(engine, "cssrs")
    assert (response.status, response.purpose) == ("submitted", "cssrs")
    cssrs_alert = next(a for a in _alerts(engine) if a.source_id == response.id)
    assert (cssrs_alert.severity, cssrs_alert.reason_code) == (
        AlertSeverity.EMERGENCY,
        "cssrs_intent_plan_behaviour",
    )
    assert set(json.loads(cssrs_alert.rules)) == {"cssrs_intent_plan_behaviour", "cssrs_ideation"}
    assert "form-cssrs" not in [t.key for t in _todos(screened)]
    with pytest.raises(NotFound):
        _call(screened, questionnaires.get_due_form, instrument="cssrs")
    # The audit trail names neither the answers nor the screener.
    for event in audit_events(engine):
        assert "cssrs" not in event.detail and "q4" not in event.detail


def test_a_wish_to_be_dead_only_is_urgent(engine, screened, frozen):
    frozen.shift(timedelta(days=7))
    _fill(screened, "phq9", calm_answers("phq9", q9=1))
    result = _fill(screened, "cssrs", {"q1": 1, "q2": 0, "q6": 0})
    assert (result.tier, result.alert) == ("urgent", True)


def test_a_cssrs_answered_no_throughout_raises_nothing_more(engine, screened, frozen):
    frozen.shift(timedelta(days=7))
    _fill(screened, "phq9", calm_answers("phq9", q9=1))
    result = _fill(screened, "cssrs", NO_CSSRS)
    assert (result.tier, result.alert) == ("", False)
    assert len(_alerts(engine)) == 1  # only the PHQ-9's


def test_answers_hidden_by_skip_logic_raise_nothing(engine, screened, frozen):
    frozen.shift(timedelta(days=7))
    _fill(screened, "phq9", calm_answers("phq9", q9=1))
    _answer_all(screened, "cssrs", {"q2": 1, "q4": 1})
    emergency = [a for a in _alerts(engine) if a.severity == AlertSeverity.EMERGENCY]
    assert len(emergency) == 1
    _call(screened, questionnaires.save_due_answer, instrument="cssrs", item="q2", value=0)
    # Changing q2 to "no" hides q4: the alert already raised stays (never lowered) ...
    result = _fill(screened, "cssrs", {"q1": 0, "q6": 0})
    # ... but the submitted answers themselves meet no rule.
    assert result.tier == ""


def test_the_clinic_can_raise_the_item9_tier(engine, screened, frozen):
    with db.session_scope() as s:
        s.add(
            ClinicSafetyRule(
                clinic_id=screened.client.clinic_id, code="phq9_item9", tier="emergency"
            )
        )
    frozen.shift(timedelta(days=7))
    result = _fill(screened, "phq9", calm_answers("phq9", q9=1))
    assert result.tier == "emergency"
    assert [a.severity for a in _alerts(engine)] == [AlertSeverity.EMERGENCY]


def test_self_harm_in_a_symptom_report_owes_a_cssrs(engine, screened, frozen):
    dosing_id = schedule(screened.actor("clinician"), screened.client.id, days_ahead=1)
    frozen.shift(timedelta(days=1, hours=3))
    with db.session_scope() as s:
        s.add(
            SymptomReport(
                client_id=screened.client.id,
                clinic_id=screened.client.clinic_id,
                dosing_session_id=dosing_id,
                offset_minutes=120,
                due_at=now(),
                status="submitted",
                answers=json.dumps({"self_harm": 2}),
                submitted_at=now(),
            )
        )
    assert _todos(screened)[0].key == "form-cssrs"


def test_the_screening_page_uses_the_same_rules(engine, personas):
    """Alerting moved from the instrument to the clinic's rules for screening too."""
    with db.session_scope() as s:
        s.add(
            ClinicSafetyRule(
                clinic_id=personas.client.clinic_id, code="phq9_item9", tier="emergency"
            )
        )
    assert _call(personas, screening.save_answer, instrument="phq9", item="q9", value=1).alert
    assert [a.severity for a in _alerts(engine)] == [AlertSeverity.EMERGENCY]


# --- Progress ------------------------------------------------------------------------------------


def _checkins(personas, days_back: list[int], mood: int = 3) -> None:
    today = local_today("America/New_York")
    with db.session_scope() as s:
        for n in days_back:
            s.add(
                CheckIn(
                    client_id=personas.client.id,
                    clinic_id=personas.client.clinic_id,
                    local_date=today - timedelta(days=n),
                    status="submitted",
                    mood=mood if n % 2 else mood + 1,
                    anxiety=2,
                    sleep=4,
                    submitted_at=now(),
                )
            )
        # A draft never counts.
        s.add(
            CheckIn(
                client_id=personas.client.id,
                clinic_id=personas.client.clinic_id,
                local_date=today - timedelta(days=40),
                status="draft",
                mood=1,
            )
        )


def test_progress_shows_thirty_days_with_gaps_a_forgiving_streak_and_kind_words(engine, personas):
    _checkins(personas, [1, 2, 4, 5, 6, 9, 10, 35])
    view = _call(personas, progress.get_progress)
    assert len(view.points) == 30
    assert view.points[-1].date == date(2030, 1, 8).isoformat()
    assert [p.mood is None for p in view.points[-7:]] == [
        False,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    assert (view.streak, view.last_7, view.last_30) == (5, 5, 7)
    assert view.streak_message.startswith("You've checked in 5 of the last 7 days.")
    assert "7 check-ins" in view.chart_summary


def test_progress_with_no_history_is_calm(engine, personas):
    view = _call(personas, progress.get_progress)
    assert all(p.mood is None for p in view.points)
    assert (view.streak, view.rows) == (0, [])
    assert view.chart_summary.startswith("No check-ins in the last 30 days yet")


def test_scores_per_session_mark_response_and_remission(engine, screened, frozen):
    ada, cleo = screened.actor("client"), screened.actor("clinician")
    # Baseline PHQ-9 16 (rescored below), then session 1 in 3 days.
    with db.session_scope() as s:
        base = s.exec(
            select(QuestionnaireResponse).where(QuestionnaireResponse.instrument == "phq9")
        ).one()
        base.score, base.band = 16, "Moderately severe"
        s.add(base)
    schedule(cleo, screened.client.id, days_ahead=3.5)
    schedule(cleo, screened.client.id, days_ahead=10.5)
    frozen.shift(timedelta(days=1))
    _fill(screened, "phq9", calm_answers("phq9", q1=3, q2=3, q3=3))  # 9: before session 1
    frozen.shift(timedelta(days=7))
    _fill(screened, "phq9", calm_answers("phq9", q1=3, q2=1))  # 4: before session 2
    view = _call(screened, progress.get_progress)
    rows = [
        (r.label, [(c.title, c.score, c.response, c.remission) for c in r.scores])
        for r in view.rows
    ]
    assert rows == [
        ("Baseline", [("PHQ-9", 16, False, False), ("GAD-7", 0, False, False)]),
        ("Before session 1", [("PHQ-9", 9, False, False)]),
        ("Before session 2", [("PHQ-9", 4, True, True)]),
    ]
    assert view.rows[2].scores[0].band == "Minimal"
    del ada


# --- Who may reach what --------------------------------------------------------------------------

CLIENT_ONLY = {
    "get_due_form": (questionnaires.get_due_form, {"instrument": "phq9"}, "questionnaire_viewed"),
    "save_due_answer": (
        questionnaires.save_due_answer,
        {"instrument": "phq9", "item": "q1", "value": 1},
        "questionnaire_draft",
    ),
    "submit_due_form": (
        questionnaires.submit_due_form,
        {"instrument": "phq9"},
        "questionnaire_submitted",
    ),
}


def _new_events(engine, after: int) -> list[AuditEvent]:
    with db.session_scope(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)).all()
        )


def _last_event(engine) -> int:
    events = audit_events(engine)
    return events[-1].id if events else 0


@pytest.mark.parametrize("name", list(CLIENT_ONLY))
@pytest.mark.parametrize(
    "who", ["clinician", "other_clinician", "other_client", "admin", "foreign_admin"]
)
def test_only_the_client_herself_fills_in_her_questionnaires(engine, screened, frozen, name, who):
    frozen.shift(timedelta(days=7))
    fn, kwargs, purpose = CLIENT_ONLY[name]
    after = _last_event(engine)
    with pytest.raises(NotFound):
        _call(screened, fn, who=who, **kwargs)
    if who == "other_client":
        return  # Otto has no due PHQ-9 of his own: "not found", about his own data
    [event] = _new_events(engine, after)
    assert (event.action, event.actor_id, event.subject_client_id, event.target) == (
        "access_denied",
        getattr(screened, who).id,
        None,
        purpose,
    )


def test_another_client_never_reaches_adas_drafts(engine, screened, frozen):
    frozen.shift(timedelta(days=7))
    _call(screened, questionnaires.save_due_answer, instrument="phq9", item="q1", value=3)
    with pytest.raises(NotFound):
        _call(screened, questionnaires.get_due_form, who="other_client", instrument="phq9")
    assert [json.loads(r.answers) for r in _responses(engine, "phq9") if r.status == "draft"] == [
        {"q1": 3}
    ]


@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_the_client_and_her_care_team_see_her_progress(engine, personas, who):
    _checkins(personas, [1, 2])
    after = _last_event(engine)
    view = _call(personas, progress.get_progress, who=who, client_id=personas.client.id)
    assert (view.client_id, view.first_name, view.last_7) == (personas.client.id, "Ada", 2)
    events = _new_events(engine, after)
    if who == "client":
        assert events == []
    else:
        assert [(e.action, e.actor_id, e.subject_client_id) for e in events] == [
            ("progress_viewed", getattr(personas, who).id, personas.client.id)
        ]


@pytest.mark.parametrize("who", ["other_clinician", "other_client", "foreign_admin"])
def test_outsiders_are_refused_her_progress_as_not_found_and_audited(engine, personas, who):
    after = _last_event(engine)
    with pytest.raises(AccessDenied):
        _call(personas, progress.get_progress, who=who, client_id=personas.client.id)
    [event] = _new_events(engine, after)
    assert (event.action, event.outcome, event.actor_id, event.target) == (
        "access_denied",
        "denied",
        getattr(personas, who).id,
        "progress_viewed",
    )


@pytest.mark.parametrize("bad", [None, 0, -1, 2**31, "1", 1.0, True, [1], HOSTILE])
def test_staff_naming_no_client_are_refused_never_crash(engine, personas, bad):
    with pytest.raises(AccessDenied):
        _call(personas, progress.get_progress, who="admin", client_id=bad)


def test_a_client_sees_only_her_own_progress(engine, personas):
    view = _call(personas, progress.get_progress, who="other_client")
    assert view.client_id == personas.other_client.id


# --- Page handlers -------------------------------------------------------------------------------


def _page_state(cls, cookie: str = "", instrument: str = ""):
    from reflex.istate.data import RouterData
    from reflex.state import State

    import kapjourney.kapjourney  # noqa: F401  (registers every page and state)

    root = State()
    root.router = RouterData.from_router_data(
        {
            "headers": {"cookie": cookie} if cookie else {},
            "ip": "10.0.0.9",
            "pathname": f"/questionnaire/{instrument}",
            "query": {"instrument": instrument} if instrument else {},
        }
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _cookie(engine, user: User) -> str:
    from kapjourney.auth import sessions

    with db.session_scope(engine) as s:
        return f"kj_session={sessions.create_session(s, user=s.get(User, user.id))}"


def _redirect_path(spec) -> str | None:
    args = {k._js_expr: getattr(v, "_var_value", None) for k, v in spec.args}
    return args.get("path")


def _form_state(engine, personas, who: str = "client", instrument: str = "phq9"):
    from kapjourney.ui.pages.questionnaires.state import DueFormState

    cookie = _cookie(engine, getattr(personas, who)) if who else ""
    return _page_state(DueFormState, cookie, instrument)


def _progress_state(engine, personas, who: str = "client"):
    from kapjourney.ui.pages.progress import ProgressState

    cookie = _cookie(engine, getattr(personas, who)) if who else ""
    return _page_state(ProgressState, cookie)


FORM_HANDLERS = {
    "load": lambda s: s.load(),
    "choose": lambda s: s.choose("q1", "1"),
    "submit": lambda s: s.submit(),
}
PROGRESS_HANDLERS = {
    "load": lambda s: s.load(),
    "show_series": lambda s: s.show_series("anxiety", True),
}


@pytest.mark.parametrize(
    ("page", "handler"),
    [("form", h) for h in FORM_HANDLERS] + [("progress", h) for h in PROGRESS_HANDLERS],
)
@pytest.mark.parametrize("who", ["", "clinician", "admin"])
def test_page_handlers_need_the_client_herself(engine, screened, frozen, page, handler, who):
    from tests.conftest import run_async

    frozen.shift(timedelta(days=7))
    make, calls = (
        (_form_state, FORM_HANDLERS) if page == "form" else (_progress_state, PROGRESS_HANDLERS)
    )
    state = make(engine, screened, who)
    after = _last_event(engine)
    result = run_async(calls[handler](state))
    assert _redirect_path(result) == ("/signin" if not who else "/clinician")
    assert state.loaded is False
    assert count(engine, QuestionnaireResponse, QuestionnaireResponse.status == "draft") == 0
    if who:
        [event] = _new_events(engine, after)
        assert (event.action, event.actor_id) == ("access_denied", getattr(screened, who).id)


def test_the_form_page_saves_choices_and_goes_on_to_the_cssrs(engine, screened, frozen):
    from tests.conftest import run_async

    frozen.shift(timedelta(days=7))
    state = _form_state(engine, screened)
    run_async(state.load())
    assert (state.loaded, state.missing, state.key, state.required) == (True, False, "phq9", 9)
    for item, value in calm_answers("phq9", q9=1).items():
        run_async(state.choose(item, str(value)))
    assert state.alert and state.answered == 9
    run_async(state.choose("q1", HOSTILE))  # ignored: not a choice
    run_async(state.choose("nope", "1"))
    assert state.answers["q1"] == "0"
    assert _redirect_path(run_async(state.submit())) == "/questionnaire/cssrs"

    cssrs = _form_state(engine, screened, instrument="cssrs")
    run_async(cssrs.load())
    assert (cssrs.key, cssrs.required) == ("cssrs", 3)
    assert cssrs.hidden["q3"] and cssrs.hidden["q6_recent"]
    run_async(cssrs.choose("q2", "1"))
    assert not cssrs.hidden["q3"] and cssrs.required == 6
    for item, value in {"q1": 1, "q3": 1, "q4": 1, "q5": 0, "q6": 0}.items():
        run_async(cssrs.choose(item, str(value)))
    assert _redirect_path(run_async(cssrs.submit())) == "/support"


def test_the_form_page_shows_a_result_card_and_field_messages(engine, screened, frozen):
    from kapjourney.ui.pages.questionnaires.state import DueResultState
    from tests.conftest import run_async

    frozen.shift(timedelta(days=7))
    state = _form_state(engine, screened, instrument="gad7")
    run_async(state.load())
    run_async(state.choose("q1", "2"))
    run_async(state.submit())
    assert state.problems["q2"] == "Please answer this question." and state.problems["q1"] == ""
    for item in ("q2", "q3", "q4", "q5", "q6", "q7"):
        run_async(state.choose(item, "1"))
    run_async(state.submit())
    result = run_async(state.get_state(DueResultState))
    assert (result.shown, result.score, result.band) == (True, 8, "Mild")


@pytest.mark.parametrize("instrument", ["intake", "gad7", "<script>", "x" * 500])
def test_the_form_page_says_not_found_for_what_is_not_due(engine, screened, instrument):
    from tests.conftest import run_async

    state = _form_state(engine, screened, instrument=instrument)
    run_async(state.load())
    assert (state.loaded, state.missing, state.items) == (True, True, [])


def test_the_progress_page_loads_points_and_toggles_series(engine, screened):
    from tests.conftest import run_async

    _checkins(screened, [1, 2, 3])
    state = _progress_state(engine, screened)
    run_async(state.load())
    from kapjourney.ui.components.mood_chart import day_x, level_y

    assert state.loaded and state.last_7 == 3
    assert [t["label"] for t in state.ticks][-1] and len(state.ticks) == 3  # 30 days drawn
    dots = state.mood_dots.split("M")[1:]
    assert len(dots) == 3  # one per check-in; today (none yet) is a gap, not a zero
    assert dots[-1].strip() == f"{round(day_x(28, 30), 1):g} {level_y(3):g}h0"
    run_async(state.show_series("sleep", True))
    run_async(state.show_series("anxiety", "yes"))
    run_async(state.show_series("<script>", True))
    assert (state.show_sleep, state.show_anxiety) == (True, False)
