"""The account lifecycle: a clinic's team and client accounts, signed-in devices, deactivation.

An admin lists the clinic's staff and clients, sees and ends anyone's sign-ins, deactivates a
clinician (their sign-ins end at once, their clients and open alerts move to a successor in the
same transaction) or reactivates one, and resets a client's password by a new invite. Anyone
sees and ends their own sign-ins. Every refusal is "not found" and audited (``AccessDenied``);
every change is audited. Sessions are re-resolved on every event (ui/guard.py), so a revoked
sign-in or a deactivated account stops at its next event, background refreshes included.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import and_, or_, update
from sqlmodel import Session, func, select

from kapjourney.auth import sessions
from kapjourney.clock import now
from kapjourney.domain import models
from kapjourney.domain.enums import AlertStatus, Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    Alert,
    AuthSession,
    ClinicianAssignment,
    Invite,
    Notification,
    User,
)
from kapjourney.domain.reminders import ALERT_RAISED
from kapjourney.domain.schemas import Actor, InviteCreated
from kapjourney.domain.team_views import (
    ClientAccountRow,
    DeactivationResult,
    SessionRow,
    StaffRow,
    TeamView,
)
from kapjourney.routes import ALERTS
from kapjourney.services import audit, outbox
from kapjourney.services.accounts import INVITE_PATH, _new_invite
from kapjourney.services.clients import account_states, deny, fetch, load_client
from kapjourney.services.formatting import when
from kapjourney.services.reminders import device_label
from kapjourney.settings import Settings, get_settings

STAFF_ROLES = (Role.CLINICIAN, Role.ADMIN)
ACCOUNT_WORDS = {"active": "joined"}  # the caseload's "active" is a client who has joined


def _require_admin(actor: Actor, purpose: str) -> None:
    if actor.role != Role.ADMIN:
        raise deny(actor, purpose)


def _clinic_user(session: Session, actor: Actor, user_id: object, purpose: str) -> User:
    """A user of the actor's clinic whom the actor may manage: themself, or anyone for an admin."""
    user = fetch(session, User, user_id)
    if user is None or user.clinic_id != actor.clinic_id:
        raise deny(actor, purpose)
    if user.id != actor.user_id and actor.role != Role.ADMIN:
        raise deny(actor, purpose)
    return user


def _staff_member(session: Session, actor: Actor, user_id: object, purpose: str) -> User:
    _require_admin(actor, purpose)
    user = _clinic_user(session, actor, user_id, purpose)
    if user.role not in STAFF_ROLES:
        raise deny(actor, purpose)
    return user


def _live(query, at):
    return query.where(
        AuthSession.revoked_at.is_(None),
        AuthSession.idle_expires_at > at,
        or_(AuthSession.absolute_expires_at.is_(None), AuthSession.absolute_expires_at > at),
    )


def _record(session: Session, actor: Actor, action: str, user: User, detail: str = "") -> None:
    audit.record(
        session,
        action=action,
        actor_id=actor.user_id,
        subject_client_id=user.id if user.role == Role.CLIENT else None,
        target=f"user={user.id}",
        ip=actor.ip,
        detail=detail,
    )


def _second_factors(session: Session, ids: list[int]) -> dict[int, bool] | None:
    """Who has a confirmed authenticator; None when this build has no two-factor sign-in."""
    credential = getattr(models, "TotpCredential", None)
    if credential is None:
        return None
    rows = session.exec(
        select(credential.user_id).where(
            credential.user_id.in_(ids), credential.confirmed_at.is_not(None)
        )
    ).all()
    return dict.fromkeys(rows, True)


