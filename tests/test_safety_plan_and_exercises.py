"""The safety plan and integration exercises: behaviour, bad input, and who may reach them.

Ada writes her Stanley-Brown safety plan with her clinician Cleo; Cleo assigns integration
exercises, Ada writes them (drafts saved as typed), and Cleo reads the finished ones. Uma (a
clinician of another client), Otto (another client) and Zed (another clinic's admin) are refused
exactly as if nothing existed, and each refusal is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import local_today
from kapjourney.domain.errors import AccessDenied, NotFound, ValidationFailed
from kapjourney.domain.exercises import EXERCISES, LIBRARY, SAFETY_STEPS, ExerciseKind
from kapjourney.domain.models import AuditEvent, ExerciseAssignment, SafetyPlan, User
from kapjourney.services import checklists
from kapjourney.services import exercises as ex
from kapjourney.services import safety_plan as sp
from kapjourney.services.uow import unit_of_work
from tests.journey_support import BASE, INTENTION, item_ids, schedule
from tests.support import audit_events

SCRIPT = "<script>alert('x')</script><b>bold</b>"
MEGABYTE = "a" * 1_000_000
PERSONAS = ["client", "clinician", "other_clinician", "other_client", "admin", "foreign_admin"]


@pytest.fixture
def frozen(personas):
    """Everything after the personas happens at BASE (10:00 in New York)."""
    with time_machine.travel(BASE, tick=False):
        yield personas


def _today() -> date:
    return local_today("America/New_York")


def _assign(personas, key="journal", days=0, **kw) -> int:
    with unit_of_work() as s:
        rows = ex.assign_exercise(
            session=s,
            actor=personas.actor("clinician"),
            client_id=personas.client.id,
            exercise=key,
            due_date=(_today() + timedelta(days=days)).isoformat(),
            **kw,
        )
    return max(r.assignment_id for r in rows)


def _call(fn, who_actor, **kw):
    with unit_of_work() as s:
        return fn(session=s, actor=who_actor, **kw)


def _stored(model, key):
    with db.session_scope() as s:
        row = s.get(model, key)
        return row.model_copy() if row is not None else None


def _no_words_in_audit(engine, *words: str) -> None:
    for event in audit_events(engine):
        for word in words:
            assert word not in event.detail and word not in event.target, event.action


# --- The library and the plan's structure ---------------------------------------------------


def test_the_library_covers_each_kind_with_prompts_and_a_source():
    assert {e.kind for e in LIBRARY} == set(ExerciseKind)
    for e in LIBRARY:
        assert e.prompts and e.source and 1 <= e.minutes <= 30 and len(e.key) <= 32
    assert EXERCISES["breathing"].needs_text is False
    assert EXERCISES["letter"].needs_text is True


def test_the_plan_has_the_six_stanley_brown_steps_in_order_then_reasons():
    assert [s.number for s in SAFETY_STEPS] == [1, 2, 3, 4, 5, 6, 0]
    assert {s.key for s in SAFETY_STEPS} <= set(SafetyPlan.model_fields)


# --- Safety plan --------------------------------------------------------------------------------


def test_an_unwritten_plan_shows_every_step_and_the_clinics_crisis_lines(frozen):
    view = _call(sp.get_safety_plan, frozen.actor("client"))
    assert [s.key for s in view.steps][:6] == [
        "warning_signs",
        "coping",
        "distractions",
        "people",
        "professionals",
        "environment",
    ]
    assert all(s.heading and s.prompt and s.text == "" for s in view.steps)
    assert (view.written, view.updated) == (False, "Not written yet")
    assert (view.emergency_number, view.crisis_line_number) == ("911", "988")
    assert "Stanley" in view.source and "JAMA Psychiatry 2018" in view.source


def test_a_client_writes_a_step_and_her_clinician_reads_it_with_who_and_when(engine, frozen):
    with unit_of_work() as s:
        assert sp.has_safety_plan(s, frozen.client.id) is False
    view = _call(
        sp.save_safety_plan_step,
        frozen.actor("client"),
        step="coping",
        text="  A walk by the river\n",
    )
    assert {s.key: s.text for s in view.steps}["coping"] == "A walk by the river"
    assert view.written is True and view.updated == "Last updated Today, 10:00 am by you"
    theirs = _call(sp.get_safety_plan, frozen.actor("clinician"), client_id=frozen.client.id)
    assert {s.key: s.text for s in theirs.steps}["coping"] == "A walk by the river"
    assert theirs.updated.endswith("by Ada Client")
    with unit_of_work() as s:
        assert sp.has_safety_plan(s, frozen.client.id) is True
    [event] = audit_events(engine, "safety_plan_updated")
    assert (event.actor_id, event.subject_client_id, event.detail) == (
        frozen.client.id,
        frozen.client.id,
        "step=coping",
    )
    _no_words_in_audit(engine, "river")


def test_the_clinician_writes_it_with_her_and_the_client_sees_who(frozen):
    _call(
        sp.save_safety_plan_step,
        frozen.actor("clinician"),
        step="people",
        text="My sister Bea, 555 0100",
        client_id=frozen.client.id,
    )
    view = _call(sp.get_safety_plan, frozen.actor("client"))
    assert {s.key: s.text for s in view.steps}["people"] == "My sister Bea, 555 0100"
    assert view.updated.endswith("by Cleo Clinician")
    assert _stored(SafetyPlan, frozen.client.id).updated_by_id == frozen.clinician.id


def test_an_unchanged_save_is_not_audited_again(engine, frozen):
    for _ in range(3):
        _call(sp.save_safety_plan_step, frozen.actor("client"), step="reasons", text="My kids")
    assert len(audit_events(engine, "safety_plan_updated")) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [(MEGABYTE, "2,000 characters"), ("x" * 2001, "2,000 characters"), (42, "as text")],
)
def test_bad_step_text_gets_a_message_at_that_step_and_keeps_the_saved_text(frozen, text, message):
    _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text="Music")
    with pytest.raises(ValidationFailed) as raised:
        _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text=text)
    assert list(raised.value.fields) == ["coping"]
    assert message in raised.value.fields["coping"]
    assert _stored(SafetyPlan, frozen.client.id).coping == "Music"


def test_exactly_two_thousand_characters_fit(frozen):
    _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text="y" * 2000)
    assert len(_stored(SafetyPlan, frozen.client.id).coping) == 2000


@pytest.mark.parametrize("step", ["nope", "", None, 3, ["coping"], "updated_by_id", "client_id"])
def test_unknown_steps_are_refused_without_touching_the_row(frozen, step):
    with pytest.raises(ValidationFailed) as raised:
        _call(sp.save_safety_plan_step, frozen.actor("client"), step=step, text="5")
    assert list(raised.value.fields) == ["form"]
    assert _stored(SafetyPlan, frozen.client.id) is None


def test_markup_is_kept_as_text_and_control_characters_dropped(frozen):
    _call(
        sp.save_safety_plan_step,
        frozen.actor("client"),
        step="warning_signs",
        text=SCRIPT + "\x00\x1b",
    )
    assert _stored(SafetyPlan, frozen.client.id).warning_signs == SCRIPT


def test_clearing_a_step_is_allowed(frozen):
    _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text="Music")
    view = _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text="")
    assert view.written is False and view.updated == "Not written yet"


# --- Exercises: assigning ----------------------------------------------------------------------


def test_the_clinician_assigns_and_both_see_it_with_a_kind_due_label(engine, frozen):
    assignment = _assign(frozen, note="Take your time with this one.")
    [row] = _call(ex.list_exercises, frozen.actor("client"))
    assert (row.assignment_id, row.title, row.due, row.status, row.overdue) == (
        assignment,
        "Journal: after your session",
        "Due today",
        "assigned",
        False,
    )
    assert row.note == "Take your time with this one." and row.href == f"/journal/{assignment}"
    assert row.assigned_by == "Cleo Clinician"
    [staff_row] = _call(ex.list_exercises, frozen.actor("clinician"), client_id=frozen.client.id)
    assert staff_row.assignment_id == assignment
    # One row for reaching the client's record, one for the assignment (its key, not its note).
    events = audit_events(engine, "exercise_assigned")
    assert {(e.actor_id, e.subject_client_id) for e in events} == {
        (frozen.clinician.id, frozen.client.id)
    }
    assert ("key=journal", f"exercise:{assignment}") in {(e.detail, e.target) for e in events}
    _no_words_in_audit(engine, "Take your time")


def test_an_exercise_can_belong_to_one_of_the_clients_sessions(frozen):
    dosing = schedule(frozen.actor("clinician"), frozen.client.id, days_ahead=1)
    _assign(frozen, "intention", days=2, dosing_session_id=str(dosing))
    [row] = _call(ex.list_exercises, frozen.actor("client"))
    assert row.session_label == "After session 1"


BAD_ASSIGNMENTS = {
    "unknown exercise": ({"exercise": "ayahuasca"}, "exercise"),
    "exercise not a string": ({"exercise": ["journal"]}, "exercise"),
    "date in the past": ({"due_date": "2030-01-07"}, "due_date"),
    "date over a year ahead": ({"due_date": "2031-01-09"}, "due_date"),
    "date not a date": ({"due_date": "next tuesday"}, "due_date"),
    "date impossible": ({"due_date": "2030-02-30"}, "due_date"),
    "date missing": ({"due_date": ""}, "due_date"),
    "date huge": ({"due_date": MEGABYTE}, "due_date"),
    "note too long": ({"note": MEGABYTE}, "note"),
    "note not text": ({"note": {"x": 1}}, "note"),
    "session unknown": ({"dosing_session_id": 987_654}, "dosing_session_id"),
    "session not an id": ({"dosing_session_id": "abc"}, "dosing_session_id"),
}


@pytest.mark.parametrize("case", list(BAD_ASSIGNMENTS))
def test_bad_assignments_name_the_field(engine, frozen, case):
    changes, field = BAD_ASSIGNMENTS[case]
    args = {"exercise": "journal", "due_date": "2030-01-10", "note": ""} | changes
    with pytest.raises(ValidationFailed) as raised:
        _call(ex.assign_exercise, frozen.actor("clinician"), client_id=frozen.client.id, **args)
    assert field in raised.value.fields
    with db.session_scope(engine) as s:
        assert s.exec(select(ExerciseAssignment)).all() == []


def test_a_year_ahead_is_the_limit(frozen):
    _assign(frozen, days=365)
    with pytest.raises(ValidationFailed):
        _assign(frozen, days=366)


def test_another_clients_session_cannot_be_named(frozen):
    otto_session = schedule(frozen.actor("other_clinician"), frozen.other_client.id, days_ahead=1)
    with pytest.raises(ValidationFailed) as raised:
        _assign(frozen, dosing_session_id=otto_session)
    assert "dosing_session_id" in raised.value.fields


# --- Exercises: doing them ----------------------------------------------------------------------


def test_the_client_sees_prompts_and_her_draft_is_saved_as_typed(frozen):
    assignment = _assign(frozen)
    view = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert view.prompts == list(EXERCISES["journal"].prompts)
    assert (view.max_chars, view.response, view.status) == (5000, "", "assigned")
    _call(ex.save_exercise_draft, frozen.actor("client"), assignment_id=assignment, text="I felt")
    again = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert again.response == "I felt"


def test_a_draft_stays_private_until_marked_done_then_the_clinician_reads_it(engine, frozen):
    assignment = _assign(frozen)
    ada = frozen.actor("client")
    _call(ex.save_exercise_draft, ada, assignment_id=assignment, text="Private thoughts")
    [row] = _call(ex.list_exercises, frozen.actor("clinician"), client_id=frozen.client.id)
    assert row.response == ""
    done = _call(ex.complete_exercise, ada, assignment_id=assignment, text="Lighter than before")
    assert (done.status, done.completed) == ("completed", "Today, 10:00 am")
    [row] = _call(ex.list_exercises, frozen.actor("clinician"), client_id=frozen.client.id)
    assert (row.status, row.response) == ("completed", "Lighter than before")
    [own] = _call(ex.list_exercises, ada)
    assert own.response == ""  # the list stays short; the writing is on the exercise page
    [event] = audit_events(engine, "exercise_completed")
    assert event.detail == "key=journal"
    _no_words_in_audit(engine, "Lighter", "Private")


@pytest.mark.parametrize("text", [MEGABYTE, "z" * 5001])
def test_too_long_answers_get_a_message_and_the_last_draft_stays(frozen, text):
    assignment = _assign(frozen)
    ada = frozen.actor("client")
    _call(ex.save_exercise_draft, ada, assignment_id=assignment, text="kept")
    for fn in (ex.save_exercise_draft, ex.complete_exercise):
        with pytest.raises(ValidationFailed) as raised:
            _call(fn, ada, assignment_id=assignment, text=text)
        assert "5,000 characters" in raised.value.fields["text"]
    row = _stored(ExerciseAssignment, assignment)
    assert (row.response, row.status) == ("kept", "assigned")


def test_five_thousand_characters_fit_and_markup_is_kept_as_text(frozen):
    assignment = _assign(frozen)
    ada = frozen.actor("client")
    _call(ex.complete_exercise, ada, assignment_id=assignment, text=SCRIPT + "w" * (5000 - 39))
    assert _stored(ExerciseAssignment, assignment).response.startswith(SCRIPT)


@pytest.mark.parametrize("text", ["", "   \n ", None])
def test_a_writing_exercise_needs_a_few_words(frozen, text):
    assignment = _assign(frozen, "letter")
    with pytest.raises(ValidationFailed) as raised:
        _call(ex.complete_exercise, frozen.actor("client"), assignment_id=assignment, text=text)
    assert "text" in raised.value.fields
    assert _stored(ExerciseAssignment, assignment).status == "assigned"


def test_a_breathing_practice_may_be_done_without_writing(frozen):
    assignment = _assign(frozen, "breathing")
    view = _call(ex.complete_exercise, frozen.actor("client"), assignment_id=assignment, text="")
    assert (view.kind, view.status) == ("breathing", "completed")


def test_marking_done_twice_is_harmless_and_done_work_is_read_only(frozen):
    assignment = _assign(frozen)
    ada = frozen.actor("client")
    _call(ex.complete_exercise, ada, assignment_id=assignment, text="First")
    again = _call(ex.complete_exercise, ada, assignment_id=assignment, text="Second")
    assert again.response == "First"
    with pytest.raises(ValidationFailed) as raised:
        _call(ex.save_exercise_draft, ada, assignment_id=assignment, text="Edit")
    assert "form" in raised.value.fields


def test_the_intention_set_before_the_session_is_shown_back(frozen):
    cleo = frozen.actor("clinician")
    dosing = schedule(cleo, frozen.client.id, days_ahead=1)
    with unit_of_work() as s:
        checklists.complete_item(
            session=s,
            actor=frozen.actor("client"),
            item_id=item_ids(dosing)["intention"],
            values=INTENTION,
        )
        assert ex.intention_for(s, dosing) == INTENTION["text"]
    assignment = _assign(frozen, "intention", days=2, dosing_session_id=dosing)
    view = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert view.intention == INTENTION["text"]
    assert view.intention_session.startswith("Session 1, ")


def test_without_an_intention_the_view_says_so_gently(frozen):
    dosing = schedule(frozen.actor("clinician"), frozen.client.id, days_ahead=1)
    with unit_of_work() as s:
        assert ex.intention_for(s, dosing) == ""  # a step not ticked yet holds no intention
    assignment = _assign(frozen, "intention", dosing_session_id=dosing)
    view = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert (view.intention, view.intention_session) == ("", "")


def test_without_a_session_the_latest_earlier_intention_is_used(frozen):
    dosing = schedule(frozen.actor("clinician"), frozen.client.id, days_ahead=1)
    with unit_of_work() as s:
        checklists.complete_item(
            session=s,
            actor=frozen.actor("client"),
            item_id=item_ids(dosing)["intention"],
            values=INTENTION,
        )
    with time_machine.travel(BASE + timedelta(days=2), tick=False):
        assignment = _assign(frozen, "intention")
        view = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert view.intention == INTENTION["text"]


# --- Withdrawing ---------------------------------------------------------------------------------


def test_a_withdrawn_exercise_leaves_the_clients_list_but_not_the_record(engine, frozen):
    assignment = _assign(frozen)
    rows = _call(ex.withdraw_exercise, frozen.actor("clinician"), assignment_id=assignment)
    assert [r.status for r in rows] == ["withdrawn"]
    assert _call(ex.list_exercises, frozen.actor("client")) == []
    view = _call(ex.get_exercise, frozen.actor("client"), assignment_id=assignment)
    assert view.status == "withdrawn"
    with pytest.raises(ValidationFailed):
        _call(ex.save_exercise_draft, frozen.actor("client"), assignment_id=assignment, text="x")
    # Again is harmless: the change itself is recorded once (beside each access to the record).
    _call(ex.withdraw_exercise, frozen.actor("clinician"), assignment_id=assignment)
    changes = [e for e in audit_events(engine, "exercise_withdrawn") if e.detail]
    assert [(e.detail, e.target) for e in changes] == [("key=journal", f"exercise:{assignment}")]


def test_a_finished_exercise_cannot_be_withdrawn(frozen):
    assignment = _assign(frozen)
    _call(ex.complete_exercise, frozen.actor("client"), assignment_id=assignment, text="Done")
    with pytest.raises(ValidationFailed):
        _call(ex.withdraw_exercise, frozen.actor("clinician"), assignment_id=assignment)
    assert _stored(ExerciseAssignment, assignment).status == "completed"


# --- Today ---------------------------------------------------------------------------------------


def test_today_lists_exercises_due_today_or_overdue_only(frozen):
    due_today = _assign(frozen, days=0)
    _assign(frozen, "breathing", days=1)
    done = _assign(frozen, "values", days=0)
    _call(ex.complete_exercise, frozen.actor("client"), assignment_id=done, text="Family")
    with unit_of_work() as s:
        client = s.get(User, frozen.client.id)
        items = ex.todos(s, client, BASE)
        assert [(i.key, i.href, i.detail) for i in items] == [
            (f"exercise-{due_today}", f"/journal/{due_today}", "Due today")
        ]
        later = ex.todos(s, client, BASE + timedelta(days=3))
    assert [i.key for i in later] == [f"exercise-{due_today}", f"exercise-{due_today + 1}"]
    assert later[0].detail.startswith("Whenever you're ready")
    assert later[1].icon == "wind"


def test_due_dates_follow_the_clients_own_day(frozen):
    """At 23:30 in New York it is already tomorrow in UTC: "today" is still New York's."""
    with time_machine.travel(BASE.replace(hour=4, minute=30) + timedelta(days=1), tick=False):
        assignment = _assign(frozen, days=0)
        [row] = _call(ex.list_exercises, frozen.actor("client"))
    assert (row.assignment_id, row.due_date, row.due) == (assignment, "2030-01-08", "Due today")


