"""Pure access predicates. Services apply them in their queries; tests apply them directly."""

from __future__ import annotations

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import Actor


def can_access_client(
    actor: Actor, *, client_id: int, client_clinic_id: int, assigned: bool
) -> bool:
    """A client reaches only themself; a clinician only assigned clients; an admin their clinic."""
    if actor.role == Role.CLIENT:
        return actor.user_id == client_id
    if actor.clinic_id != client_clinic_id:
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.CLINICIAN and assigned


def can_invite_clients(actor: Actor) -> bool:
    return actor.role in (Role.CLINICIAN, Role.ADMIN)


def can_view_audit_log(actor: Actor) -> bool:
    return actor.role == Role.ADMIN
