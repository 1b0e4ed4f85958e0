"""Helpers for the journey tests: consent, screening, scheduling and preparation, driven through
the services one unit of work at a time, as the UI does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.consent_text import parse
from kapjourney.domain.enums import ValueKind
from kapjourney.domain.instruments import INSTRUMENTS
from kapjourney.domain.models import Alert, ChecklistItem, DosingSession
from kapjourney.domain.schemas import Actor, ConsentFlowView, SessionSchedule
from kapjourney.services import checklists, consent, plan, screening
from kapjourney.services.uow import unit_of_work

# A frozen instant well after the personas were made (they are stamped with the real clock):
# a Tuesday in winter, 10:00 in New York (EST, UTC-5).
BASE = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)
DOSED = BASE + timedelta(days=1)  # when the session of ``dosed_and_done`` was dosed
NEW_YORK = ZoneInfo("America/New_York")
SIGNED_NAME = "Ada Lovelace"
CHAPERONE = {"name": "Cara Chaperone", "phone": "+1 (555) 010-2000"}
INTENTION = {"text": "Meet the hard feelings kindly"}


@contextmanager
def _work(session: Session | None) -> Iterator[Session]:
    """The caller's session when given (fast set-up), else one unit of work per step."""
    with nullcontext(session) if session is not None else unit_of_work() as s:
        yield s


def correct_answers(text: str = DEFAULT_CONSENT_TEXT) -> dict[str, int]:
    """The comprehension check answered right, keyed as the UI sends it."""
    return {str(i): q.correct for i, (_, q) in enumerate(parse(text).questions)}


def sign_consent(
    actor: Actor,
    *,
    name: str = SIGNED_NAME,
    text: str = DEFAULT_CONSENT_TEXT,
    session: Session | None = None,
) -> ConsentFlowView:
    """Read every section, pass the check and sign the clinic's current document."""
    with _work(session) as s:
        flow = consent.get_consent_flow(session=s, actor=actor)
    for section in flow.sections:
        with _work(session) as s:
            consent.acknowledge_section(
                session=s, actor=actor, document_id=flow.document_id, section=section.index
            )
    with _work(session) as s:
        result = consent.check_answers(
            session=s, actor=actor, document_id=flow.document_id, answers=correct_answers(text)
        )
    assert result.passed, result
    with _work(session) as s:
        return consent.sign_consent(
            session=s,
            actor=actor,
            document_id=flow.document_id,
            full_name=name,
            user_agent="pytest-browser/1.0",
        )


def answer_form(
    actor: Actor, instrument: str, answers: dict[str, object], session: Session | None = None
) -> None:
    with _work(session) as s:
        for item, value in answers.items():
            screening.save_answer(
                session=s, actor=actor, instrument=instrument, item=item, value=value
            )


def calm_answers(instrument: str, **overrides: object) -> dict[str, object]:
    """Every required item of ``instrument`` answered with its lowest choice."""
    answers: dict[str, object] = {
        item.key: 0 for item in INSTRUMENTS[instrument].items if item.kind != "text"
    }
    return answers | overrides


def complete_screening(
    actor: Actor, *, phq9_item9: int = 0, pcl5: bool = False, session: Session | None = None
) -> None:
    """Answer and submit every screening questionnaire (PCL-5 too when asked)."""
    forms = {
        "intake": calm_answers("intake"),
        "phq9": calm_answers("phq9", q9=phq9_item9),
        "gad7": calm_answers("gad7"),
    }
    if pcl5:
        forms["pcl5"] = calm_answers("pcl5")
    for instrument, answers in forms.items():
        answer_form(actor, instrument, answers, session)
        with _work(session) as s:
            screening.submit_form(session=s, actor=actor, instrument=instrument)


def review(staff: Actor, client_id: int) -> None:
    with unit_of_work() as s:
        screening.review_screening(session=s, actor=staff, client_id=client_id)


def local_value(at: datetime, tz: ZoneInfo = NEW_YORK) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def schedule(
    staff: Actor,
    client_id: int,
    days_ahead: float,
    setting: str = "in_clinic",
    route: str = "sublingual_lozenge",
    session: Session | None = None,
) -> int:
    """Schedule a session ``days_ahead`` from now (to the minute); returns its id."""
    at = now() + timedelta(days=days_ahead)
    with _work(session) as s:
        plan.schedule_session(
            session=s,
            actor=staff,
            client_id=client_id,
            data=SessionSchedule(local_datetime=local_value(at), route=route, setting=setting),
        )
        return s.exec(select(DosingSession.id).order_by(DosingSession.id.desc())).first()


def dosed_and_done(staff: Actor, client_id: int) -> int:
    """A session scheduled at BASE for DOSED (a day later) and marked done by ``staff`` a minute
    after it was dosed; returns its id."""
    with time_machine.travel(BASE, tick=False):
        dosing = schedule(staff, client_id, days_ahead=1)
    with time_machine.travel(DOSED + timedelta(minutes=1), tick=False), unit_of_work() as s:
        plan.complete_session(session=s, actor=staff, dosing_session_id=dosing)
    return dosing


def item_ids(dosing_session_id: int) -> dict[str, int]:
    """The session's checklist items by key."""
    with db.session_scope() as s:
        rows = s.exec(
            select(ChecklistItem).where(ChecklistItem.dosing_session_id == dosing_session_id)
        ).all()
        return {r.key: r.id for r in rows}


def values_for(kind: str, bp: tuple[int, int, int] = (120, 80, 70)) -> dict[str, str] | None:
    return {
        ValueKind.NONE: None,
        ValueKind.CHAPERONE: CHAPERONE,
        ValueKind.BLOOD_PRESSURE: dict(
            zip(("systolic", "diastolic", "pulse"), map(str, bp), strict=True)
        ),
        ValueKind.TEXT: INTENTION,
    }[ValueKind(kind)]


def complete_steps(actor: Actor, dosing_session_id: int, bp: tuple[int, int, int] = (120, 80, 70)):
    """Tick every preparation step, with a value where the step takes one."""
    with unit_of_work() as s:
        view = checklists.get_checklist(session=s, actor=actor, dosing_session_id=dosing_session_id)
    for item in view.items:
        with unit_of_work() as s:
            view = checklists.complete_item(
                session=s, actor=actor, item_id=item.item_id, values=values_for(item.value_kind, bp)
            )
    return view


def alert_ids(client_id: int) -> list[int]:
    with db.session_scope() as s:
        return list(s.exec(select(Alert.id).where(Alert.client_id == client_id)).all())
