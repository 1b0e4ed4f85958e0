"""The Team page's state: the clinic's staff and client accounts, and the admin's four actions
(deactivate with a successor, reactivate, reset a client's password, end someone's sign-ins).

A dialog acts only on the person it was opened for (``_target``), chosen from the rows on the
page; the services check again that the admin may act on them (another clinic or an unknown
id is "not found", and audited).
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from kapjourney.auth import sessions as auth_sessions
from kapjourney.auth import two_factor
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.team_views import ClientAccountRow, SessionRow, StaffRow
from kapjourney.services import team
from kapjourney.services.validation import record_id
from kapjourney.settings import get_settings
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import clip, form_dict
from kapjourney.ui.session_state import remember

ADMIN = Role.ADMIN
DIALOGS = ("deactivate", "reset", "sessions", "two_step")
NO_ERRORS = {"successor": "", "form": ""}
NOT_FOUND = "That person was not found. The list has been refreshed."


@dataclass
class Choice:
    value: str = ""
    label: str = ""


class TeamState(rx.State):
    loaded: bool = False
    staff: list[StaffRow] = []
    clients: list[ClientAccountRow] = []
    dialog: str = ""  # "" | "deactivate" | "reset" | "sessions"
    dialog_name: str = ""
    work_note: str = ""  # "3 clients and 1 open alert" for the deactivate dialog
    successors: list[Choice] = []
    errors: dict[str, str] = dict(NO_ERRORS)
    invite_link: str = ""
    sign_ins: list[SessionRow] = []
    _target: int = 0

    async def _refresh(self, record: bool = False) -> None:
        view = await call_service(team.list_team, record=record)
        self.staff, self.clients = view.staff, view.clients

    @rx.event
    @authorized(ADMIN)
    async def load(self):
        await remember(self)
        self.dialog = ""
        self.invite_link = ""
        await self._refresh(record=True)
        self.loaded = True

    @rx.event
    @authorized(ADMIN)
    async def close_dialog(self, open: bool = False):
        if open is not True:
            self.dialog = ""
            self.invite_link = ""
            self._target = 0

    @rx.event
    @authorized(ADMIN)
    async def open_dialog(self, kind: str, user_id: int):
        """Open a dialog for a person listed on the page (anyone else: nothing happens)."""
        uid = record_id(user_id)
        staff = next((r for r in self.staff if r.user_id == uid), None)
        client = next((r for r in self.clients if r.client_id == uid), None)
        if kind not in DIALOGS or (staff is None and client is None):
            return None
        if (kind == "reset") != (client is not None) or (
            staff and staff.is_self and kind != "sessions"
        ):
            return None
        if kind == "two_step" and (staff is None or staff.two_factor != "on"):
            return None
        self._target = uid
        self.dialog_name = staff.name if staff else client.name  # type: ignore[union-attr]
        self.errors = dict(NO_ERRORS)
        self.invite_link = ""
        if kind == "deactivate" and staff is not None:
            self._prepare_deactivation(staff)
        if kind == "sessions" and not await self._read_sign_ins():
            return rx.toast.error(NOT_FOUND)
        self.dialog = kind
        return None

    def _prepare_deactivation(self, row: StaffRow) -> None:
        parts = []
        if row.clients:
            parts.append(f"{row.clients} client" + ("s" if row.clients != 1 else ""))
        if row.open_alerts:
            parts.append(f"{row.open_alerts} open alert" + ("s" if row.open_alerts != 1 else ""))
        self.work_note = " and ".join(parts)
        self.successors = [
            Choice(str(r.user_id), r.name)
            for r in self.staff
            if r.role == "clinician" and r.active and r.user_id != row.user_id
        ]

    async def _read_sign_ins(self) -> bool:
        token = auth_sessions.token_from_cookie_header(self.router.headers.cookie or "")
        try:
            self.sign_ins = await call_service(
                team.list_sessions, user_id=self._target, current_token=token
            )
        except NotFound:
            self.sign_ins = []
            await self._refresh()
            return False
        return True

    async def _act(self, work, done: str, **kwargs):
        self.errors = dict(NO_ERRORS)
        try:
            result = await call_service(work, **kwargs)
        except NotFound:
            self.dialog = ""
            await self._refresh()
            return None, rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            shown = {k: clip(str(problem.fields.get(k, "")), 300) for k in NO_ERRORS}
            if not any(shown.values()):
                shown["form"] = "That did not go through. Please try again."
            self.errors = shown
            return None, None
        await self._refresh()
        return result, rx.toast.success(done)

    @rx.event
    @authorized(ADMIN)
    async def deactivate(self, form_data: dict):
        if self.dialog != "deactivate" or not self._target:
            return None
        successor = record_id(form_dict(form_data).get("successor", "")) or None
        result, toast = await self._act(
            team.deactivate_clinician,
            f"{self.dialog_name} is deactivated and signed out everywhere.",
            user_id=self._target,
            successor_id=successor,
        )
        if result is not None:
            self.dialog = ""
        return toast

    @rx.event
    @authorized(ADMIN)
    async def successor_chosen(self, value: str):
        """A clinician was chosen: the last try's "choose one" message no longer applies."""
        if isinstance(value, str) and value and self.errors.get("successor"):
            self.errors = {**self.errors, "successor": ""}

    @rx.event
    @authorized(ADMIN)
    async def reactivate(self, user_id: int):
        row = next((r for r in self.staff if r.user_id == record_id(user_id)), None)
        if row is None or row.active:
            return None
        _, toast = await self._act(
            team.reactivate_clinician, f"{row.name} can sign in again.", user_id=row.user_id
        )
        return toast

    @rx.event
    @authorized(ADMIN)
    async def reset_password(self):
        if self.dialog != "reset" or not self._target:
            return None
        created, toast = await self._act(
            team.reset_client_password,
            "Password reset. Send the new link.",
            client_id=self._target,
        )
        if created is None:
            return toast
        # The dialog now shows the link and says what to do with it: no toast over it.
        self.invite_link = get_settings().public_url.rstrip("/") + created.path
        return None

    @rx.event
    @authorized(ADMIN)
    async def reset_two_step(self):
        """A staff member lost their phone and codes: they set two-step sign-in up again at
        their next password sign-in (every session ends now)."""
        if self.dialog != "two_step" or not self._target:
            return None
        done, toast = await self._act(
            _reset_two_step,
            f"Two-step sign-in of {self.dialog_name} is reset. They set it up again when they "
            "next sign in.",
            user_id=self._target,
        )
        if done is not None:
            self.dialog = ""
        return toast

    @rx.event
    @authorized(ADMIN)
    async def sign_out_session(self, session_id: int):
        """End one of the listed sign-ins of the person whose sessions are open."""
        row = next((r for r in self.sign_ins if r.session_id == record_id(session_id)), None)
        if self.dialog != "sessions" or row is None:
            return None
        _, toast = await self._act(team.revoke_session, "Signed out.", session_id=row.session_id)
        await self._read_sign_ins()
        return toast


def _reset_two_step(*, session, actor, user_id: int) -> bool:
    two_factor.reset_for_user(session, actor=actor, user_id=user_id)
    return True