# --- Access: who may reach what --------------------------------------------------------------


@dataclass
class World:
    client_id: int
    assignment_id: int
    last_audit_id: int


@pytest.fixture
def world(engine, frozen) -> World:
    assignment = _assign(frozen)
    _call(sp.save_safety_plan_step, frozen.actor("client"), step="coping", text="Music")
    return World(frozen.client.id, assignment, audit_events(engine)[-1].id)


def _new_events(engine, world: World) -> list[AuditEvent]:
    return [e for e in audit_events(engine) if e.id > world.last_audit_id]


@dataclass(frozen=True)
class Case:
    kind: str  # "client" (takes a client id) or "assignment"
    allowed: tuple[str, ...]
    purpose: str
    call: Callable  # (session, actor, target id) -> result


CARE = ("clinician", "admin")
CASES: dict[str, Case] = {
    "get_safety_plan": Case(
        "client",
        ("client", *CARE),
        "safety_plan_viewed",
        lambda s, a, t: sp.get_safety_plan(session=s, actor=a, client_id=t),
    ),
    "save_safety_plan_step": Case(
        "client",
        ("client", *CARE),
        "safety_plan_updated",
        lambda s, a, t: sp.save_safety_plan_step(
            session=s, actor=a, step="people", text="Bea", client_id=t
        ),
    ),
    "list_exercises": Case(
        "client",
        ("client", *CARE),
        "exercises_viewed",
        lambda s, a, t: ex.list_exercises(session=s, actor=a, client_id=t),
    ),
    "assign_exercise": Case(
        "client",
        CARE,
        "exercise_assigned",
        lambda s, a, t: ex.assign_exercise(
            session=s, actor=a, client_id=t, exercise="breathing", due_date="2030-01-09"
        ),
    ),
    "withdraw_exercise": Case(
        "assignment",
        CARE,
        "exercise_withdrawn",
        lambda s, a, t: ex.withdraw_exercise(session=s, actor=a, assignment_id=t),
    ),
    "get_exercise": Case(
        "assignment",
        ("client",),
        "exercise_viewed",
        lambda s, a, t: ex.get_exercise(session=s, actor=a, assignment_id=t),
    ),
    "save_exercise_draft": Case(
        "assignment",
        ("client",),
        "exercise_draft",
        lambda s, a, t: ex.save_exercise_draft(session=s, actor=a, assignment_id=t, text="Hm"),
    ),
    "complete_exercise": Case(
        "assignment",
        ("client",),
        "exercise_completed",
        lambda s, a, t: ex.complete_exercise(session=s, actor=a, assignment_id=t, text="Done"),
    ),
}
ALLOWED = [(n, who) for n, c in CASES.items() for who in c.allowed]
DENIED = [(n, who) for n, c in CASES.items() for who in PERSONAS if who not in c.allowed]


