"""Gathers the facts for the readiness gate (``domain.readiness``) and words the result."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import DosingStatus, Readiness
from kapjourney.domain.models import DosingSession, User
from kapjourney.domain.readiness import GateFacts, Limits, StepFact, evaluate
from kapjourney.domain.schemas import Actor, ReadinessView, ReasonView
from kapjourney.services import alerts, consent, screening
from kapjourney.services.checklists import items_for, load_dosing, vitals_of
from kapjourney.services.protocol import protocol_for

LABELS = {
    Readiness.GREEN: "Ready",
    Readiness.AMBER: "On track",
    Readiness.RED: "Not ready",
}


def _last_completed_before(session: Session, dosing: DosingSession) -> DosingSession | None:
    return session.exec(
        select(DosingSession)
        .where(
            DosingSession.client_id == dosing.client_id,
            DosingSession.status == DosingStatus.COMPLETED,
            DosingSession.scheduled_at < dosing.scheduled_at,
        )
        .order_by(DosingSession.scheduled_at.desc())
    ).first()


def gate_facts(session: Session, client: User, dosing: DosingSession) -> GateFacts:
    protocol = protocol_for(session, client.clinic_id)
    state, _, _ = consent.consent_state(session, client)
    complete, reviewed, reviewed_at = screening.screening_status(session, client)
    last = _last_completed_before(session, dosing)
    lapsed = last is not None and as_utc(dosing.scheduled_at) - as_utc(
        last.scheduled_at
    ) > timedelta(days=protocol.lapse_days)
    rescreened = (
        last is not None
        and reviewed
        and reviewed_at is not None
        and reviewed_at > as_utc(last.scheduled_at)
    )
    steps = tuple(
        StepFact(
            key=i.key,
            label=i.label,
            required=i.required,
            due_at=as_utc(i.due_at),
            done=i.done_at is not None,
            vitals=vitals_of(i),
        )
        for i in items_for(session, dosing.id or 0)
    )
    return GateFacts(
        consent=state,
        screening_complete=complete,
        screening_reviewed=reviewed,
        lapsed_days=protocol.lapse_days if lapsed else None,
        rescreened_since_last=rescreened,
        open_urgent_alerts=alerts.open_blocking_count(session, client.id or 0),
        steps=steps,
        limits=Limits(protocol.bp_systolic_max, protocol.bp_diastolic_max, protocol.pulse_max),
    )


def session_readiness(
    session: Session, client: User, dosing: DosingSession, *, at: datetime, for_client: bool = True
) -> ReadinessView:
    level, reasons = evaluate(gate_facts(session, client, dosing), at=at)
    return ReadinessView(
        level=level,
        label=LABELS[level],
        reasons=[
            ReasonView(code=r.code, text=r.client if for_client else r.staff, blocking=r.blocking)
            for r in reasons
        ],
    )


def get_readiness(*, session: Session, actor: Actor, dosing_session_id: object) -> ReadinessView:
    dosing, client = load_dosing(
        session, actor=actor, dosing_session_id=dosing_session_id, purpose="readiness_viewed"
    )
    return session_readiness(session, client, dosing, at=now(), for_client=actor.is_client)
