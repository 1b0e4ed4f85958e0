"""Questionnaires: drafts saved answer by answer, scoring on submit, screening and its review.

Screening is the intake questionnaire plus baseline PHQ-9 and GAD-7 (and PCL-5 when the
clinician enables it). Answers count from the course's ``screening_requested_at``, so a
re-screen after a lapse asks for fresh answers. Flags go to the clinician for review; nothing
here rejects anyone automatically.

Worrying answers are judged by the clinic's safety rules (``services.safety.apply``) on every
saved answer and again on submit: one alert per response, raised or raised up in the same
transaction. ``store_answer``, ``form_view`` and ``submit_draft`` are shared with the scheduled
questionnaires (``services.questionnaires``).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import AlertSeverity, ResponseStatus
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.instruments import (
    FLAG_LABELS,
    INSTRUMENTS,
    Instrument,
    answer_problem,
    score,
    visible_answers,
)
from kapjourney.domain.models import Course, QuestionnaireResponse, User
from kapjourney.domain.safety import Facts, Triage
from kapjourney.domain.schemas import (
    Actor,
    AnswerSaved,
    ChoiceView,
    FormItemView,
    QuestionnaireForm,
    ScreeningResultRow,
    ScreeningSummary,
    ScreeningTask,
    ScreeningView,
    SubmitResult,
)
from kapjourney.services import audit, safety
from kapjourney.services.clients import deny, load_client, load_client_for_staff
from kapjourney.services.formatting import when
from kapjourney.services.validation import small_int

ANSWER_MAX = 10_000  # far above any real answer; the instrument's own limit gives the message
SCREENING_PURPOSE = "screening"
WORRYING = (AlertSeverity.URGENT, AlertSeverity.EMERGENCY)


def latest_course(session: Session, client_id: int) -> Course | None:
    return session.exec(
        select(Course).where(Course.client_id == client_id).order_by(Course.created_at.desc())
    ).first()


def required_instruments(course: Course | None) -> list[Instrument]:
    keys = ["intake", "phq9", "gad7"] + (["pcl5"] if course and course.pcl5_enabled else [])
    return [INSTRUMENTS[k] for k in keys]


def _since(course: Course | None) -> datetime | None:
    return as_utc(course.screening_requested_at) if course else None


def _submitted(
    session: Session, client_id: int, since: datetime | None
) -> dict[str, QuestionnaireResponse]:
    """The newest submitted response per instrument in the current screening round (weekly
    and pre-session questionnaires are not screening, and never un-review it)."""
    query = select(QuestionnaireResponse).where(
        QuestionnaireResponse.client_id == client_id,
        QuestionnaireResponse.status == ResponseStatus.SUBMITTED,
        QuestionnaireResponse.purpose == SCREENING_PURPOSE,
    )
    if since is not None:
        query = query.where(QuestionnaireResponse.submitted_at >= since)
    rows = session.exec(query.order_by(QuestionnaireResponse.submitted_at)).all()
    return {r.instrument: r for r in rows}


def draft_for(session: Session, client_id: int, instrument: str) -> QuestionnaireResponse | None:
    return session.exec(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.client_id == client_id,
            QuestionnaireResponse.instrument == instrument,
            QuestionnaireResponse.status == ResponseStatus.DRAFT,
        )
    ).first()


def screening_status(session: Session, client: User) -> tuple[bool, bool, datetime | None]:
    """(complete, reviewed, reviewed_at) for the client's current screening round."""
    course = latest_course(session, client.id or 0)
    needed = required_instruments(course)
    done = _submitted(session, client.id or 0, _since(course))
    complete = course is not None and all(i.key in done for i in needed)
    reviewed_at = (
        as_utc(course.screening_reviewed_at) if course and course.screening_reviewed_at else None
    )
    last = max((as_utc(r.submitted_at) for r in done.values() if r.submitted_at), default=None)
    reviewed = complete and reviewed_at is not None and (last is None or reviewed_at >= last)
    return complete, reviewed, reviewed_at


def own_client(session: Session, actor: Actor, purpose: str) -> User:
    if not actor.is_client:
        raise deny(actor, purpose)
    return load_client(session, actor=actor, client_id=actor.user_id, purpose=purpose)


def get_screening(*, session: Session, actor: Actor) -> ScreeningView:
    client = own_client(session, actor, "screening_viewed")
    course = latest_course(session, client.id or 0)
    done = _submitted(session, client.id or 0, _since(course))
    tasks = []
    for instrument in required_instruments(course):
        status = "done" if instrument.key in done else "todo"
        if status == "todo" and draft_for(session, client.id or 0, instrument.key):
            status = "draft"
        tasks.append(
            ScreeningTask(
                instrument=instrument.key,
                title=instrument.short_title,
                minutes=instrument.minutes,
                status=status,
            )
        )
    complete, reviewed, _ = screening_status(session, client)
    return ScreeningView(tasks=tasks, complete=complete, reviewed=reviewed)