def _target(world: World, case: Case) -> int:
    return world.client_id if case.kind == "client" else world.assignment_id


@pytest.mark.parametrize(("name", "who"), ALLOWED)
def test_the_client_and_her_care_team_reach_what_is_theirs(engine, frozen, world, name, who):
    case = CASES[name]
    with unit_of_work() as s:
        assert case.call(s, frozen.actor(who), _target(world, case)) is not None
    events = _new_events(engine, world)
    assert [e for e in events if e.action == "access_denied"] == []
    if who != "client":  # a staff member's access to a client's record is audited
        assert (frozen.actor(who).user_id, world.client_id) in {
            (e.actor_id, e.subject_client_id) for e in events if e.action == case.purpose
        }


@pytest.mark.parametrize(("name", "who"), DENIED)
def test_everyone_else_is_refused_as_not_found_and_audited(engine, frozen, world, name, who):
    case = CASES[name]
    actor = frozen.actor(who)
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        case.call(s, actor, _target(world, case))
    assert isinstance(raised.value, NotFound)
    [event] = _new_events(engine, world)  # the work rolled back: only the refusal is left
    assert (event.action, event.outcome, event.actor_id, event.target) == (
        "access_denied",
        "denied",
        actor.user_id,
        case.purpose,
    )
    # Refused before any record is read (so no client is named): a role that never may, or a
    # client naming someone else where she may name only herself.
    by_role = (
        (actor.is_client and "client" not in case.allowed)
        or (actor.is_staff and case.allowed == ("client",))
        or (who == "other_client" and case.kind == "client")
    )
    assert event.subject_client_id == (None if by_role else world.client_id)
    with db.session_scope(engine) as s:  # nothing changed
        row = s.get(ExerciseAssignment, world.assignment_id)
        assert (row.status, row.response) == ("assigned", "")
        assert s.get(SafetyPlan, world.client_id).people == ""
        assert len(s.exec(select(ExerciseAssignment)).all()) == 1