def _open_alerts(
    session: Session, clinic_id: int, assignments: list[tuple[int, int]]
) -> Counter[int]:
    """Open alerts in each staff member's care: assigned to them, or unassigned and about one of
    their clients (what a deactivation moves to the successor)."""
    carers: dict[int, list[int]] = defaultdict(list)
    for clinician, client in assignments:
        carers[client].append(clinician)
    counts: Counter[int] = Counter()
    for client_id, assigned in session.exec(
        select(Alert.client_id, Alert.assigned_to_id).where(
            Alert.clinic_id == clinic_id, Alert.status != AlertStatus.RESOLVED
        )
    ).all():
        counts.update([assigned] if assigned else carers.get(client_id, []))
    return counts


# --- The team page ------------------------------------------------------------------------------


def list_team(*, session: Session, actor: Actor, record: bool = True) -> TeamView:
    """The clinic's staff (active first) and its clients' accounts. Admins only. ``record``
    audits the read (the page's load; its refreshes after an action are not repeated)."""
    _require_admin(actor, "team_viewed")
    at = now()
    staff = session.exec(
        select(User)
        .where(User.clinic_id == actor.clinic_id, User.role.in_(STAFF_ROLES))
        .order_by(User.is_active.desc(), User.display_name)
    ).all()
    ids = [u.id for u in staff]
    live = dict(
        session.exec(
            _live(select(AuthSession.user_id, func.count()), at)
            .where(AuthSession.user_id.in_(ids))
            .group_by(AuthSession.user_id)
        ).all()
    )
    assignments = session.exec(
        select(ClinicianAssignment.clinician_id, ClinicianAssignment.client_id).where(
            ClinicianAssignment.clinician_id.in_(ids)
        )
    ).all()
    caseload = Counter(clinician for clinician, _ in assignments)
    alerts = _open_alerts(session, actor.clinic_id, assignments)
    factors = _second_factors(session, ids)
    staff_rows = [
        StaffRow(
            user_id=u.id or 0,
            name=u.display_name,
            email=u.email,
            role=str(u.role),
            active=u.is_active,
            last_sign_in=when(u.last_sign_in_at, actor.timezone, reference=at)
            if u.last_sign_in_at
            else "Never",
            sessions=live.get(u.id, 0),
            two_factor="" if factors is None else ("on" if factors.get(u.id) else "off"),
            clients=caseload.get(u.id, 0),
            open_alerts=alerts.get(u.id, 0),
            is_self=u.id == actor.user_id,
        )
        for u in staff
    ]
    clients = session.exec(
        select(User)
        .where(User.clinic_id == actor.clinic_id, User.role == Role.CLIENT)
        .order_by(User.display_name)
    ).all()
    states = account_states(session=session, actor=actor, client_ids=[c.id for c in clients])
    names = {u.id: u.display_name for u in staff}
    carers: dict[int, list[str]] = defaultdict(list)
    for clinician, client in assignments:
        if clinician in names:
            carers[client].append(names[clinician])
    client_rows = [
        ClientAccountRow(
            client_id=c.id or 0,
            name=c.display_name,
            email=c.email,
            account=ACCOUNT_WORDS.get(states.get(c.id, ""), states.get(c.id, "")),
            clinicians=", ".join(sorted(carers.get(c.id, []))),
        )
        for c in clients
    ]
    if record:
        audit.record(
            session,
            action="team_viewed",
            actor_id=actor.user_id,
            ip=actor.ip,
            detail=f"staff={len(staff_rows)} clients={len(client_rows)}",
        )
    return TeamView(staff=staff_rows, clients=client_rows)


# --- Signed-in devices --------------------------------------------------------------------------