def _instrument_for(session: Session, client: User, key: object) -> Instrument:
    course = latest_course(session, client.id or 0)
    for instrument in required_instruments(course):
        if instrument.key == key:
            return instrument
    raise ValidationFailed({"form": "That questionnaire is not part of your screening."})


def answers_of(row: QuestionnaireResponse | None) -> dict[str, object]:
    if row is None:
        return {}
    try:
        data = json.loads(row.answers)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def get_form(*, session: Session, actor: Actor, instrument: object) -> QuestionnaireForm:
    client = own_client(session, actor, "questionnaire_viewed")
    form = _instrument_for(session, client, instrument)
    course = latest_course(session, client.id or 0)
    submitted = form.key in _submitted(session, client.id or 0, _since(course))
    return form_view(form, answers_of(draft_for(session, client.id or 0, form.key)), submitted)


def form_view(form: Instrument, answers: dict[str, object], submitted: bool) -> QuestionnaireForm:
    """The form as the client sees it, with the draft's answers filled in."""
    items = [
        FormItemView(
            key=item.key,
            number=n,
            text=item.text,
            kind=item.kind,
            choices=[ChoiceView(value=c.value, label=c.label) for c in item.choices]
            if item.kind == "choice"
            else [ChoiceView(value=1, label="Yes"), ChoiceView(value=0, label="No")]
            if item.kind == "yesno"
            else [],
            required=item.required,
            hint=item.hint,
            answer="" if answers.get(item.key) is None else str(answers[item.key]),
        )
        for n, item in enumerate(form.items, 1)
    ]
    return QuestionnaireForm(
        instrument=form.key,
        title=form.title,
        preamble=form.preamble,
        source=form.source,
        items=items,
        submitted=submitted,
        answered=sum(1 for i in items if i.answer != ""),
        required=sum(1 for i in items if i.required),
    )


def save_answer(
    *, session: Session, actor: Actor, instrument: object, item: object, value: object
) -> AnswerSaved:
    """Keep one answer in the draft as soon as it is given (text answers as they are typed)."""
    client = own_client(session, actor, "questionnaire_draft")
    form = _instrument_for(session, client, instrument)
    return store_answer(session, client, form, item, value, purpose=SCREENING_PURPOSE)


def store_answer(
    session: Session, client: User, form: Instrument, item: object, value: object, *, purpose: str
) -> AnswerSaved:
    """Validate one answer and keep it in the client's draft of ``form`` (created with
    ``purpose`` if there is none). The safety rules run on the answers so far, so a worrying
    answer in a form that is never finished still reaches the care team."""
    spec = form.item(item) if isinstance(item, str) else None
    if spec is None:
        raise ValidationFailed({"form": "That question is not part of this questionnaire."})
    if spec.kind != "text" and isinstance(value, str) and value != "":
        value = small_int(value) if small_int(value) is not None else value
    if spec.kind == "text" and value is not None and not isinstance(value, str):
        raise ValidationFailed({spec.key: "Please type your answer."})
    if isinstance(value, str) and len(value) > ANSWER_MAX:
        value = value[:ANSWER_MAX]
    problem = answer_problem(spec, value) if value not in (None, "") else ""
    if problem and spec.kind != "text":
        raise ValidationFailed({spec.key: problem})
    draft = draft_for(session, client.id or 0, form.key)
    if draft is None:
        draft = QuestionnaireResponse(
            client_id=client.id or 0,
            clinic_id=client.clinic_id,
            instrument=form.key,
            instrument_version=form.version,
            purpose=purpose,
        )
    answers = answers_of(draft)
    answers[spec.key] = None if value == "" else value
    draft.answers = json.dumps(answers, ensure_ascii=False)
    draft.updated_at = now()
    session.add(draft)
    session.flush()
    triage = apply_rules(session, client, form, draft, answers)
    # A text answer is kept in the draft even when too long, so nothing typed is lost; the
    # message tells them what to change, and submitting refuses it until they do.
    return AnswerSaved(
        problem=answer_problem(spec, value) if isinstance(value, str) and value else "",
        alert=any(spec.key in rule.items for rule in triage.rules if rule.tier in WORRYING),
    )


def apply_rules(
    session: Session,
    client: User,
    form: Instrument,
    response: QuestionnaireResponse,
    answers: dict[str, object],
) -> Triage:
    """The clinic's safety rules on the answers that are asked (skip logic applied): one alert
    per response, raised or raised up in the caller's transaction."""
    triage, _ = safety.apply(
        session,
        client=client,
        facts=Facts(form.key, visible_answers(form, answers)),
        source_kind="questionnaire",
        source_id=response.id or 0,
    )
    return triage