BAD_IDS = {
    "missing": 987_654,
    "zero": 0,
    "negative": -1,
    "int32_overflow": 2**31,
    "str": "1",
    "float": 1.0,
    "bool": True,
    "list": [1],
}


@pytest.mark.parametrize("bad", list(BAD_IDS))
@pytest.mark.parametrize("name", list(CASES))
def test_ids_that_name_nothing_are_refused_never_crash(engine, frozen, world, name, bad):
    case = CASES[name]
    who = "client" if case.allowed == ("client",) else "admin"
    actor = frozen.actor(who)
    if who == "client" and case.kind == "client":
        pytest.skip("a client's own-record services ignore ids only by refusing other ones")
    with pytest.raises(AccessDenied), unit_of_work() as s:
        case.call(s, actor, BAD_IDS[bad])
    [event] = _new_events(engine, world)
    assert (event.action, event.actor_id, event.subject_client_id) == (
        "access_denied",
        actor.user_id,
        None,
    )


@pytest.mark.parametrize("name", ["get_safety_plan", "save_safety_plan_step", "list_exercises"])
def test_a_client_naming_another_client_is_refused_and_naming_none_means_herself(
    engine, frozen, world, name
):
    case = CASES[name]
    otto = frozen.actor("other_client")
    with pytest.raises(AccessDenied), unit_of_work() as s:
        case.call(s, otto, world.client_id)
    with unit_of_work() as s:
        result = case.call(s, otto, None)
    if name == "list_exercises":
        assert result == []
    else:
        assert result.client_id == frozen.other_client.id and result.client_name == "Otto Other"


