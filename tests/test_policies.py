"""The pure access predicate, as a full matrix over roles, clinics, assignment and identity."""

from __future__ import annotations

import itertools

import pytest

from kapjourney.domain.enums import Role
from kapjourney.domain.policies import can_access_client, can_invite_clients, can_view_audit_log
from kapjourney.domain.schemas import Actor

HOME, AWAY = 10, 20  # clinic ids
ACTOR_ID, CLIENT_ID, OTHER_CLIENT_ID = 1, 2, 3


def _actor(role: Role, *, user_id: int = ACTOR_ID, clinic_id: int = HOME) -> Actor:
    return Actor(user_id=user_id, role=role, clinic_id=clinic_id, display_name="X", timezone="UTC")


# (case id, actor, client_id, client_clinic_id, assigned, expected)
MATRIX = [
    # A client reaches themself and nobody else, whatever the other inputs say.
    ("client_self", _actor(Role.CLIENT, user_id=CLIENT_ID), CLIENT_ID, HOME, False, True),
    (
        "client_self_flagged_assigned",
        _actor(Role.CLIENT, user_id=CLIENT_ID),
        CLIENT_ID,
        HOME,
        True,
        True,
    ),
    ("client_other", _actor(Role.CLIENT, user_id=CLIENT_ID), OTHER_CLIENT_ID, HOME, False, False),
    (
        "client_other_flagged_assigned",
        _actor(Role.CLIENT, user_id=CLIENT_ID),
        OTHER_CLIENT_ID,
        HOME,
        True,
        False,
    ),
    (
        "client_other_in_other_clinic",
        _actor(Role.CLIENT, user_id=CLIENT_ID),
        OTHER_CLIENT_ID,
        AWAY,
        False,
        False,
    ),
    # A clinician reaches only assigned clients of her own clinic.
    ("clinician_assigned", _actor(Role.CLINICIAN), CLIENT_ID, HOME, True, True),
    ("clinician_unassigned", _actor(Role.CLINICIAN), CLIENT_ID, HOME, False, False),
    ("clinician_assigned_other_clinic", _actor(Role.CLINICIAN), CLIENT_ID, AWAY, True, False),
    ("clinician_unassigned_other_clinic", _actor(Role.CLINICIAN), CLIENT_ID, AWAY, False, False),
    # The self rule is for clients only: a clinician whose id equals the client id gains nothing.
    (
        "clinician_same_id_unassigned",
        _actor(Role.CLINICIAN, user_id=CLIENT_ID),
        CLIENT_ID,
        HOME,
        False,
        False,
    ),
    # An admin reaches every client of her clinic and none elsewhere.
    ("admin_same_clinic_unassigned", _actor(Role.ADMIN), CLIENT_ID, HOME, False, True),
    ("admin_same_clinic_assigned", _actor(Role.ADMIN), CLIENT_ID, HOME, True, True),
    ("admin_other_clinic", _actor(Role.ADMIN), CLIENT_ID, AWAY, False, False),
    ("admin_other_clinic_flagged_assigned", _actor(Role.ADMIN), CLIENT_ID, AWAY, True, False),
    (
        "admin_same_id_other_clinic",
        _actor(Role.ADMIN, user_id=CLIENT_ID),
        CLIENT_ID,
        AWAY,
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("actor", "client_id", "client_clinic_id", "assigned", "expected"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
def test_it_grants_exactly_the_documented_access(
    actor, client_id, client_clinic_id, assigned, expected
):
    assert (
        can_access_client(
            actor, client_id=client_id, client_clinic_id=client_clinic_id, assigned=assigned
        )
        is expected
    )


@pytest.mark.parametrize(
    ("role", "same_clinic", "assigned", "is_self"),
    list(itertools.product(list(Role), [True, False], [True, False], [True, False])),
)
def test_it_agrees_with_the_rules_over_every_combination(role, same_clinic, assigned, is_self):
    actor = _actor(role, user_id=CLIENT_ID if is_self else ACTOR_ID)
    result = can_access_client(
        actor,
        client_id=CLIENT_ID,
        client_clinic_id=HOME if same_clinic else AWAY,
        assigned=assigned,
    )
    if role == Role.CLIENT:
        expected = is_self
    elif role == Role.CLINICIAN:
        expected = same_clinic and assigned
    else:
        expected = same_clinic
    assert result is expected


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN])
def test_it_never_lets_staff_cross_clinics(role):
    for assigned, user_id in itertools.product([True, False], [ACTOR_ID, CLIENT_ID]):
        actor = _actor(role, user_id=user_id, clinic_id=HOME)
        assert not can_access_client(
            actor, client_id=CLIENT_ID, client_clinic_id=AWAY, assigned=assigned
        )


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.CLIENT, False), (Role.CLINICIAN, True), (Role.ADMIN, True)]
)
def test_it_lets_only_staff_invite_clients(role, expected):
    assert can_invite_clients(_actor(role)) is expected


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.CLIENT, False), (Role.CLINICIAN, False), (Role.ADMIN, True)]
)
def test_it_shows_the_audit_log_only_to_admins(role, expected):
    assert can_view_audit_log(_actor(role)) is expected
