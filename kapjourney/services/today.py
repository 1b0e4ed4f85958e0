"""The client's Today screen: the next session, its readiness, and what is still to do."""

from __future__ import annotations

from sqlmodel import Session, select

from kapjourney.clock import local_today, now
from kapjourney.domain.enums import (
    COURSE_STATUS_LABELS,
    ROUTE_LABELS,
    SETTING_LABELS,
    CourseStatus,
    DosingRoute,
    DosingSetting,
)
from kapjourney.domain.models import Clinic, PushSubscription
from kapjourney.domain.schemas import Actor, NextSessionView, TodayView, TodoItem
from kapjourney.services import checkins, consent, exercises, questionnaires, screening, symptoms
from kapjourney.services.checklists import items_for
from kapjourney.services.clients import deny, load_client
from kapjourney.services.formatting import when
from kapjourney.services.plan import consent_detail, next_session
from kapjourney.services.readiness import session_readiness


def get_today(*, session: Session, actor: Actor) -> TodayView:
    if not actor.is_client:
        raise deny(actor, "today")
    client = load_client(session, actor=actor, client_id=actor.user_id, purpose="today_viewed")
    clinic = session.get(Clinic, client.clinic_id)
    course = screening.latest_course(session, client.id or 0)
    at = now()
    nxt = next_session(session, client.id or 0, at)
    state, _, _ = consent.consent_state(session, client)
    complete, _, _ = screening.screening_status(session, client)
    items = items_for(session, nxt.id or 0) if nxt else []
    return TodayView(
        first_name=client.display_name.split(" ")[0],
        stage=COURSE_STATUS_LABELS[CourseStatus(course.status)] if course else "",
        local_date=local_today(client.timezone).strftime("%A %-d %B"),
        next_session=NextSessionView(
            dosing_session_id=nxt.id or 0,
            number=nxt.number,
            planned=course.planned_sessions if course else nxt.number,
            when=when(nxt.scheduled_at, client.timezone),
            route=ROUTE_LABELS[DosingRoute(nxt.route)],
            setting=SETTING_LABELS[DosingSetting(nxt.setting)],
            readiness=session_readiness(session, client, nxt, at=at),
            steps_done=sum(1 for i in items if i.done_at is not None),
            steps_total=len(items),
        )
        if nxt
        else None,
        clinic_name=clinic.name if clinic else "",
        clinic_phone=clinic.crisis_phone if clinic else "",
        consent_todo="" if state == "current" else consent_detail(state),
        screening_todo=not complete,
        reminders_on=_reminders_on(session, client.id or 0),
        todos=_todos(session, client, at),
    )


def _reminders_on(session: Session, client_id: int) -> bool:
    return (
        session.exec(
            select(PushSubscription.id).where(
                PushSubscription.user_id == client_id, PushSubscription.status == "active"
            )
        ).first()
        is not None
    )


def _todos(session: Session, client, at) -> list[TodoItem]:
    """What to do today: safety questions and follow-ups first, then the check-in, then the
    rest; things already done today last."""
    found: list[TodoItem | None] = []
    found += symptoms.todos(session, client, at)
    found += questionnaires.todos(session, client, at)
    found.append(checkins.todo(session, client, at))
    found += exercises.todos(session, client, at)
    items = [t for t in found if t is not None]
    return sorted(items, key=lambda t: (t.done, not t.urgent))