@pytest.mark.parametrize("name", ["get_safety_plan", "list_exercises"])
def test_staff_must_name_a_client(engine, frozen, world, name):
    with pytest.raises(AccessDenied), unit_of_work() as s:
        CASES[name].call(s, frozen.actor("clinician"), None)


# --- Handlers: every one is a public endpoint --------------------------------------------------


def _state(cls, cookie: str = "", query: dict | None = None):
    from reflex.istate.data import RouterData
    from reflex.state import State

    import kapjourney.kapjourney  # noqa: F401  (builds the app: routes give states their args)

    root = State()
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie} if cookie else {}, "ip": "10.0.0.9", "query": query or {}}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


def _cookie(engine, user: User) -> str:
    from kapjourney.auth import sessions

    with db.session_scope(engine) as s:
        token = sessions.create_session(s, user=s.get(User, user.id))
    return f"kj_session={token}"


def _redirected_to(result) -> str:
    args = {k._js_expr: getattr(v, "_var_value", None) for k, v in result.args}
    return str(args.get("path"))


def _handlers():
    from kapjourney.ui.pages.client_detail.exercises_panel import ExercisesPanelState
    from kapjourney.ui.pages.client_detail.safety_plan_panel import SafetyPlanPanelState
    from kapjourney.ui.pages.journal.state import ExerciseState, JournalState
    from kapjourney.ui.pages.safety_plan import SafetyPlanState

    client = [
        (SafetyPlanState, "load", ()),
        (SafetyPlanState, "save", ("coping", "x")),
        (JournalState, "load", ()),
        (ExerciseState, "load", ()),
        (ExerciseState, "draft", ("x", 1)),
        (ExerciseState, "complete", ()),
    ]
    staff = [
        (SafetyPlanPanelState, "save", ("coping", "x")),
        (ExercisesPanelState, "assign", ({"exercise": "breathing"},)),
        (ExercisesPanelState, "withdraw", (1,)),
    ]
    return client, staff


