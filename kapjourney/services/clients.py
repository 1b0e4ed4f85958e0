"""Reading clients: the scoped loader every client-data service goes through, and the caseload."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import exists
from sqlmodel import Session, func, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import COURSE_STATUS_LABELS, CourseStatus, DosingStatus, Role
from kapjourney.domain.errors import AccessDenied
from kapjourney.domain.models import ClinicianAssignment, Course, DosingSession, Invite, User
from kapjourney.domain.policies import can_access_client
from kapjourney.domain.schemas import Actor, ClientRow
from kapjourney.services import audit
from kapjourney.services.formatting import when
from kapjourney.services.validation import MAX_ID

T = TypeVar("T")


def _is_assigned(session: Session, clinician_id: int, client_id: int) -> bool:
    return bool(
        session.exec(
            select(
                exists().where(
                    ClinicianAssignment.clinician_id == clinician_id,
                    ClinicianAssignment.client_id == client_id,
                )
            )
        ).one()
    )


def fetch(session: Session, model: type[T], record: object) -> T | None:
    """The row with id ``record``; None for anything that is not a plausible id (never a query
    with a string, a bool or an out-of-range number, so hostile ids cannot cause a 500)."""
    valid = type(record) is int and 0 < record < MAX_ID
    return session.get(model, record) if valid else None


def load_client(session: Session, *, actor: Actor, client_id: object, purpose: str) -> User:
    """The client row if ``actor`` may reach it; otherwise ``AccessDenied`` (seen as not found).

    Reads by anyone but the client themself are audited with ``purpose`` as the action.
    """
    client = fetch(session, User, client_id)
    allowed = (
        client is not None
        and client.role == Role.CLIENT
        and can_access_client(
            actor,
            client_id=client.id or 0,
            client_clinic_id=client.clinic_id,
            assigned=actor.role == Role.CLINICIAN
            and _is_assigned(session, actor.user_id, client.id or 0),
        )
    )
    if not allowed or client is None:
        raise AccessDenied(
            "client",
            actor_id=actor.user_id,
            subject_client_id=client.id if client is not None else None,  # never echo bad ids
            target=purpose,
            ip=actor.ip,
        )
    if actor.user_id != client.id:
        audit.record(
            session,
            action=purpose,
            actor_id=actor.user_id,
            subject_client_id=client.id,
            ip=actor.ip,
        )
    return client


def deny(actor: Actor, target: str) -> AccessDenied:
    """The denial for a request that names no reachable client (wrong role or unknown record)."""
    return AccessDenied(
        target, actor_id=actor.user_id, subject_client_id=None, target=target, ip=actor.ip
    )


def own_or(actor: Actor, client_id: object, purpose: str) -> object:
    """The client a request is about: a client actor may name only themself (or no one)."""
    if not actor.is_client:
        return client_id
    if client_id is not None and client_id != actor.user_id:
        raise deny(actor, purpose)
    return actor.user_id


def load_client_for_staff(
    session: Session, *, actor: Actor, client_id: object, purpose: str
) -> User:
    """``load_client`` for care-team-only actions: a client actor is denied even for themself."""
    if not actor.is_staff:
        raise deny(actor, purpose)
    return load_client(session, actor=actor, client_id=client_id, purpose=purpose)


def visible_clients_query(actor: Actor):
    """SELECT of the client users ``actor`` may see (none for a client actor)."""
    query = select(User).where(User.role == Role.CLIENT, User.clinic_id == actor.clinic_id)
    if actor.role == Role.CLINICIAN:
        query = query.join(
            ClinicianAssignment,
            (ClinicianAssignment.client_id == User.id)
            & (ClinicianAssignment.clinician_id == actor.user_id),
        )
    elif actor.role != Role.ADMIN:
        query = query.where(User.id == -1)
    return query


def list_clients(*, session: Session, actor: Actor) -> list[ClientRow]:
    """The caseload: assigned clients for a clinician, the whole clinic for an admin."""
    if actor.is_client:
        raise AccessDenied(
            "page",
            actor_id=actor.user_id,
            subject_client_id=None,
            target="client_list",
            ip=actor.ip,
        )
    clients = session.exec(visible_clients_query(actor).order_by(User.display_name)).all()
    ids = [c.id for c in clients]
    courses = {
        c.client_id: c
        for c in session.exec(
            select(Course).where(Course.client_id.in_(ids)).order_by(Course.created_at)
        ).all()
    }
    done = dict(
        session.exec(
            select(DosingSession.client_id, func.count())
            .where(DosingSession.client_id.in_(ids), DosingSession.status == DosingStatus.COMPLETED)
            .group_by(DosingSession.client_id)
        ).all()
    )
    upcoming: dict[int, DosingSession] = {}
    for row in session.exec(
        select(DosingSession)
        .where(
            DosingSession.client_id.in_(ids),
            DosingSession.status == DosingStatus.SCHEDULED,
            DosingSession.scheduled_at >= now(),
        )
        .order_by(DosingSession.scheduled_at)
    ).all():
        upcoming.setdefault(row.client_id, row)
    pending_invites = {
        inv.user_id: inv
        for inv in session.exec(
            select(Invite).where(
                Invite.user_id.in_(ids),
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
            )
        ).all()
    }
    from kapjourney.services.readiness import session_readiness  # readiness builds on this module

    rows = []
    at = now()
    for client in clients:
        course = courses.get(client.id)
        nxt = upcoming.get(client.id)
        light = session_readiness(session, client, nxt, at=at, for_client=False) if nxt else None
        rows.append(
            ClientRow(
                client_id=client.id or 0,
                display_name=client.display_name,
                email=client.email,
                stage=COURSE_STATUS_LABELS[CourseStatus(course.status)] if course else "No course",
                sessions_done=done.get(client.id, 0),
                sessions_planned=course.planned_sessions if course else 0,
                next_session=when(nxt.scheduled_at, actor.timezone) if nxt else "",
                account=_account_state(client, pending_invites.get(client.id)),
                readiness=light.level if light else "",
                readiness_label=light.label if light else "",
                blocking_reasons=sum(r.blocking for r in light.reasons) if light else 0,
            )
        )
    audit.record(
        session,
        action="client_list_viewed",
        actor_id=actor.user_id,
        ip=actor.ip,
        detail=f"rows={len(rows)}",
    )
    return rows


def _account_state(client: User, invite: Invite | None) -> str:
    if not client.is_active:
        return "deactivated"
    if client.password_hash:
        return "active"
    if invite is not None and as_utc(invite.expires_at) > now():
        return "invited"
    return "invite expired"


# --- Account states for the caseload dashboard (issue 6, item 2; ui/pages/clients) -----------


def account_states(*, session: Session, actor: Actor, client_ids: list[int]) -> dict[int, str]:
    """The account state of each of ``client_ids`` the actor may see ("active", "invited",
    "invite expired", "deactivated"); ids out of reach are left out. One page at a time."""
    ids = [i for i in client_ids if type(i) is int and 0 < i < MAX_ID][:100]
    if actor.is_client or not ids:
        return {}
    clients = session.exec(visible_clients_query(actor).where(User.id.in_(ids))).all()
    pending = {
        inv.user_id: inv
        for inv in session.exec(
            select(Invite).where(
                Invite.user_id.in_(ids), Invite.used_at.is_(None), Invite.revoked_at.is_(None)
            )
        ).all()
    }
    return {c.id: _account_state(c, pending.get(c.id)) for c in clients if c.id is not None}
