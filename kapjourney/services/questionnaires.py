"""Questionnaires on a schedule: PHQ-9 weekly and before each dosing session, GAD-7 weekly, PCL-5
when enabled, and the C-SSRS screener when an answer about self-harm asks for it.

What is due comes from ``domain.schedule`` and the clinic's protocol. A form can be opened when
it is due, when a draft of it is in progress, or (C-SSRS) when it is owed. Drafts, scoring and
safety rules are the same as the screening's (``services.screening``).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import CourseStatus, ResponseStatus
from kapjourney.domain.errors import NotFound
from kapjourney.domain.instruments import INSTRUMENTS, Instrument
from kapjourney.domain.models import QuestionnaireResponse, SymptomReport, User
from kapjourney.domain.schedule import (
    CSSRS_PURPOSE,
    PRE_SESSION,
    SCHEDULED,
    Intervals,
    cssrs_owed,
    due_now,
    purpose_at,
)
from kapjourney.domain.schemas import (
    Actor,
    AnswerSaved,
    QuestionnaireForm,
    SubmitResult,
    TodoItem,
)
from kapjourney.routes import form_url
from kapjourney.services import screening
from kapjourney.services.plan import next_session
from kapjourney.services.protocol import protocol_for

ACTIVE = (CourseStatus.PREPARATION, CourseStatus.DOSING, CourseStatus.INTEGRATION)
TITLES = {
    ("phq9", "weekly"): "Weekly mood questionnaire (PHQ-9)",
    ("phq9", PRE_SESSION): "Mood questionnaire before your session (PHQ-9)",
    ("gad7", "weekly"): "Weekly anxiety questionnaire (GAD-7)",
    ("pcl5", "weekly"): "Stress questionnaire (PCL-5)",
    ("cssrs", CSSRS_PURPOSE): "A few questions about how you're doing (C-SSRS)",
}


def _newest(session: Session, client_id: int) -> dict[str, QuestionnaireResponse]:
    """The newest submitted response per scheduled instrument, whatever its purpose."""
    rows = session.exec(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.client_id == client_id,
            QuestionnaireResponse.status == ResponseStatus.SUBMITTED,
            QuestionnaireResponse.instrument.in_(SCHEDULED),
        )
        .order_by(QuestionnaireResponse.submitted_at, QuestionnaireResponse.id)
    ).all()
    return {r.instrument: r for r in rows}


def _answer(raw: str, key: str) -> int:
    try:
        value = json.loads(raw or "{}").get(key)
    except (ValueError, AttributeError):
        return 0
    return value if type(value) is int else 0


def _owes_cssrs(session: Session, client_id: int, newest: dict[str, QuestionnaireResponse]):
    phq9, cssrs = newest.get("phq9"), newest.get("cssrs")
    report = session.exec(
        select(SymptomReport)
        .where(SymptomReport.client_id == client_id, SymptomReport.status == "submitted")
        .order_by(SymptomReport.submitted_at.desc(), SymptomReport.id.desc())
    ).first()
    return cssrs_owed(
        newest_phq9=(as_utc(phq9.submitted_at), _answer(phq9.answers, "q9"))
        if phq9 and phq9.submitted_at
        else None,
        newest_report=(as_utc(report.submitted_at), _answer(report.answers, "self_harm"))
        if report and report.submitted_at
        else None,
        last_cssrs=as_utc(cssrs.submitted_at) if cssrs and cssrs.submitted_at else None,
    )


def _intervals(session: Session, clinic_id: int) -> Intervals:
    p = protocol_for(session, clinic_id)
    return Intervals(
        phq9_days=p.phq9_interval_days,
        gad7_days=p.gad7_interval_days,
        pcl5_days=p.pcl5_interval_days,
        pre_session_phq9_hours=p.pre_session_phq9_hours,
    )


def _next_start(session: Session, client_id: int, at: datetime) -> datetime | None:
    nxt = next_session(session, client_id, at)
    return as_utc(nxt.scheduled_at) if nxt else None


def _drafts(session: Session, client_id: int) -> dict[str, QuestionnaireResponse]:
    """Scheduled questionnaires started and not yet sent (screening drafts stay on screening)."""
    rows = session.exec(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.client_id == client_id,
            QuestionnaireResponse.status == ResponseStatus.DRAFT,
            QuestionnaireResponse.instrument.in_(SCHEDULED),
            QuestionnaireResponse.purpose != screening.SCREENING_PURPOSE,
        )
    ).all()
    return {r.instrument: r for r in rows}


def due_forms(session: Session, client: User, at: datetime) -> dict[str, tuple[str, bool]]:
    """instrument -> (purpose, urgent) for everything the client may open now, most pressing
    first: what is due, and what they started."""
    client_id = client.id or 0
    newest = _newest(session, client_id)
    course = screening.latest_course(session, client_id)
    complete, _, _ = screening.screening_status(session, client)
    due = due_now(
        at=at,
        tz=client.timezone,
        last={k: as_utc(r.submitted_at) for k, r in newest.items() if r.submitted_at},
        next_session_at=_next_start(session, client_id, at),
        intervals=_intervals(session, client.clinic_id),
        pcl5_enabled=bool(course and course.pcl5_enabled),
        active=bool(course and course.status in ACTIVE and complete),
        owes_cssrs=_owes_cssrs(session, client_id, newest),
    )
    forms = {d.instrument: (d.purpose, d.urgent) for d in due}
    for key, draft in _drafts(session, client_id).items():
        if key not in forms:
            forms[key] = (CSSRS_PURPOSE if key == "cssrs" else draft.purpose, key == "cssrs")
    return forms


def todos(session: Session, client: User, at: datetime) -> list[TodoItem]:
    """The questionnaires to show on Today (key ``form-<instrument>``)."""
    drafts = _drafts(session, client.id or 0)
    items = []
    for key, (purpose, urgent) in due_forms(session, client, at).items():
        form = INSTRUMENTS[key]
        title = TITLES.get((key, purpose)) or TITLES.get((key, "weekly")) or form.title
        started = key in drafts
        items.append(
            TodoItem(
                key=f"form-{key}",
                title=title,
                detail="Started: pick up where you left off"
                if started
                else f"About {form.minutes} minutes",
                href=form_url(key),
                icon="shield-check" if key == "cssrs" else "clipboard-list",
                urgent=urgent,
            )
        )
    return items


def _due_instrument(session: Session, client: User, instrument: object) -> tuple[Instrument, str]:
    if not isinstance(instrument, str) or instrument not in SCHEDULED:
        raise NotFound("questionnaire")
    forms = due_forms(session, client, now())
    if instrument not in forms:
        raise NotFound("questionnaire")
    return INSTRUMENTS[instrument], forms[instrument][0]


def get_due_form(*, session: Session, actor: Actor, instrument: object) -> QuestionnaireForm:
    client = screening.own_client(session, actor, "questionnaire_viewed")
    form, _ = _due_instrument(session, client, instrument)
    draft = screening.draft_for(session, client.id or 0, form.key)
    return screening.form_view(form, screening.answers_of(draft), submitted=False)


def save_due_answer(
    *, session: Session, actor: Actor, instrument: object, item: object, value: object
) -> AnswerSaved:
    """Keep one answer of a due questionnaire in its draft; the safety rules run at once."""
    client = screening.own_client(session, actor, "questionnaire_draft")
    form, purpose = _due_instrument(session, client, instrument)
    return screening.store_answer(session, client, form, item, value, purpose=purpose)


def submit_due_form(*, session: Session, actor: Actor, instrument: object) -> SubmitResult:
    """Score and file a due questionnaire. A PHQ-9 with item 9 above zero leads straight on to
    the C-SSRS screener (``next_form``); ``tier`` tells the page whether to show support now."""
    client = screening.own_client(session, actor, "questionnaire_submitted")
    form, _ = _due_instrument(session, client, instrument)
    at = now()
    purpose = purpose_at(
        form.key,
        at=at,
        next_session_at=_next_start(session, client.id or 0, at),
        intervals=_intervals(session, client.clinic_id),
    )
    _, result = screening.submit_draft(session, actor, client, form, purpose=purpose)
    owed = form.key == "phq9" and _owes_cssrs(
        session, client.id or 0, _newest(session, client.id or 0)
    )
    return result.model_copy(update={"next_form": "cssrs" if owed else ""})
