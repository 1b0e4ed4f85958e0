"""The client's Today screen."""

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
    DosingStatus,
)
from kapjourney.domain.errors import AccessDenied
from kapjourney.domain.models import Clinic, Course, DosingSession
from kapjourney.domain.schemas import Actor, NextSessionView, TodayView
from kapjourney.services.clients import load_client
from kapjourney.services.formatting import when


def get_today(*, session: Session, actor: Actor) -> TodayView:
    if not actor.is_client:
        raise AccessDenied(
            "page", actor_id=actor.user_id, subject_client_id=None, target="today", ip=actor.ip
        )
    client = load_client(session, actor=actor, client_id=actor.user_id, purpose="today_viewed")
    clinic = session.get(Clinic, client.clinic_id)
    course = session.exec(
        select(Course).where(Course.client_id == client.id).order_by(Course.created_at.desc())
    ).first()
    nxt = session.exec(
        select(DosingSession)
        .where(
            DosingSession.client_id == client.id,
            DosingSession.status == DosingStatus.SCHEDULED,
            DosingSession.scheduled_at >= now(),
        )
        .order_by(DosingSession.scheduled_at)
    ).first()
    return TodayView(
        first_name=client.display_name.split(" ")[0],
        stage=COURSE_STATUS_LABELS[CourseStatus(course.status)] if course else "",
        local_date=local_today(client.timezone).strftime("%A %-d %B"),
        next_session=NextSessionView(
            number=nxt.number,
            planned=course.planned_sessions if course else nxt.number,
            when=when(nxt.scheduled_at, client.timezone),
            route=ROUTE_LABELS[DosingRoute(nxt.route)],
            setting=SETTING_LABELS[DosingSetting(nxt.setting)],
        )
        if nxt
        else None,
        clinic_name=clinic.name if clinic else "",
        clinic_phone=clinic.crisis_phone if clinic else "",
    )
