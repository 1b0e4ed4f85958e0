"""Joining by invite. The token travels in the URL fragment, so it never reaches server logs."""

import asyncio

import reflex as rx

from kapjourney.routes import INVITE, SIGNIN
from kapjourney.services import accounts
from kapjourney.services.uow import unit_of_work
from kapjourney.ui.components.fields import field, form_error, form_messages
from kapjourney.ui.guard import public
from kapjourney.ui.layout import public_page
from kapjourney.ui.pages.signin import brand_header

MESSAGES = {
    "expired": "This invite link has expired. Ask your clinic to send a new one.",
    "used": "This invite link has already been used. If it was you, sign in.",
    "unknown": "This invite link is not valid. Check that you opened the whole link, "
    "or ask your clinic for a new one.",
}


def _status(token: str) -> tuple[str, str, str]:
    with unit_of_work() as session:
        status = accounts.invite_status(session=session, token=token)
    return status.state, status.display_name, status.email


class InviteState(rx.State):
    state: str = "checking"
    first_name: str = ""
    email: str = ""
    password_error: str = ""
    confirm_error: str = ""
    form_error: str = ""
    busy: bool = False

    @rx.event
    @public("invite link: the 256-bit token is the capability; answers only its own status")
    async def check(self, token: str):
        token = token if isinstance(token, str) else ""
        state, name, email = await asyncio.to_thread(_status, token)
        self.state = state
        self.first_name = name.split(" ")[0] if name else ""
        self.email = email

    @rx.event
    @public("invite form: only resets this tab's own error messages")
    async def start(self):
        self.password_error = self.confirm_error = self.form_error = ""
        self.busy = True

    @rx.event
    @public("invite form: shows the messages /auth/invite/accept returned to this tab")
    async def show_result(self, result: dict):
        self.password_error, self.confirm_error, self.form_error = form_messages(
            result, "password", "confirm", "form"
        )
        self.busy = bool(isinstance(result, dict) and result.get("ok"))


def _form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text(
                    "Welcome, ",
                    rx.text.strong(InviteState.first_name),
                    ". Choose a password for ",
                    rx.text.strong(InviteState.email),
                    ".",
                    size="3",
                ),
                form_error(InviteState.form_error),
                field(
                    "New password",
                    name="password",
                    form="invite",
                    type="password",
                    auto_complete="new-password",
                    error=InviteState.password_error,
                    hint="At least 10 characters. A few unrelated words work well.",
                ),
                field(
                    "Type it again",
                    name="confirm",
                    form="invite",
                    type="password",
                    auto_complete="new-password",
                    error=InviteState.confirm_error,
                ),
                rx.button(
                    "Join my clinic",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=InviteState.busy,
                    id="invite-submit",
                ),
                spacing="4",
                width="100%",
            ),
            id="invite-form",
            no_validate=True,
            on_submit=[
                InviteState.start,
                rx.call_script(
                    "window.kj.postForm('invite-form', '/auth/invite/accept')",
                    callback=InviteState.show_result,
                ),
            ],
        ),
        size="3",
        width="100%",
    )


def _problem() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.callout(
                rx.match(InviteState.state, *MESSAGES.items(), MESSAGES["unknown"]),
                icon="info",
                color_scheme="amber",
                id="invite-problem",
                high_contrast=True,
            ),
            rx.link("Go to sign in", href=SIGNIN, weight="medium"),
            spacing="3",
        ),
        size="3",
        width="100%",
    )


@public_page(
    INVITE,
    "Join your clinic",
    on_load=rx.call_script("window.kj.inviteToken()", callback=InviteState.check),
)
def invite_page() -> rx.Component:
    return rx.vstack(
        brand_header("Set up your account."),
        rx.match(
            InviteState.state,
            ("checking", rx.spinner(size="3")),
            ("valid", _form()),
            _problem(),
        ),
        align="center",
        spacing="4",
        width="100%",
    )
