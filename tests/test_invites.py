"""Client invitations: creating, checking, accepting and reissuing invite links."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pydantic
import pytest
import time_machine
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.enums import CourseStatus, Role
from kapjourney.domain.errors import AccessDenied, NotFound, ValidationFailed
from kapjourney.domain.models import ClinicianAssignment, Course, Invite, User
from kapjourney.domain.schemas import InviteCreate, InviteCreated
from kapjourney.services import accounts
from kapjourney.services.uow import unit_of_work
from tests.support import T0, audit_events, count

NEW_PASSWORD = "lantern orchard velvet"
MEGA = "x" * 1_000_000


def _data(**overrides) -> InviteCreate:
    fields = {
        "display_name": "Nia Newcomer",
        "email": "Nia.Newcomer@Example.com",
        "timezone": "Europe/Berlin",
    } | overrides
    return InviteCreate(**fields)


def _invite(engine, personas, who: str = "clinician", **overrides) -> InviteCreated:
    with db.session_scope(engine) as s:
        return accounts.create_invite(session=s, actor=personas.actor(who), data=_data(**overrides))


def _token(created: InviteCreated) -> str:
    path, _, token = created.path.partition("#")
    assert path == "/invite" and token
    return token


def _status(engine, token):
    with db.session_scope(engine) as s:
        return accounts.invite_status(session=s, token=token)


def _accept(engine, token, password=NEW_PASSWORD, confirm=None) -> str:
    with db.session_scope(engine) as s:
        return accounts.accept_invite(
            session=s,
            token=token,
            password=password,
            confirm=password if confirm is None else confirm,
        )


def _reissue(engine, personas, who: str, client_id: int) -> InviteCreated:
    with db.session_scope(engine) as s:
        return accounts.reissue_invite(session=s, actor=personas.actor(who), client_id=client_id)


# --- creating ------------------------------------------------------------------------------------


def test_a_clinician_invites_a_client_into_screening_under_her_care(engine, personas):
    with time_machine.travel(T0, tick=False):
        created = _invite(engine, personas)
    token = _token(created)
    assert (created.email, created.display_name) == ("nia.newcomer@example.com", "Nia Newcomer")
    assert created.expires_at == T0 + timedelta(days=7)
    with db.session_scope(engine) as s:
        client = s.get(User, created.client_id)
        assert (client.role, client.clinic_id, client.password_hash, client.timezone) == (
            Role.CLIENT,
            personas.clinician.clinic_id,
            None,
            "Europe/Berlin",
        )
        assignments = s.exec(
            select(ClinicianAssignment).where(ClinicianAssignment.client_id == client.id)
        ).all()
        assert [a.clinician_id for a in assignments] == [personas.clinician.id]
        [course] = s.exec(select(Course).where(Course.client_id == client.id)).all()
        assert course.status == CourseStatus.SCREENING
        assert course.start_date == date(2026, 11, 3)  # today in Berlin at T0
        [invite] = s.exec(select(Invite).where(Invite.user_id == client.id)).all()
        assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert invite.created_by_id == personas.clinician.id
        assert invite.used_at is None and invite.revoked_at is None
    [event] = audit_events(engine, "invite_created")
    assert (event.actor_id, event.subject_client_id) == (personas.clinician.id, created.client_id)


def test_the_invite_token_is_long_random_and_not_stored(engine, personas):
    token = _token(_invite(engine, personas))
    assert len(token) >= 43
    with engine.connect() as conn:
        cells = [str(c) for row in conn.exec_driver_sql("SELECT * FROM invite").all() for c in row]
    assert not any(token in cell for cell in cells)


def test_an_admin_invites_without_creating_an_assignment(engine, personas):
    created = _invite(engine, personas, who="admin")
    assert (
        count(engine, ClinicianAssignment, ClinicianAssignment.client_id == created.client_id) == 0
    )
    assert count(engine, Course, Course.client_id == created.client_id) == 1
    assert _status(engine, _token(created)).state == "valid"


def test_the_invite_defaults_to_the_clinic_time_zone(engine, personas):
    created = _invite(engine, personas, timezone="")
    with db.session_scope(engine) as s:
        assert s.get(User, created.client_id).timezone == "America/New_York"


def test_a_client_cannot_invite_and_the_denial_survives_the_rollback(engine, personas):
    users_before = count(engine, User)
    with pytest.raises(AccessDenied) as raised, unit_of_work() as s:
        accounts.create_invite(session=s, actor=personas.actor("client"), data=_data())
    assert isinstance(raised.value, NotFound)
    assert count(engine, User) == users_before
    [event] = audit_events(engine, "access_denied")
    assert (event.actor_id, event.outcome, event.target) == (
        personas.client.id,
        "denied",
        "invite_create",
    )
    assert audit_events(engine, "invite_created") == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"display_name": "", "email": ""},
            {"display_name": "Enter a name.", "email": "Enter an email address."},
        ),
        ({"display_name": "   \t  "}, {"display_name": "Enter a name."}),
        ({"display_name": "Two\nLines"}, {"display_name": "Use a single line."}),
        ({"display_name": "n" * 81}, {"display_name": "Use at most 80 characters."}),
        ({"email": "not-an-email"}, {"email": "Enter an email address like name@example.com."}),
        ({"email": "nia@"}, {"email": "Enter an email address like name@example.com."}),
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone": "Choose a time zone from the list."}),
        (
            {"display_name": "x" * 10_000, "email": "e" * 10_000, "timezone": "t" * 10_000},
            {
                "display_name": "Use at most 80 characters.",
                "email": "That is longer than any email address can be.",
                "timezone": "Choose a time zone from the list.",
            },
        ),
    ],
    ids=[
        "empty",
        "blank_name",
        "multiline_name",
        "long_name",
        "bad_email",
        "bad_email_domain",
        "bad_timezone",
        "at_schema_cap",
    ],
)
def test_it_refuses_bad_invite_input_with_field_messages(engine, personas, overrides, expected):
    users_before = count(engine, User)
    with pytest.raises(ValidationFailed) as raised:
        _invite(engine, personas, **overrides)
    assert raised.value.fields == expected
    assert count(engine, User) == users_before


def test_it_refuses_megabyte_strings_with_field_messages(engine, personas):
    # The schema caps fields at 10,000 characters; a caller that skips validation still gets
    # field messages from the service, never a crash or a stored megabyte.
    data = InviteCreate.model_construct(
        display_name=MEGA, email=MEGA + "@example.com", timezone=MEGA
    )
    with db.session_scope(engine) as s, pytest.raises(ValidationFailed) as raised:
        accounts.create_invite(session=s, actor=personas.actor("clinician"), data=data)
    assert set(raised.value.fields) == {"display_name", "email", "timezone"}


def test_the_schema_refuses_megabyte_strings_before_the_service():
    with pytest.raises(pydantic.ValidationError):
        InviteCreate(display_name=MEGA, email="a@example.com", timezone="UTC")


@pytest.mark.parametrize("spelling", ["ada@test.example", "ADA@Test.Example", " ada@test.example "])
def test_it_refuses_an_email_that_already_has_an_account(engine, personas, spelling):
    with pytest.raises(ValidationFailed) as raised:
        _invite(engine, personas, email=spelling)
    assert raised.value.fields == {"email": "Someone already has an account with this email."}


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        'Tom & Jerry\'s "Café"',
    ],
)
def test_it_keeps_markup_in_a_name_as_plain_text(engine, personas, name):
    # clean_text only normalizes and drops control characters: markup is ordinary text here, and
    # it must come back byte for byte (escaping is the renderer's job), never altered or escaped.
    created = _invite(engine, personas, display_name=name)
    assert created.display_name == name
    with db.session_scope(engine) as s:
        assert s.get(User, created.client_id).display_name == name
    assert _status(engine, _token(created)).display_name == name


def test_it_drops_control_characters_from_a_name(engine, personas):
    created = _invite(engine, personas, display_name="Nia\u200b New\x07comer")
    assert created.display_name == "Nia Newcomer"


# --- status --------------------------------------------------------------------------------------


def test_a_fresh_invite_is_valid_and_names_the_client(engine, personas):
    status = _status(engine, _token(_invite(engine, personas)))
    assert (status.state, status.display_name, status.email) == (
        "valid",
        "Nia Newcomer",
        "nia.newcomer@example.com",
    )


def test_a_used_invite_reports_used_without_naming_anyone(engine, personas):
    token = _token(_invite(engine, personas))
    _accept(engine, token)
    status = _status(engine, token)
    assert (status.state, status.display_name, status.email) == ("used", "", "")


def test_an_invite_expires_after_seven_days(engine, personas):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _token(_invite(engine, personas))
        traveller.shift(timedelta(days=6, hours=23))
        assert _status(engine, token).state == "valid"
        traveller.shift(timedelta(hours=1))
        assert _status(engine, token).state == "expired"
        traveller.shift(timedelta(days=1))  # 8 days
        status = _status(engine, token)
    assert (status.state, status.email) == ("expired", "")


@pytest.mark.parametrize(
    "token",
    [None, "", "garbage", MEGA, 12345, ["t"], {"token": "t"}],
    ids=["none", "empty", "garbage", "one_megabyte", "int", "list", "dict"],
)
def test_an_unknown_token_reports_unknown(engine, personas, token):
    _invite(engine, personas)
    assert _status(engine, token).state == "unknown"


def test_the_stored_hash_is_not_a_valid_token(engine, personas):
    token = _token(_invite(engine, personas))
    assert _status(engine, sessions.hash_token(token)).state == "unknown"


# --- accepting -----------------------------------------------------------------------------------


def test_accepting_sets_the_password_spends_the_link_and_signs_the_client_in(
    engine, personas, settings
):
    created = _invite(engine, personas)
    session_token = _accept(engine, _token(created))
    with db.session_scope(engine) as s:
        client = s.get(User, created.client_id)
        assert client.password_hash and NEW_PASSWORD not in client.password_hash
        assert client.is_active
        [invite] = s.exec(select(Invite).where(Invite.user_id == client.id)).all()
        assert invite.used_at is not None
        actor = sessions.resolve_session(s, token=session_token, settings=settings)
    assert actor is not None
    assert (actor.user_id, actor.role) == (created.client_id, Role.CLIENT)
    [event] = audit_events(engine, "invite_accepted")
    assert event.actor_id == created.client_id


def test_the_new_password_signs_in(engine, personas, settings):
    from kapjourney.auth import signin

    created = _invite(engine, personas)
    _accept(engine, _token(created))
    with db.session_scope(engine) as s:
        outcome = signin.authenticate(
            session=s, email=created.email, password=NEW_PASSWORD, settings=settings
        )
    assert outcome.ok and outcome.user_id == created.client_id


def test_a_link_cannot_be_used_twice(engine, personas):
    token = _token(_invite(engine, personas))
    _accept(engine, token)
    with pytest.raises(ValidationFailed) as raised:
        _accept(engine, token, password="another fine passphrase")
    assert "already been used" in raised.value.fields["form"]


def test_an_expired_link_cannot_be_used(engine, personas):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _token(_invite(engine, personas))
        traveller.shift(timedelta(days=8))
        with pytest.raises(ValidationFailed) as raised:
            _accept(engine, token)
    assert "expired" in raised.value.fields["form"]
    assert count(engine, User, User.password_hash != None) == 6  # noqa: E711 - personas only


@pytest.mark.parametrize("token", [None, "", "garbage", MEGA, 7, ["t"]])
def test_an_unknown_link_cannot_be_used(engine, personas, token):
    _invite(engine, personas)
    with pytest.raises(ValidationFailed) as raised:
        _accept(engine, token)
    assert "not valid" in raised.value.fields["form"]


@pytest.mark.parametrize(
    ("password", "confirm", "field", "fragment"),
    [
        ("short", "short", "password", "at least 10 characters"),
        ("", "", "password", "at least 10 characters"),
        (None, None, "password", "at least 10 characters"),
        (12345678901, 12345678901, "password", "at least 10 characters"),
        ("password123", "password123", "password", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "password", "too easy to guess"),
        ("nia.newcomer@example.com", "nia.newcomer@example.com", "password", "email address"),
        ("Nia Newcomer", "Nia Newcomer", "password", "your name"),
        ("p" * 200 + "qrs" * 30, "p" * 200 + "qrs" * 30, "password", "at most 256"),
        (MEGA, MEGA, "password", "at most 256"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm", "do not match"),
        (NEW_PASSWORD, "", "confirm", "do not match"),
        (NEW_PASSWORD, [NEW_PASSWORD], "confirm", "do not match"),
    ],
    ids=[
        "short",
        "empty",
        "none",
        "not_a_string",
        "common",
        "one_letter",
        "email",
        "name",
        "too_long",
        "one_megabyte",
        "mismatch",
        "confirm_empty",
        "confirm_not_a_string",
    ],
)
def test_it_refuses_weak_or_mismatched_passwords_and_keeps_the_link(
    engine, personas, password, confirm, field, fragment
):
    token = _token(_invite(engine, personas))
    with pytest.raises(ValidationFailed) as raised:
        _accept(engine, token, password=password, confirm=confirm)
    assert list(raised.value.fields) == [field]
    assert fragment in raised.value.fields[field]
    assert _status(engine, token).state == "valid"


# Regression guard: accept_invite used to set ``is_active = True``, so a client deactivated while
# an invite was pending could revive the account through the old link.
def test_a_deactivated_invitee_cannot_reactivate_through_an_old_link(engine, personas):
    created = _invite(engine, personas)
    with db.session_scope(engine) as s:
        client = s.get(User, created.client_id)
        client.is_active = False
        s.add(client)
    with pytest.raises(ValidationFailed):
        _accept(engine, _token(created))


# --- reissuing -----------------------------------------------------------------------------------


def test_reissuing_revokes_the_old_link_and_the_new_one_works(engine, personas):
    first = _invite(engine, personas)
    second = _reissue(engine, personas, "clinician", first.client_id)
    assert second.client_id == first.client_id and _token(second) != _token(first)
    assert _status(engine, _token(first)).state == "unknown"
    with pytest.raises(ValidationFailed) as raised:
        _accept(engine, _token(first))
    assert "not valid" in raised.value.fields["form"]
    assert _status(engine, _token(second)).state == "valid"
    _accept(engine, _token(second))
    assert _status(engine, _token(second)).state == "used"
    [event] = audit_events(engine, "invite_reissued")
    assert (event.actor_id, event.subject_client_id) == (personas.clinician.id, first.client_id)


def test_reissuing_renews_an_expired_link(engine, personas):
    with time_machine.travel(T0, tick=False) as traveller:
        first = _invite(engine, personas)
        traveller.shift(timedelta(days=8))
        second = _reissue(engine, personas, "admin", first.client_id)
        assert _status(engine, _token(second)).state == "valid"
    assert second.expires_at == T0 + timedelta(days=15)


def test_an_admin_reissues_for_any_client_of_her_clinic(engine, personas):
    first = _invite(engine, personas)
    assert (
        _status(engine, _token(_reissue(engine, personas, "admin", first.client_id))).state
        == "valid"
    )


def test_reissuing_for_another_clinicians_client_is_denied(engine, personas):
    first = _invite(engine, personas)
    with pytest.raises(AccessDenied), unit_of_work() as s:
        accounts.reissue_invite(
            session=s, actor=personas.actor("other_clinician"), client_id=first.client_id
        )
    assert _status(engine, _token(first)).state == "valid"  # the old link was not revoked
    [event] = audit_events(engine, "access_denied")
    assert (event.actor_id, event.subject_client_id, event.target) == (
        personas.other_clinician.id,
        first.client_id,
        "invite_reissue",
    )


def test_reissuing_for_a_client_who_already_joined_is_refused(engine, personas):
    with pytest.raises(ValidationFailed) as raised:
        _reissue(engine, personas, "clinician", personas.client.id)
    assert raised.value.fields == {"form": "This client has already joined."}
    assert count(engine, Invite) == 0