def submit_draft(
    session: Session, actor: Actor, client: User, form: Instrument, *, purpose: str
) -> tuple[QuestionnaireResponse, SubmitResult]:
    """Score the client's draft of ``form`` and file it under ``purpose``. A worrying answer
    raises (or raises up) its alert in this same transaction."""
    draft = draft_for(session, client.id or 0, form.key)
    answers = answers_of(draft)
    result = score(form, answers)
    if draft is None or not result.complete:
        problems = {k: "Please answer this question." for k in result.missing}
        problems.update({k: "Please check this answer." for k in result.invalid})
        raise ValidationFailed(problems or {"form": "Please answer the questions first."})
    draft.status = ResponseStatus.SUBMITTED
    draft.purpose = purpose
    draft.submitted_at = now()
    draft.updated_at = draft.submitted_at
    draft.score = result.total
    draft.band = result.band
    draft.flags = json.dumps(list(result.flags))
    session.add(draft)
    session.flush()
    triage = apply_rules(session, client, form, draft, answers)
    audit.record(
        session,
        action="questionnaire_submitted",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        target=f"response:{draft.id}",
        ip=actor.ip,
        # Which form, never its answers; the C-SSRS is not named, as being asked it says
        # something about an earlier answer.
        detail="" if form.key == "cssrs" else f"instrument={form.key}",
    )
    return draft, SubmitResult(
        instrument=form.key,
        title=form.title,
        score=result.total,
        band=result.band,
        max_score=form.max_score,
        alert=triage.tier in WORRYING,
        tier=str(triage.tier or ""),
    )


def submit_form(*, session: Session, actor: Actor, instrument: object) -> SubmitResult:
    """Score the draft. A worrying answer raises its alert in this same transaction."""
    client = own_client(session, actor, "questionnaire_submitted")
    form = _instrument_for(session, client, instrument)
    _, result = submit_draft(session, actor, client, form, purpose=SCREENING_PURPOSE)
    return result


# --- The care team's side --------------------------------------------------------------------


def _summary(session: Session, client: User, tz: str) -> ScreeningSummary:
    course = latest_course(session, client.id or 0)
    done = _submitted(session, client.id or 0, _since(course))
    complete, reviewed, reviewed_at = screening_status(session, client)
    flags: list[str] = []
    results = []
    for instrument in required_instruments(course):
        row = done.get(instrument.key)
        if row is None:
            continue
        flags += [FLAG_LABELS.get(f, f) for f in json.loads(row.flags or "[]")]
        results.append(
            ScreeningResultRow(
                instrument=instrument.key,
                title=instrument.title,
                score=f"{row.score} of {instrument.max_score}" if row.score is not None else "",
                band=row.band,
                submitted=when(row.submitted_at, tz) if row.submitted_at else "",
                source=instrument.source,
            )
        )
    medicines = answers_of(done.get("intake")).get("medicines")
    return ScreeningSummary(
        results=results,
        flags=flags,
        medicines=medicines if isinstance(medicines, str) else "",
        complete=complete,
        reviewed=reviewed,
        reviewed_at=when(reviewed_at, tz) if reviewed and reviewed_at else "",
        pcl5_enabled=bool(course and course.pcl5_enabled),
        missing=[i.short_title for i in required_instruments(course) if i.key not in done],
    )


def screening_summary(*, session: Session, actor: Actor, client_id: object) -> ScreeningSummary:
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="screening_viewed"
    )
    return _summary(session, client, actor.timezone)


def _course_for(session: Session, client: User) -> Course:
    course = latest_course(session, client.id or 0)
    if course is None:
        raise ValidationFailed({"form": "Start a course for this client first."})
    return course


def review_screening(*, session: Session, actor: Actor, client_id: object) -> ScreeningSummary:
    """The clinician confirms they reviewed the screening answers and flags."""
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="screening_reviewed"
    )
    course = _course_for(session, client)
    complete, _, _ = screening_status(session, client)
    if not complete:
        raise ValidationFailed({"form": "The client has not finished the screening yet."})
    course.screening_reviewed_at = now()
    course.screening_reviewed_by_id = actor.user_id
    session.add(course)
    session.flush()
    # load_client above audited this as "screening_reviewed".
    from kapjourney.services.plan import advance_course  # plan builds on this module

    advance_course(session, client)
    return _summary(session, client, actor.timezone)


def request_rescreen(*, session: Session, actor: Actor, client_id: object) -> ScreeningSummary:
    """Ask for fresh screening answers (after a lapse, or whenever the clinician decides)."""
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="rescreen_requested"
    )
    course = _course_for(session, client)
    course.screening_requested_at = now()
    course.screening_reviewed_at = None
    course.screening_reviewed_by_id = None
    session.add(course)
    session.flush()
    return _summary(session, client, actor.timezone)


def set_pcl5(
    *, session: Session, actor: Actor, client_id: object, enabled: object
) -> ScreeningSummary:
    client = load_client_for_staff(
        session, actor=actor, client_id=client_id, purpose="pcl5_changed"
    )
    course = _course_for(session, client)
    course.pcl5_enabled = enabled is True
    session.add(course)
    session.flush()
    return _summary(session, client, actor.timezone)
