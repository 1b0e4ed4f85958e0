"""Errors the services raise; adapters turn them into messages, never into stack traces."""

from __future__ import annotations


class DomainError(Exception):
    """Base class."""


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it does (same message)."""

    def __init__(self, what: str = "record") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class AccessDenied(NotFound):
    """A denial that looks like "not found" to the caller and is audited by the unit of work.

    The unit of work rolls the transaction back, then records the denial in its own commit, so
    a denial is never lost with the work it refused.
    """

    def __init__(
        self, what: str, *, actor_id: int, subject_client_id: int | None, target: str, ip: str = ""
    ) -> None:
        super().__init__(what)
        self.actor_id = actor_id
        self.subject_client_id = subject_client_id
        self.target = target
        self.ip = ip


class ValidationFailed(DomainError):
    """Input was refused; ``fields`` maps a field name to a message the user can act on."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields
