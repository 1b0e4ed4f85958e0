"""View models and inputs. Only these cross into the UI and HTTP adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from kapjourney.domain.enums import Role

if TYPE_CHECKING:
    from kapjourney.domain.models import User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: resolved server-side from the session cookie, never from the browser."""

    user_id: int
    role: Role
    clinic_id: int
    display_name: str
    timezone: str
    ip: str = ""

    @classmethod
    def from_user(cls, user: User, *, ip: str = "") -> Actor:
        return cls(
            user_id=user.id or 0,
            role=Role(user.role),
            clinic_id=user.clinic_id,
            display_name=user.display_name,
            timezone=user.timezone,
            ip=ip,
        )

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.CLINICIAN, Role.ADMIN)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(default="", max_length=10_000)
    email: str = Field(default="", max_length=10_000)
    timezone: str = Field(default="", max_length=10_000)


class InviteCreated(_View):
    client_id: int
    email: str
    display_name: str
    path: str
    expires_at: datetime


class InviteStatus(_View):
    state: str  # "valid" | "expired" | "used" | "unknown"
    display_name: str = ""
    email: str = ""


class ClientRow(_View):
    client_id: int
    display_name: str
    email: str
    stage: str
    sessions_done: int
    sessions_planned: int
    next_session: str
    account: str  # "active" | "invited" | "invite expired" | "deactivated"


class NextSessionView(_View):
    number: int
    planned: int
    when: str
    route: str
    setting: str


class TodayView(_View):
    first_name: str
    stage: str
    local_date: str
    next_session: NextSessionView | None = None
    clinic_name: str
    clinic_phone: str


class AuditChainReport(_View):
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
