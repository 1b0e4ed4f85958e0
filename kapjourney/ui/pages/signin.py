"""Sign-in. The password is posted to /auth/signin over HTTP, never through the websocket."""

import reflex as rx

from kapjourney.auth.oidc import configured_providers
from kapjourney.auth.signin import RETRY_MESSAGES
from kapjourney.routes import CRISIS, SIGNIN
from kapjourney.settings import get_settings
from kapjourney.ui.components.fields import field, form_error, form_messages
from kapjourney.ui.guard import public
from kapjourney.ui.layout import public_page
from kapjourney.ui.session_state import SessionState

SSO_START = "/auth/oidc/start"  # kapjourney/http/oidc.py; a full navigation, not a SPA route
SSO_FAILED = "Single sign-on didn't work. Try again or ask your clinic."


class SignInState(rx.State):
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    busy: bool = False
    sso_label: str = ""  # the single sign-on button's text; "" hides it

    @rx.event
    @public("sign-in page load: clears this tab's busy flag and messages (a shared phone)")
    async def fresh(self):
        self.email_error = self.password_error = self.form_error = ""
        self.busy = False
        providers = configured_providers(get_settings())
        self.sso_label = providers[0].label if providers else ""
        query = self.router.url.query_parameters
        if query.get("sso") == "failed":
            self.form_error = SSO_FAILED  # the one message for every single sign-on failure
        # A form the browser posted itself (a tap before the script started) came back here.
        word = query.get("signin")
        if isinstance(word, str) and word in RETRY_MESSAGES:
            self.email_error, self.password_error, self.form_error = RETRY_MESSAGES[word]

    @rx.event
    @public("sign-in form: only resets this tab's own error messages")
    async def start(self):
        self.email_error = self.password_error = self.form_error = ""
        self.busy = True

    @rx.event
    @public("sign-in form: shows the messages /auth/signin returned to this tab")
    async def show_result(self, result: dict):
        self.email_error, self.password_error, self.form_error = form_messages(
            result, "email", "password", "form"
        )
        self.busy = bool(isinstance(result, dict) and result.get("ok"))


def brand_header(subtitle: str) -> rx.Component:
    return rx.vstack(
        rx.icon("sunrise", size=40, color=rx.color("indigo", 10), aria_hidden="true"),
        rx.heading("KAP Journey", size="7", as_="h1"),
        rx.text(subtitle, color_scheme="gray", size="3", text_align="center"),
        align="center",
        spacing="2",
        margin_bottom="24px",
    )


def sso_button() -> rx.Component:
    """Clinic staff sign in at their identity provider: a link that loads the server's start
    route as a whole document (a top-level navigation), never a route inside the app."""
    return rx.vstack(
        rx.hstack(
            rx.separator(size="4", flex="1"),
            rx.text("or", size="2", color_scheme="gray"),
            rx.separator(size="4", flex="1"),
            align="center",
            width="100%",
            aria_hidden="true",
        ),
        rx.button(
            rx.el.a(
                rx.icon("key-round", size=18, aria_hidden="true"),
                SignInState.sso_label,
                href=SSO_START,
                reload_document=True,  # rx.el.a is a router link: make it a document load
                id="sso-signin",
            ),
            as_child=True,
            variant="outline",
            size="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
        margin_top="16px",
    )


@public_page(SIGNIN, "Sign in", on_load=[SignInState.fresh, SessionState.skip_signin_if_signed_in])
def signin_page() -> rx.Component:
    return rx.vstack(
        brand_header("Your ketamine-assisted therapy course, between visits."),
        rx.card(
            rx.form(
                rx.vstack(
                    form_error(SignInState.form_error),
                    field(
                        "Email",
                        name="email",
                        form="signin",
                        type="email",
                        auto_complete="username",
                        error=SignInState.email_error,
                        max_length=254,
                        input_mode="email",
                    ),
                    field(
                        "Password",
                        name="password",
                        form="signin",
                        type="password",
                        auto_complete="current-password",
                        error=SignInState.password_error,
                    ),
                    rx.button(
                        "Sign in",
                        type="submit",
                        size="3",
                        width="100%",
                        loading=SignInState.busy,
                        id="signin-submit",
                    ),
                    spacing="4",
                    width="100%",
                ),
                id="signin-form",
                no_validate=True,
                # Before the script starts, a native submit still goes to the server by POST.
                method="post",
                action="/auth/signin",
                on_submit=[
                    SignInState.start,
                    rx.call_script(
                        "window.kj.postForm('signin-form', '/auth/signin')",
                        callback=SignInState.show_result,
                    ),
                ],
                width="100%",
            ),
            rx.cond(SignInState.sso_label != "", sso_button()),
            size="3",
            width="100%",
        ),
        rx.text(
            "New here? Open the invite link your clinic sent you.",
            size="2",
            color_scheme="gray",
            text_align="center",
        ),
        rx.link("In crisis? Get help now", href=CRISIS, color_scheme="red", weight="medium"),
        align="center",
        spacing="4",
        width="100%",
    )