def list_sessions(
    *, session: Session, actor: Actor, user_id: object = None, current_token: str | None = None
) -> list[SessionRow]:
    """Someone's live sign-ins, newest first: one's own (``user_id`` None or one's own id), or,
    for an admin, any user's of the clinic. ``current_token`` marks the caller's own device."""
    user = _clinic_user(
        session, actor, actor.user_id if user_id is None else user_id, "sessions_viewed"
    )
    at = now()
    rows = session.exec(
        _live(select(AuthSession), at)
        .where(AuthSession.user_id == user.id)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
    ).all()
    mine = sessions.hash_token(current_token) if current_token else ""
    if user.id != actor.user_id:
        _record(session, actor, "sessions_viewed", user, f"sessions={len(rows)}")
    return [
        SessionRow(
            session_id=row.id or 0,
            device=device_label(row.user_agent),
            ip=row.ip,
            started=when(row.created_at, actor.timezone, reference=at),
            last_seen=when(row.last_seen_at, actor.timezone, reference=at),
            this_device=bool(mine) and row.token_hash == mine,
            finished=getattr(row, "stage", "full") == "full",
        )
        for row in rows
    ]


def revoke_session(*, session: Session, actor: Actor, session_id: object) -> None:
    """End one sign-in: one's own, or (an admin) any of the clinic's users'."""
    row = fetch(session, AuthSession, session_id)
    if row is None:
        raise deny(actor, "session_revoked")
    user = _clinic_user(session, actor, row.user_id, "session_revoked")
    if row.revoked_at is None:
        row.revoked_at = now()
        session.add(row)
    _record(session, actor, "session_revoked", user, f"session={row.id}")


def sign_out_everywhere(*, session: Session, actor: Actor) -> int:
    """End every sign-in of the actor, this one included. Returns how many were live."""
    user = _clinic_user(session, actor, actor.user_id, "signed_out_everywhere")
    count = sessions.revoke_all_sessions(session, user_id=user.id or 0)
    _record(session, actor, "signed_out_everywhere", user, f"sessions={count}")
    return count


# --- Deactivation -------------------------------------------------------------------------------


def _other_active_admins(session: Session, actor: Actor, user: User) -> int:
    """Active admins of the clinic besides ``user``, their rows locked (PostgreSQL) so two
    admins deactivating each other at once cannot leave the clinic without one."""
    rows = session.exec(
        select(User.id)
        .where(
            User.clinic_id == actor.clinic_id,
            User.role == Role.ADMIN,
            User.is_active == True,  # noqa: E712
            User.id != user.id,
        )
        .with_for_update()
    ).all()
    return len(rows)


def _successor(session: Session, actor: Actor, user: User, successor_id: object) -> User | None:
    found = fetch(session, User, successor_id)
    if (
        found is None
        or found.id == user.id
        or found.role != Role.CLINICIAN
        or not found.is_active
        or found.clinic_id != actor.clinic_id
    ):
        return None
    return found


def _move_clients(session: Session, user: User, successor: User) -> set[int]:
    moved = set()
    theirs = session.exec(
        select(ClinicianAssignment.client_id).where(
            ClinicianAssignment.clinician_id == successor.id
        )
    ).all()
    for row in session.exec(
        select(ClinicianAssignment).where(ClinicianAssignment.clinician_id == user.id)
    ).all():
        moved.add(row.client_id)
        if row.client_id in theirs:
            session.delete(row)
        else:
            row.clinician_id = successor.id or 0
            session.add(row)
    session.flush()
    return moved


def _move_alerts(session: Session, user: User, successor: User, moved: set[int]) -> int:
    """Open alerts assigned to ``user``, and unassigned ones of the clients that move, become the
    successor's; each is pushed to the successor as a reassignment is (services.inbox)."""
    alerts = session.exec(
        select(Alert).where(
            Alert.status != AlertStatus.RESOLVED,
            or_(
                Alert.assigned_to_id == user.id,
                and_(Alert.client_id.in_(moved or {-1}), Alert.assigned_to_id.is_(None)),
            ),
        )
    ).all()
    at = now()
    for alert in alerts:
        alert.assigned_to_id = successor.id
        session.add(alert)
        outbox.enqueue(
            session,
            user_id=successor.id or 0,
            kind=ALERT_RAISED,
            slot=f"{alert.id}:to:{successor.id}",
            due_at=at,
            expires_at=at + outbox.ALERT_TTL,
            url=ALERTS,
        )
    return len(alerts)


