"""The account lifecycle (services.team): the team list, signed-in devices, signing out
everywhere, deactivating and reactivating staff, and resetting a client's password by a new
invite. Each function's way through, and its refusals: "not found", with an audit row."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions, signin
from kapjourney.domain.enums import AlertSeverity, AlertStatus, Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.models import (
    Alert,
    AuthSession,
    ClinicianAssignment,
    Invite,
    Notification,
    User,
)
from kapjourney.domain.schemas import InviteCreate
from kapjourney.services import accounts, alerts, team
from kapjourney.services.reminders import device_label
from kapjourney.services.uow import unit_of_work
from tests.conftest import PASSWORD
from tests.support import T0, audit_events

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "lantern orchard velvet"


def frozen(at=T0):
    return time_machine.travel(at, tick=False)


def call(work, actor, **kwargs):
    with frozen(), unit_of_work() as s:
        return work(session=s, actor=actor, **kwargs)


def sign_in_as(engine, user: User, user_agent: str = PHONE_UA, ip: str = "10.0.0.7") -> str:
    with frozen(), db.session_scope(engine) as s:
        return sessions.create_session(s, user=s.get(User, user.id), ip=ip, user_agent=user_agent)


def resolves(engine, token: str) -> bool:
    with frozen(T0 + timedelta(minutes=1)), db.session_scope(engine) as s:
        return sessions.resolve_session(s, token=token) is not None


def refused(engine, work, actor, target: str, **kwargs) -> None:
    """The call is "not found" and the refusal is in the audit log under ``target``."""
    before = len(audit_events(engine, "access_denied"))
    with pytest.raises(NotFound):
        call(work, actor, **kwargs)
    denials = audit_events(engine, "access_denied")
    assert len(denials) == before + 1
    assert (denials[-1].outcome, denials[-1].target, denials[-1].actor_id) == (
        "denied",
        target,
        actor.user_id,
    )


def raise_alert(engine, client_id: int, source_id: int, assigned_to: int | None = None) -> int:
    with frozen(), unit_of_work() as s:
        alert = alerts.raise_alert(
            s,
            client=s.get(User, client_id),
            severity=AlertSeverity.URGENT,
            reason_code="chest_pain",
            source_kind="symptom_report",
            source_id=source_id,
        )
        alert.assigned_to_id = assigned_to
        s.add(alert)
        s.flush()
        return alert.id


def add_staff(engine, name: str, email: str, role: Role, clinic_id: int, active=True) -> User:
    with db.session_scope(engine) as s:
        user = User(
            clinic_id=clinic_id,
            role=role,
            email=email,
            display_name=name,
            timezone="America/New_York",
            is_active=active,
        )
        s.add(user)
        s.flush()
        return user


# --- The team list ------------------------------------------------------------------------------


def test_an_admin_sees_the_clinics_staff_and_client_accounts(engine, personas):
    sign_in_as(engine, personas.clinician)
    sign_in_as(engine, personas.clinician, IPHONE_UA)
    with frozen(), unit_of_work() as s:
        accounts.create_invite(
            session=s,
            actor=personas.actor("admin"),
            data=InviteCreate(display_name="Nia New", email="nia@test.example"),
        )
    view = call(team.list_team, personas.actor("admin"))
    staff = {row.email: row for row in view.staff}
    assert set(staff) == {"cleo@test.example", "uma@test.example", "ari@test.example"}
    cleo = staff["cleo@test.example"]
    assert (cleo.role, cleo.active, cleo.sessions, cleo.clients, cleo.is_self) == (
        "clinician",
        True,
        2,
        1,
        False,
    )
    assert cleo.last_sign_in == "Never"
    assert cleo.two_factor in ("", "off")  # "" until two-factor sign-in is in the build
    assert staff["ari@test.example"].is_self
    clients = {row.email: (row.account, row.clinicians) for row in view.clients}
    assert clients == {
        "ada@test.example": ("joined", "Cleo Clinician"),
        "otto@test.example": ("joined", "Uma Unassigned"),
        "nia@test.example": ("invited", ""),
    }
    [event] = audit_events(engine, "team_viewed")
    assert event.detail == "staff=3 clients=3"


@pytest.mark.parametrize("who", ["client", "clinician"])
def test_only_an_admin_lists_the_team(engine, personas, who):
    refused(engine, team.list_team, personas.actor(who), "team_viewed")


def test_another_clinics_admin_sees_only_their_own_clinic(engine, personas):
    view = call(team.list_team, personas.actor("foreign_admin"))
    assert [row.email for row in view.staff] == ["zed@test.example"] and view.clients == []


# --- Signed-in devices --------------------------------------------------------------------------


def test_a_user_sees_their_live_sign_ins_and_which_is_this_device(engine, personas):
    here = sign_in_as(engine, personas.client)
    sign_in_as(engine, personas.client, IPHONE_UA, ip="10.0.0.9")
    gone = sign_in_as(engine, personas.client)
    with frozen(), db.session_scope(engine) as s:
        sessions.revoke_session(s, token=gone)
    rows = call(team.list_sessions, personas.actor("client"), current_token=here)
    assert sorted((r.device, r.ip, r.this_device) for r in rows) == [
        ("Chrome on Android", "10.0.0.7", True),
        ("Safari on iPhone", "10.0.0.9", False),
    ]
    assert all(r.finished and r.started.startswith("Today") for r in rows)
    with frozen(T0 + timedelta(days=31)), unit_of_work() as s:  # idle past 30 days: expired
        assert team.list_sessions(session=s, actor=personas.actor("client")) == []
    assert audit_events(engine, "sessions_viewed") == []  # one's own list is not audited


def test_an_admin_sees_a_clinic_users_sign_ins_and_it_is_audited(engine, personas):
    sign_in_as(engine, personas.clinician)
    rows = call(team.list_sessions, personas.actor("admin"), user_id=personas.clinician.id)
    assert [(r.device, r.this_device) for r in rows] == [("Chrome on Android", False)]
    [event] = audit_events(engine, "sessions_viewed")
    assert (event.actor_id, event.target) == (personas.admin.id, f"user={personas.clinician.id}")


@pytest.mark.parametrize(
    "who, whose",
    [
        ("clinician", "other_clinician"),
        ("client", "other_client"),
        ("clinician", "client"),
        ("foreign_admin", "clinician"),
        ("admin", None),  # an id that names no one
    ],
)
def test_nobody_else_sees_someones_sign_ins(engine, personas, who, whose):
    user_id = getattr(personas, whose).id if whose else 999_999
    refused(engine, team.list_sessions, personas.actor(who), "sessions_viewed", user_id=user_id)


def test_one_sign_in_is_ended_by_its_owner_or_an_admin_at_once(engine, personas):
    phone = sign_in_as(engine, personas.clinician)
    laptop = sign_in_as(engine, personas.clinician, IPHONE_UA)
    ids = {
        r.device: r.session_id
        for r in call(team.list_sessions, personas.actor("clinician"), current_token=phone)
    }
    call(team.revoke_session, personas.actor("admin"), session_id=ids["Safari on iPhone"])
    assert not resolves(engine, laptop) and resolves(engine, phone)
    call(team.revoke_session, personas.actor("clinician"), session_id=ids["Chrome on Android"])
    assert not resolves(engine, phone)
    events = audit_events(engine, "session_revoked")
    assert [e.actor_id for e in events] == [personas.admin.id, personas.clinician.id]


@pytest.mark.parametrize("who", ["other_clinician", "client", "foreign_admin"])
def test_nobody_else_ends_someones_sign_in(engine, personas, who):
    token = sign_in_as(engine, personas.clinician)
    with db.session_scope(engine) as s:
        session_id = s.exec(select(AuthSession.id)).one()
    refused(
        engine, team.revoke_session, personas.actor(who), "session_revoked", session_id=session_id
    )
    refused(engine, team.revoke_session, personas.actor(who), "session_revoked", session_id="1")
    assert resolves(engine, token)


def test_signing_out_everywhere_ends_every_sign_in_this_one_included(engine, personas):
    tokens = [sign_in_as(engine, personas.client) for _ in range(3)]
    other = sign_in_as(engine, personas.other_client)
    assert call(team.sign_out_everywhere, personas.actor("client")) == 3
    assert [resolves(engine, t) for t in tokens] == [False, False, False]
    assert resolves(engine, other)
    [event] = audit_events(engine, "signed_out_everywhere")
    assert (event.actor_id, event.detail) == (personas.client.id, "sessions=3")


# --- Deactivation -------------------------------------------------------------------------------


def test_deactivating_moves_clients_and_open_alerts_and_ends_sign_ins_at_once(engine, personas):
    cleo, uma = personas.clinician, personas.other_clinician
    token = sign_in_as(engine, cleo)
    unassigned = raise_alert(engine, personas.client.id, 1)
    handed_to_cleo = raise_alert(engine, personas.other_client.id, 2, assigned_to=cleo.id)
    resolved = raise_alert(engine, personas.client.id, 3)
    with db.session_scope(engine) as s:
        done = s.get(Alert, resolved)
        done.status = AlertStatus.RESOLVED
        s.add(done)
    in_care = {
        r.user_id: r.open_alerts for r in call(team.list_team, personas.actor("admin")).staff
    }
    assert (in_care[cleo.id], in_care[uma.id]) == (2, 0)
    result = call(
        team.deactivate_clinician, personas.actor("admin"), user_id=cleo.id, successor_id=uma.id
    )
    assert (result.clients_moved, result.alerts_moved, result.sessions_revoked) == (1, 2, 1)
    assert not resolves(engine, token)
    with db.session_scope(engine) as s:
        assert s.get(User, cleo.id).is_active is False
        carers = s.exec(
            select(ClinicianAssignment.clinician_id, ClinicianAssignment.client_id)
        ).all()
        assert sorted(carers) == sorted(
            [(uma.id, personas.client.id), (uma.id, personas.other_client.id)]
        )
        assert s.get(Alert, unassigned).assigned_to_id == uma.id
        assert s.get(Alert, handed_to_cleo).assigned_to_id == uma.id
        assert s.get(Alert, resolved).assigned_to_id is None
        assert s.exec(select(Notification.status).where(Notification.user_id == cleo.id)).all()
        assert set(
            s.exec(select(Notification.status).where(Notification.user_id == cleo.id)).all()
        ) == {"skipped"}  # what was queued for her is not sent
        pushed = s.exec(
            select(Notification.slot).where(
                Notification.user_id == uma.id, Notification.slot.like("%:to:%")
            )
        ).all()
        assert sorted(pushed) == sorted(
            [f"{unassigned}:to:{uma.id}", f"{handed_to_cleo}:to:{uma.id}"]
        )
    [event] = audit_events(engine, "clinician_deactivated")
    assert (event.actor_id, event.target) == (personas.admin.id, f"user={cleo.id}")
    assert event.detail == f"successor={uma.id} clients=1 alerts=2 sessions=1"
    with frozen(), db.session_scope(engine) as s:  # and her password no longer signs her in
        outcome = signin.authenticate(session=s, email=cleo.email, password=PASSWORD)
    assert outcome.errors and not outcome.token


def test_a_successor_is_needed_when_there_is_work_and_must_be_an_active_clinician(engine, personas):
    admin = personas.actor("admin")
    cleo = personas.clinician
    gone = add_staff(engine, "Gil Gone", "gil@test.example", Role.CLINICIAN, cleo.clinic_id, False)
    for successor in (None, personas.client.id, gone.id, cleo.id, personas.foreign_admin.id, "x"):
        with pytest.raises(ValidationFailed) as problem:
            call(team.deactivate_clinician, admin, user_id=cleo.id, successor_id=successor)
        assert set(problem.value.fields) == {"successor"}
    with db.session_scope(engine) as s:
        assert s.get(User, cleo.id).is_active
    # Without clients or alerts no successor is needed.
    idle = add_staff(engine, "Ivy Idle", "ivy@test.example", Role.CLINICIAN, cleo.clinic_id)
    assert call(team.deactivate_clinician, admin, user_id=idle.id).clients_moved == 0


def test_an_admin_cannot_deactivate_themself_nor_the_last_active_admin(engine, personas):
    ari = personas.admin
    with pytest.raises(ValidationFailed, match="your own account"):
        call(team.deactivate_clinician, personas.actor("admin"), user_id=ari.id)
    bea = add_staff(engine, "Bea Admin", "bea@test.example", Role.ADMIN, ari.clinic_id)
    call(team.deactivate_clinician, personas.actor("admin"), user_id=bea.id)
    call(team.reactivate_clinician, personas.actor("admin"), user_id=bea.id)
    # Ari is deactivated meanwhile (another admin's tab, a stale actor): Bea is the last one.
    with db.session_scope(engine) as s:
        s.get(User, ari.id).is_active = False
    with pytest.raises(ValidationFailed, match="last active admin"):
        call(team.deactivate_clinician, personas.actor("admin"), user_id=bea.id)
    with db.session_scope(engine) as s:
        assert s.get(User, bea.id).is_active


@pytest.mark.parametrize(
    "who, target",
    [
        ("client", "other_clinician"),
        ("clinician", "other_clinician"),
        ("foreign_admin", "other_clinician"),
        ("admin", "client"),  # a client is not staff
        ("admin", None),
    ],
)
def test_only_the_clinics_admin_deactivates_or_reactivates_staff(engine, personas, who, target):
    user_id = getattr(personas, target).id if target else 999_999
    actor = personas.actor(who)
    refused(engine, team.deactivate_clinician, actor, "clinician_deactivated", user_id=user_id)
    refused(engine, team.reactivate_clinician, actor, "clinician_reactivated", user_id=user_id)
    with db.session_scope(engine) as s:
        assert all(u.is_active for u in s.exec(select(User)).all())


def test_a_reactivated_clinician_signs_in_again(engine, personas, settings):
    uma = personas.other_clinician
    call(
        team.deactivate_clinician,
        personas.actor("admin"),
        user_id=uma.id,
        successor_id=personas.clinician.id,
    )
    with pytest.raises(ValidationFailed):
        call(team.deactivate_clinician, personas.actor("admin"), user_id=uma.id)
    call(team.reactivate_clinician, personas.actor("admin"), user_id=uma.id)
    with pytest.raises(ValidationFailed, match="already active"):
        call(team.reactivate_clinician, personas.actor("admin"), user_id=uma.id)
    with frozen(), db.session_scope(engine) as s:
        outcome = signin.authenticate(
            session=s, email=uma.email, password=PASSWORD, settings=settings
        )
    assert outcome.token and not outcome.errors
    assert [e.action for e in audit_events(engine) if e.action.startswith("clinician_")] == [
        "clinician_deactivated",
        "clinician_reactivated",
    ]


# --- Client password reset ----------------------------------------------------------------------


def test_a_password_reset_ends_the_old_password_and_the_new_invite_sets_a_new_one(
    engine, personas, settings
):
    ada = personas.client
    token = sign_in_as(engine, ada)
    created = call(team.reset_client_password, personas.actor("admin"), client_id=ada.id)
    assert created.path.startswith("/invite#") and created.email == ada.email
    assert not resolves(engine, token)
    with frozen(), db.session_scope(engine) as s:
        old = signin.authenticate(session=s, email=ada.email, password=PASSWORD, settings=settings)
    assert old.errors and not old.token
    # A second reset: the first link stops working.
    first = created.path.partition("#")[2]
    created = call(team.reset_client_password, personas.actor("admin"), client_id=ada.id)
    second = created.path.partition("#")[2]
    with frozen(), db.session_scope(engine) as s:
        assert accounts.invite_status(session=s, token=first).state == "unknown"
        assert accounts.invite_status(session=s, token=second).state == "valid"
        session_token = accounts.accept_invite(
            session=s, token=second, password=NEW_PASSWORD, confirm=NEW_PASSWORD
        )
    assert resolves(engine, session_token)
    with frozen(), db.session_scope(engine) as s:
        new = signin.authenticate(
            session=s, email=ada.email, password=NEW_PASSWORD, settings=settings
        )
        assert new.token and not new.errors
        assert len(s.exec(select(Invite).where(Invite.user_id == ada.id)).all()) == 2
    events = audit_events(engine, "client_password_reset")
    assert [(e.actor_id, e.subject_client_id) for e in events] == [(personas.admin.id, ada.id)] * 2


def test_reissuing_an_invite_still_refuses_a_client_who_has_joined(engine, personas):
    with pytest.raises(ValidationFailed, match="already joined"):
        call(accounts.reissue_invite, personas.actor("admin"), client_id=personas.client.id)
    call(team.reset_client_password, personas.actor("admin"), client_id=personas.client.id)
    # After a reset the client has no password: a fresh link may be reissued as for a newcomer.
    assert call(accounts.reissue_invite, personas.actor("admin"), client_id=personas.client.id)


@pytest.mark.parametrize(
    "who, target",
    [
        ("client", "client"),
        ("clinician", "client"),  # her own client: still an admin's step
        ("foreign_admin", "client"),
        ("admin", "clinician"),  # staff are not reset this way
        ("admin", None),
    ],
)
def test_only_the_clinics_admin_resets_a_clients_password(engine, personas, who, target):
    client_id = getattr(personas, target).id if target else 999_999
    refused(
        engine,
        team.reset_client_password,
        personas.actor(who),
        "client_password_reset",
        client_id=client_id,
    )
    with db.session_scope(engine) as s:
        assert s.get(User, personas.client.id).password_hash
        assert s.exec(select(Invite)).all() == []


# --- Device names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "agent, label",
    [
        (PHONE_UA, "Chrome on Android"),
        (IPHONE_UA, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5; rv:127.0) Gecko/20100101 Firefox/127.0",
            "Firefox on Mac",
        ),
        ("", "Browser"),
    ],
)
def test_a_device_is_named_from_its_user_agent(agent, label):
    assert device_label(agent) == label