def test_every_new_handler_carries_the_guard():
    from kapjourney.ui.guard import GUARD_ATTR

    client, staff = _handlers()
    for cls, name, _ in client + staff:
        roles = getattr(cls.event_handlers[name].fn, GUARD_ATTR, None)
        assert roles is not None, f"{cls.__name__}.{name}"
        assert set(roles) == ({"client"} if (cls, name, _) in client else {"clinician", "admin"})


def test_signed_out_and_wrong_role_calls_do_nothing_but_redirect(engine, frozen, world):
    from tests.conftest import run_async

    client, staff = _handlers()
    cleo, ada = _cookie(engine, frozen.clinician), _cookie(engine, frozen.client)
    for cls, name, args in client + staff:
        result = run_async(getattr(_state(cls), name)(*args))
        assert _redirected_to(result) == "/signin", name
    for cls, name, args in client:
        assert _redirected_to(run_async(getattr(_state(cls, cleo), name)(*args))) == "/clinician"
    for cls, name, args in staff:
        assert _redirected_to(run_async(getattr(_state(cls, ada), name)(*args))) == "/today"
    denied = audit_events(engine, "access_denied")
    assert len(denied) == len(client) + len(staff)
    with db.session_scope(engine) as s:  # nothing was written by any of them
        assert s.get(SafetyPlan, world.client_id).coping == "Music"
        assert s.get(ExerciseAssignment, world.assignment_id).status == "assigned"


