"""Who may reach which client, through the services, with the standing personas."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import now
from kapjourney.domain.enums import DosingRoute, DosingSetting, Role
from kapjourney.domain.errors import AccessDenied, ValidationFailed
from kapjourney.domain.models import Course, DosingSession, Invite
from kapjourney.domain.schemas import InviteCreate
from kapjourney.services import accounts, clients, today
from kapjourney.services.uow import unit_of_work
from tests.support import audit_events, count

PERSONAS = ["client", "clinician", "other_clinician", "other_client", "admin", "foreign_admin"]
TARGETS = ["client", "other_client"]
ALLOWED = {
    ("client", "client"),
    ("other_client", "other_client"),
    ("clinician", "client"),
    ("other_clinician", "other_client"),
    ("admin", "client"),
    ("admin", "other_client"),
}
PAIRS = list(itertools.product(PERSONAS, TARGETS))
DENIED = [pair for pair in PAIRS if pair not in ALLOWED]
MISSING_ID = 987_654


def _load(session, personas, who: str, client_id: object, purpose: str = "client_viewed"):
    return clients.load_client(
        session, actor=personas.actor(who), client_id=client_id, purpose=purpose
    )


def _missing_message(engine, personas, who: str) -> str:
    with db.session_scope(engine) as s, pytest.raises(AccessDenied) as raised:
        _load(s, personas, who, MISSING_ID)
    return str(raised.value)


# --- list_clients --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("clinician", ["client"]),
        ("other_clinician", ["other_client"]),
        ("admin", ["client", "other_client"]),
        ("foreign_admin", []),
    ],
)
def test_the_caseload_holds_exactly_the_clients_in_reach(engine, personas, who, expected):
    with db.session_scope(engine) as s:
        rows = clients.list_clients(session=s, actor=personas.actor(who))
    assert [r.client_id for r in rows] == [getattr(personas, name).id for name in expected]
    [event] = audit_events(engine, "client_list_viewed")
    assert (event.actor_id, event.detail) == (getattr(personas, who).id, f"rows={len(expected)}")


def test_the_caseload_describes_each_client(engine, personas):
    with db.session_scope(engine) as s:
        [row] = clients.list_clients(session=s, actor=personas.actor("clinician"))
    assert (
        row.display_name,
        row.email,
        row.stage,
        row.sessions_done,
        row.sessions_planned,
        row.next_session,
        row.account,
    ) == ("Ada Client", "ada@test.example", "Preparation", 0, 6, "", "active")


@pytest.mark.parametrize("who", ["client", "other_client"])
def test_a_client_cannot_list_clients(engine, personas, who):
    with pytest.raises(AccessDenied), unit_of_work() as s:
        clients.list_clients(session=s, actor=personas.actor(who))
    [event] = audit_events(engine)
    assert (event.action, event.actor_id, event.target, event.subject_client_id) == (
        "access_denied",
        getattr(personas, who).id,
        "client_list",
        None,
    )


def test_the_caseload_never_leaks_a_client_invited_elsewhere(engine, personas):
    with db.session_scope(engine) as s:
        accounts.create_invite(
            session=s,
            actor=personas.actor("foreign_admin"),
            data=InviteCreate(display_name="Far Away", email="far@x.example"),
        )
    with db.session_scope(engine) as s:
        admin_rows = clients.list_clients(session=s, actor=personas.actor("admin"))
        foreign_rows = clients.list_clients(session=s, actor=personas.actor("foreign_admin"))
    assert "far@x.example" not in {r.email for r in admin_rows}
    assert [(r.email, r.account) for r in foreign_rows] == [("far@x.example", "invited")]


# --- load_client ---------------------------------------------------------------------------------


def test_the_matrix_covers_every_persona_and_target():
    assert set(PAIRS) >= ALLOWED
    assert len(DENIED) == len(PAIRS) - len(ALLOWED) == 6


@pytest.mark.parametrize(("who", "target"), sorted(ALLOWED))
def test_allowed_readers_get_the_client_and_staff_reads_are_audited(engine, personas, who, target):
    actor_id, client_id = getattr(personas, who).id, getattr(personas, target).id
    with unit_of_work() as s:
        client = _load(s, personas, who, client_id)
    assert (client.id, client.role) == (client_id, Role.CLIENT)
    reads = audit_events(engine, "client_viewed")
    if actor_id == client_id:
        assert reads == []  # a client reading themself is not an access to audit
    else:
        assert [(e.actor_id, e.subject_client_id, e.outcome) for e in reads] == [
            (actor_id, client_id, "ok")
        ]
    assert audit_events(engine, "access_denied") == []


@pytest.mark.parametrize(("who", "target"), DENIED)
def test_denied_readers_see_not_found_and_the_denial_is_audited(engine, personas, who, target):
    actor_id, client_id = getattr(personas, who).id, getattr(personas, target).id
    missing = _missing_message(engine, personas, who)
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        _load(s, personas, who, client_id)
    assert str(raised.value) == missing
    assert raised.value.what == "client"
    [event] = audit_events(engine)
    assert (event.action, event.outcome, event.actor_id, event.subject_client_id, event.target) == (
        "access_denied",
        "denied",
        actor_id,
        client_id,
        "client_viewed",
    )


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("target", ["clinician", "admin", "foreign_admin"])
def test_nobody_loads_a_staff_member_as_a_client(engine, personas, who, target):
    with pytest.raises(AccessDenied) as raised, db.session_scope(engine) as s:
        _load(s, personas, who, getattr(personas, target).id)
    assert str(raised.value) == _missing_message(engine, personas, who)


BAD_IDS = {
    "str": lambda p: str(p.client.id),
    "float": lambda p: float(p.client.id),
    "bool": lambda p: True,
    "none": lambda p: None,
    "list": lambda p: [p.client.id],
    "dict": lambda p: {"id": p.client.id},
    "negative": lambda p: -1,
    "zero": lambda p: 0,
    "missing": lambda p: MISSING_ID,
}


@pytest.mark.parametrize("kind", list(BAD_IDS))
def test_ids_that_are_not_positive_ints_of_a_client_are_refused_like_missing_ones(
    engine, personas, kind
):
    bad_id = BAD_IDS[kind](personas)
    missing = _missing_message(engine, personas, "admin")
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        _load(s, personas, "admin", bad_id)
    assert str(raised.value) == missing
    [event] = audit_events(engine)
    assert (event.action, event.actor_id, event.subject_client_id) == (
        "access_denied",
        personas.admin.id,
        None,
    )


# Regression guard: ids between 2**31 and 2**63 used to reach PostgreSQL (INTEGER is int4) and
# raise DataError instead of AccessDenied, skipping the access_denied audit row. Fixed in
# services/clients.py by MAX_ID = 2**31.
@pytest.mark.parametrize(
    "bad_id",
    [2**31, 10**12, 2**63, 10**20],
    ids=["int32_overflow", "ten_to_the_12", "int64_overflow", "ten_to_the_20"],
)
def test_ids_beyond_the_id_column_are_refused_like_missing_ones(engine, personas, bad_id):
    missing = _missing_message(engine, personas, "admin")
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        _load(s, personas, "admin", bad_id)
    assert str(raised.value) == missing
    [event] = audit_events(engine)
    assert (event.action, event.subject_client_id) == ("access_denied", None)


# --- today ---------------------------------------------------------------------------------------


def test_a_client_sees_her_own_today(engine, personas):
    with db.session_scope(engine) as s:
        view = today.get_today(session=s, actor=personas.actor("client"))
    assert (view.first_name, view.stage, view.clinic_name, view.next_session) == (
        "Ada",
        "Preparation",
        "Test Clinic",
        None,
    )
    assert audit_events(engine) == []


def test_today_shows_the_next_scheduled_session(engine, personas):
    with db.session_scope(engine) as s:
        course = s.exec(select(Course).where(Course.client_id == personas.client.id)).one()
        s.add(
            DosingSession(
                course_id=course.id,
                client_id=personas.client.id,
                number=1,
                scheduled_at=now() + timedelta(days=2),
                route=DosingRoute.NASAL_SPRAY,
                setting=DosingSetting.AT_HOME,
            )
        )
    with db.session_scope(engine) as s:
        view = today.get_today(session=s, actor=personas.actor("client"))
    assert view.next_session is not None
    assert (
        view.next_session.number,
        view.next_session.planned,
        view.next_session.route,
        view.next_session.setting,
    ) == (1, 6, "Nasal spray", "At home")


@pytest.mark.parametrize("who", ["clinician", "other_clinician", "admin", "foreign_admin"])
def test_staff_have_no_today_screen(engine, personas, who):
    with pytest.raises(AccessDenied), unit_of_work() as s:
        today.get_today(session=s, actor=personas.actor(who))
    [event] = audit_events(engine)
    assert (event.action, event.actor_id, event.target) == (
        "access_denied",
        getattr(personas, who).id,
        "today",
    )


# --- reissue_invite ------------------------------------------------------------------------------


@pytest.fixture
def invitee(engine, personas) -> int:
    with db.session_scope(engine) as s:
        created = accounts.create_invite(
            session=s,
            actor=personas.actor("clinician"),
            data=InviteCreate(display_name="Ivy Invitee", email="ivy@test.example"),
        )
    return created.client_id


@pytest.mark.parametrize("who", ["client", "other_client", "other_clinician", "foreign_admin"])
def test_only_the_clients_own_staff_may_reissue_her_invite(engine, personas, invitee, who):
    invites_before = count(engine, Invite)
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        accounts.reissue_invite(session=s, actor=personas.actor(who), client_id=invitee)
    assert str(raised.value) == _missing_message(engine, personas, who)
    assert count(engine, Invite) == invites_before
    [event] = audit_events(engine, "access_denied")
    assert (event.actor_id, event.subject_client_id, event.target) == (
        getattr(personas, who).id,
        invitee,
        "invite_reissue",
    )


@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_the_clients_own_staff_may_reissue_her_invite(engine, personas, invitee, who):
    with unit_of_work() as s:
        created = accounts.reissue_invite(session=s, actor=personas.actor(who), client_id=invitee)
    assert created.client_id == invitee
    assert count(engine, Invite) == 2


def test_a_client_cannot_reissue_an_invite_for_herself(engine, personas):
    with pytest.raises((AccessDenied, ValidationFailed)), unit_of_work() as s:
        accounts.reissue_invite(
            session=s, actor=personas.actor("client"), client_id=personas.client.id
        )
    assert count(engine, Invite) == 0
