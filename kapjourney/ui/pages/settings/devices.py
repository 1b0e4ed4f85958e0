"""Settings: the person's signed-in devices. "This device" is marked; any other one can be signed
out; "Sign out of all devices" ends every sign-in, this one included, and lands on sign-in.

The section loads itself when it mounts, so the settings page includes it with one line.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.auth import sessions as auth_sessions
from kapjourney.domain.errors import NotFound
from kapjourney.domain.team_views import SessionRow
from kapjourney.services import team
from kapjourney.services.validation import record_id
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import field_error
from kapjourney.ui.components.panel import panel
from kapjourney.ui.components.sign_ins import sign_in_item
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import SIGN_OUT

AGAIN = "That did not go through. Please reload the page and try again."


class DevicesState(rx.State):
    sign_ins: list[SessionRow] = []
    problem: str = ""
    notice: str = ""
    confirming: bool = False

    async def _reload(self) -> None:
        token = auth_sessions.token_from_cookie_header(self.router.headers.cookie or "")
        try:
            self.sign_ins = await call_service(team.list_sessions, current_token=token)
        except NotFound:
            self.sign_ins = []
            self.problem = AGAIN

    @rx.event
    @authorized()
    async def load(self):
        self.problem = self.notice = ""
        self.confirming = False
        await self._reload()

    @rx.event
    @authorized()
    async def sign_out(self, session_id: int):
        """Sign out one of this person's other devices (this one: the menu's Sign out)."""
        row = next((r for r in self.sign_ins if r.session_id == record_id(session_id)), None)
        if row is None or row.this_device:
            return
        self.problem = self.notice = ""
        try:
            await call_service(team.revoke_session, session_id=row.session_id)
        except NotFound:
            self.problem = "That device was not found. The list has been refreshed."
        else:
            self.notice = f"{row.device} is signed out."
        await self._reload()

    @rx.event
    @authorized()
    async def confirm(self, open: bool = True):
        self.confirming = open is True

    @rx.event
    @authorized()
    async def sign_out_everywhere(self, ready: bool):
        """The confirm's callback: ``ready`` is True once this phone's unsent entries are
        dealt with. Then every sign-in ends and this tab signs out (to the sign-in page)."""
        self.confirming = False
        if ready is not True:
            return None
        try:
            await call_service(team.sign_out_everywhere)
        except NotFound:
            self.problem = AGAIN
            return None
        self.sign_ins = []
        return SIGN_OUT


S = DevicesState


def _sign_in(row: SessionRow) -> rx.Component:
    return sign_in_item(
        row,
        rx.hstack(
            rx.icon("monitor-smartphone", size=18, aria_hidden="true"),
            rx.text(row.device, weight="bold", size="3"),
            rx.cond(
                row.this_device,
                rx.badge("This device", color_scheme="indigo", high_contrast=True),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text("Signed in ", row.started, size="2"),
        rx.text("Last active ", row.last_seen, size="1", color_scheme="gray"),
        on_sign_out=S.sign_out(row.session_id),
        sign_out_label="Sign out " + row.device + ", signed in " + row.started,
        class_name="kj-sign-in",
    )


def _confirm() -> rx.Component:
    return dialog(
        "Sign out of all devices?",
        dialog_actions(
            "Sign out everywhere",
            confirm_id="sign-out-everywhere-confirm",
            margin_top="16px",
            # Entries saved on this phone are sent first (or the person agrees to drop them),
            # as the menu's "Sign out" does (assets/js/pwa.js); then the server.
            on_click=rx.call_script(
                "window.kjPwa ? window.kjPwa.prepareSignOut() : true",
                callback=S.sign_out_everywhere,
            ),
        ),
        description="Every phone and computer signed in to your account is signed out, this "
        "one too. You can sign in again with your password.",
        trigger=rx.button(
            rx.icon("log-out", size=18, aria_hidden="true"),
            "Sign out of all devices",
            variant="soft",
            color_scheme="red",
            high_contrast=True,
            size="3",
            width="100%",
            id="sign-out-everywhere",
        ),
        open=S.confirming,
        on_open_change=S.confirm,
        max_width="440px",
    )


def devices_section() -> rx.Component:
    return panel(
        "Signed-in devices",
        rx.text(
            "Where your account is signed in now. Sign out a device you no longer use or "
            "do not recognise.",
            size="2",
        ),
        rx.el.ul(
            rx.foreach(S.sign_ins, _sign_in),
            padding="0",
            margin="0",
            width="100%",
            id="sign-ins",
        ),
        field_error(S.problem, "sign-ins-error"),
        rx.text(S.notice, size="2", color_scheme="green", role="status", id="sign-ins-notice"),
        _confirm(),
        panel_id="devices-section",
        on_mount=S.load,
    )