def test_the_safety_plan_page_keeps_a_too_long_step_out_and_says_so(engine, frozen, world):
    from kapjourney.ui.pages.safety_plan import SafetyPlanState
    from tests.conftest import run_async

    state = _state(SafetyPlanState, _cookie(engine, frozen.client))
    run_async(state.load())
    assert state.loaded and len(state.steps) == 7 and state.clinic_name == "Test Clinic"
    run_async(state.save("coping", MEGABYTE))
    assert "2,000 characters" in state.errors["coping"] and state.saved == ""
    run_async(state.save("coping", SCRIPT))
    run_async(state.save("not-a-step", "x"))
    run_async(state.save(["coping"], "x"))
    assert state.errors["coping"] == "" and state.saved == "Saved"
    assert _stored(SafetyPlan, world.client_id).coping == SCRIPT


def test_an_exercise_page_for_someone_elses_assignment_looks_missing(engine, frozen, world):
    from kapjourney.ui.pages.journal.state import ExerciseState
    from tests.conftest import run_async

    otto = _cookie(engine, frozen.other_client)
    for raw in (str(world.assignment_id), "987654", "abc", "1" * 400):
        state = _state(ExerciseState, otto, {"assignment_id": raw})
        run_async(state.load())
        assert (state.loaded, state.missing, state.title) == (True, True, "")
        run_async(state.draft("Otto was here", 13))
        run_async(state.complete())
    row = _stored(ExerciseAssignment, world.assignment_id)
    assert (row.status, row.response) == ("assigned", "")