def _has_work(session: Session, user: User) -> bool:
    clients = session.exec(
        select(ClinicianAssignment.id).where(ClinicianAssignment.clinician_id == user.id)
    ).first()
    alerts = session.exec(
        select(Alert.id).where(
            Alert.assigned_to_id == user.id, Alert.status != AlertStatus.RESOLVED
        )
    ).first()
    return clients is not None or alerts is not None


def deactivate_clinician(
    *, session: Session, actor: Actor, user_id: object, successor_id: object = None
) -> DeactivationResult:
    """Deactivate a staff member in one transaction: sign-ins (and remembered devices) end at
    once; their clients and open alerts move to ``successor_id`` (required when there are any);
    their queued notifications are dropped. Not oneself, never the clinic's last active admin."""
    user = _staff_member(session, actor, user_id, "clinician_deactivated")
    if user.id == actor.user_id:
        raise ValidationFailed({"form": "You cannot deactivate your own account."})
    if not user.is_active:
        raise ValidationFailed({"form": f"{user.display_name} is already deactivated."})
    if user.role == Role.ADMIN and _other_active_admins(session, actor, user) == 0:
        raise ValidationFailed({"form": "The clinic's last active admin cannot be deactivated."})
    successor = _successor(session, actor, user, successor_id)
    if successor is None and (successor_id not in (None, "", 0) or _has_work(session, user)):
        raise ValidationFailed(
            {"successor": "Choose an active clinician to take over their clients and alerts."}
        )
    moved: set[int] = set()
    alerts = 0
    if successor is not None:
        moved = _move_clients(session, user, successor)
        alerts = _move_alerts(session, user, successor, moved)
    user.is_active = False
    session.add(user)
    revoked = sessions.revoke_all_sessions(session, user_id=user.id or 0)
    session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.status == "pending")
        .values(status="skipped", outcome="account_deactivated")
    )
    _record(
        session,
        actor,
        "clinician_deactivated",
        user,
        f"successor={successor.id if successor else ''} clients={len(moved)} "
        f"alerts={alerts} sessions={revoked}",
    )
    return DeactivationResult(
        clients_moved=len(moved), alerts_moved=alerts, sessions_revoked=revoked
    )


def reactivate_clinician(*, session: Session, actor: Actor, user_id: object) -> None:
    """Let a deactivated staff member sign in again (their clients stay with the successor)."""
    user = _staff_member(session, actor, user_id, "clinician_reactivated")
    if user.is_active:
        raise ValidationFailed({"form": f"{user.display_name} is already active."})
    user.is_active = True
    session.add(user)
    _record(session, actor, "clinician_reactivated", user)


# --- Client password reset ----------------------------------------------------------------------


def reset_client_password(
    *, session: Session, actor: Actor, client_id: object, settings: Settings | None = None
) -> InviteCreated:
    """Clear a client's password, end their sign-ins and earlier links, and give a new one-time
    invite link through which they set a new password. Admins of the client's clinic only."""
    settings = settings or get_settings()
    _require_admin(actor, "client_password_reset")
    # The load is the audit row of the reset (action "client_password_reset", the client named).
    client = load_client(session, actor=actor, client_id=client_id, purpose="client_password_reset")
    if not client.is_active:
        raise ValidationFailed({"form": "This client's account is deactivated."})
    client.password_hash = None
    session.add(client)
    sessions.revoke_all_sessions(session, user_id=client.id or 0)
    stamp = now()
    for old in session.exec(
        select(Invite).where(
            Invite.user_id == client.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None)
        )
    ).all():
        old.revoked_at = stamp
        session.add(old)
    token, invite = _new_invite(session, user=client, created_by=actor.user_id, settings=settings)
    return InviteCreated(
        client_id=client.id or 0,
        email=client.email,
        display_name=client.display_name,
        path=f"{INVITE_PATH}#{token}",
        expires_at=invite.expires_at,
    )
