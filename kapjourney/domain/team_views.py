"""View models of the account lifecycle (services.team): the clinic's team, its clients'
accounts and a person's signed-in devices. Only these cross into the UI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class StaffRow(_View):
    user_id: int
    name: str
    email: str
    role: str  # "clinician" | "admin"
    active: bool
    last_sign_in: str  # "Today, 9:05 am" or "Never"
    sessions: int  # live sign-ins
    two_factor: str  # "on" | "off" | "" (two-factor sign-in not in this build)
    clients: int  # assigned clients
    open_alerts: int  # open or acknowledged alerts assigned to them
    is_self: bool


class ClientAccountRow(_View):
    client_id: int
    name: str
    email: str
    account: str  # "joined" | "invited" | "invite expired" | "deactivated"
    clinicians: str  # the names of the clinicians assigned, comma separated


class TeamView(_View):
    staff: list[StaffRow]
    clients: list[ClientAccountRow]


class SessionRow(_View):
    """One live sign-in of one person."""

    session_id: int
    device: str  # "Chrome on Android"
    ip: str
    started: str
    last_seen: str
    this_device: bool
    finished: bool  # False while a second factor is still owed (a sign-in half done)


class DeactivationResult(_View):
    clients_moved: int
    alerts_moved: int
    sessions_revoked: int