def test_the_exercise_page_counts_refuses_too_long_and_completes(engine, frozen, world):
    from kapjourney.ui.pages.journal.state import ExerciseState
    from tests.conftest import run_async

    query = {"assignment_id": str(world.assignment_id)}
    state = _state(ExerciseState, _cookie(engine, frozen.client), query)
    run_async(state.load())
    assert (state.missing, state.title, state.count) == (False, "Journal: after your session", 0)
    run_async(state.draft("First words", 11))
    assert (state.count, state.saved) == (11, "Draft saved")
    # The browser sends at most 5,001 characters, and the full length beside them.
    run_async(state.draft("b" * 5001, 1_000_000))
    assert state.count == 1_000_000 and "5,000" in state.error
    run_async(state.complete())
    assert "5,000" in state.error
    assert _stored(ExerciseAssignment, world.assignment_id).response == "First words"
    run_async(state.draft("Final words", 11))
    run_async(state.complete())
    assert (state.status, state.error) == ("completed", "")
    assert _stored(ExerciseAssignment, world.assignment_id).response == "Final words"


def test_the_staff_panels_refuse_another_clinicians_client(engine, frozen, world):
    from kapjourney.ui.pages.client_detail.exercises_panel import ExercisesPanelState
    from kapjourney.ui.pages.client_detail.safety_plan_panel import SafetyPlanPanelState
    from tests.conftest import run_async

    uma = _cookie(engine, frozen.other_clinician)
    panel = _state(ExercisesPanelState, uma)
    panel._client_id = world.client_id  # as if she had forged the page's backend state
    assert "not found" in str(run_async(panel.withdraw(world.assignment_id))).lower()
    assert (
        "not found"
        in str(run_async(panel.assign({"exercise": "breathing", "due_date": "2030-01-09"}))).lower()
    )
    plan = _state(SafetyPlanPanelState, uma)
    plan._client_id = world.client_id
    assert "not found" in str(run_async(plan.save("coping", "Hijack"))).lower()
    assert _stored(SafetyPlan, world.client_id).coping == "Music"
    assert _stored(ExerciseAssignment, world.assignment_id).status == "assigned"


def test_the_assign_form_shows_messages_at_fields_and_assigns(engine, frozen, world):
    from kapjourney.ui.pages.client_detail.exercises_panel import ExercisesPanelState
    from tests.conftest import run_async

    panel = _state(ExercisesPanelState, _cookie(engine, frozen.clinician))
    panel._client_id = world.client_id
    run_async(panel.assign({"exercise": "<script>", "due_date": "2000-01-01", "note": MEGABYTE}))
    assert panel.errors["exercise"] and panel.errors["due_date"] and panel.errors["note"]
    run_async(panel.assign("not a dict"))
    assert panel.errors["exercise"]
    run_async(panel.assign({"exercise": "letter", "due_date": "2030-01-15"}))
    assert [r.key for r in panel.rows] == ["journal", "letter"]
    assert not any(panel.errors.values()) and panel.form_key == 1
