"""The second step of a staff password sign-in: /signin/verify (a code from the authenticator
app, or a recovery code) and /signin/enrol (add an app at the first sign-in, then save the
recovery codes).

Both pages serve only a *pending* session (auth/sessions.resolve_pending): their handlers carry
``@pending_step``, which resolves the cookie on every call like ``@authorized`` does, and sends
anyone else away (signed in: home; signed out: sign-in). Codes are posted over HTTP
(http/two_factor.py) by ``window.kj.twoFactor`` and the reply is shown by that script, so the
recovery codes never travel over the websocket nor sit in server-side page state.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import reflex as rx

from kapjourney.auth import sessions, two_factor
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound
from kapjourney.http.two_factor import ENROL_CONFIRM, VERIFY
from kapjourney.routes import HOME_BY_ROLE, NEXT_BY_STAGE, SIGNIN, SIGNIN_ENROL, SIGNIN_VERIFY
from kapjourney.services.uow import unit_of_work
from kapjourney.ui.components.two_factor import code_field, recovery_codes_list, soft_button
from kapjourney.ui.guard import (
    GUARD_ATTR,
    _fitted,
    _over_allowance,
    _reset,
    calmly,
)
from kapjourney.ui.layout import public_page
from kapjourney.ui.pages.signin import brand_header

STAFF = (Role.CLINICIAN, Role.ADMIN)  # the only people with a pending sign-in
# The scripts name the routes literally (the architecture test allows only constant scripts).
assert (VERIFY, ENROL_CONFIRM) == ("/auth/two-factor/verify", "/auth/two-factor/enrol/confirm")
_PENDING: ContextVar[sessions.Pending | None] = ContextVar("kj_pending", default=None)


def _whose(cookie_header: str) -> sessions.Pending | str | None:
    """The pending sign-in behind the cookie; else the home of a full session; else None."""
    token = sessions.token_from_cookie_header(cookie_header)
    if token is None:
        return None
    with unit_of_work() as session:
        pending = sessions.resolve_pending(session, token=token)
        if pending is not None:
            return pending
        actor = sessions.resolve_session(session, token=token)
    return HOME_BY_ROLE[str(actor.role)] if actor else None


def pending_step(stage: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like ``@authorized``, for a sign-in that still owes ``stage`` (the handler reads it with
    ``current_pending()``); anyone else is sent where they belong. When the database does not
    answer, the page gets the guard's calm notice, as under ``@authorized``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def guarded(self: rx.State, *args: Any, **kwargs: Any) -> Any:
            if (refusal := await _over_allowance(self, fn.__qualname__)) is not None:
                return refusal
            return await calmly(self, fn, args, kwargs, _run_pending(self, fn, stage, args, kwargs))

        setattr(guarded, GUARD_ATTR, STAFF)
        guarded.__kj_pending__ = stage  # type: ignore[attr-defined]
        return guarded

    return decorate


async def _run_pending(
    state: rx.State, fn: Callable[..., Any], stage: str, args: tuple, kwargs: dict
) -> Any:
    """``fn`` for the sign-in that owes ``stage``; anyone else is sent away."""
    found = await asyncio.to_thread(_whose, state.router.headers.cookie or "")
    if not isinstance(found, sessions.Pending) or found.stage != stage:
        await _reset(state)
        if isinstance(found, sessions.Pending):
            return rx.redirect(NEXT_BY_STAGE[found.stage], replace=True)
        return rx.redirect(found or SIGNIN, replace=True)
    if (call := _fitted(fn, args, kwargs)) is None:
        return None
    token = _PENDING.set(found)
    try:
        return await fn(state, *call[0], **call[1])
    finally:
        _PENDING.reset(token)


def current_pending() -> sessions.Pending:
    pending = _PENDING.get()
    if pending is None:  # only reachable if a guarded handler's body escaped its guard
        raise RuntimeError("no pending sign-in in this context")
    return pending


# --- /signin/verify -------------------------------------------------------------------------------


class VerifyState(rx.State):
    ready: bool = False
    use_recovery: bool = False
    # Which sign-in the recovery-code choice was made in (a digest of its cookie). A tap that
    # reaches the server before the page's load (the load is queued behind it, more so with
    # several workers) is kept; a new sign-in starts with the app's code again.
    _choice_for: str = ""

    def _attempt(self) -> str:
        token = sessions.token_from_cookie_header(self.router.headers.cookie or "") or ""
        return hashlib.sha256(f"verify-choice:{token}".encode()).hexdigest()[:16]

    @rx.event
    @pending_step(sessions.VERIFY)
    async def load(self):
        self.ready = True
        if self._choice_for != self._attempt():
            self.use_recovery = False

    @rx.event
    @pending_step(sessions.VERIFY)
    async def toggle_recovery(self, wanted: bool):
        """Show the recovery-code field (or the app's code field): the one the button named."""
        if isinstance(wanted, bool):
            self.use_recovery, self._choice_for = wanted, self._attempt()
        return rx.set_focus("verify-code")


def _sign_out_link() -> rx.Component:
    return rx.link(
        "Sign out",
        href="#",
        on_click=rx.call_script("window.kj.signOut()").prevent_default,
        size="2",
        id="two-factor-signout",
    )


def _code_form(
    form_id: str, action: str, submit: Any, label: str, *fields: rx.Component, spacing: str
) -> rx.Component:
    """A form that kj.js posts to ``action`` (``submit`` is its constant script call); the
    reply's errors show at ``{form_id}-code-error`` and ``{form_id}-form-error``."""
    return rx.form(
        rx.vstack(
            *fields,
            rx.text(
                "",
                id=f"{form_id}-form-error",
                role="alert",
                size="2",
                color_scheme="red",
                weight="medium",
                display="none",
            ),
            rx.button(label, type="submit", size="3", width="100%", id=f"{form_id}-submit"),
            spacing=spacing,
            width="100%",
        ),
        id=form_id,
        no_validate=True,
        method="post",
        action=action,
        on_submit=submit,
        width="100%",
    )


def _two_step_page(subtitle: str, *card: rx.Component) -> rx.Component:
    return rx.vstack(
        brand_header(subtitle),
        rx.card(*card, size="3", width="100%"),
        _sign_out_link(),
        align="center",
        spacing="4",
        width="100%",
    )


def _trust_checkbox() -> rx.Component:
    return rx.hstack(
        rx.el.input(
            type="checkbox",
            id="verify-trust",
            name="trust_device",
            value="on",
            style={"width": "20px", "height": "20px", "margin": "2px 0 0"},
        ),
        rx.el.label(
            "Trust this browser for 30 days",
            rx.text(
                "Skip this step here. Only on a device that is yours alone.",
                size="2",
                color_scheme="gray",
                as_="span",
                display="block",
            ),
            html_for="verify-trust",
            font_size="15px",
        ),
        spacing="2",
        align="start",
        width="100%",
    )


def _verify_code(recovery: bool) -> rx.Component:
    if recovery:
        hint = "One of the codes you saved when you set up two-step sign-in, like abcd-efgh-jk."
        return code_field("verify", "Recovery code", hint=hint, recovery=True, key="recovery")
    hint = "From the authenticator app on your phone."
    return code_field("verify", "6-digit code", hint=hint, key="totp")


@public_page(SIGNIN_VERIFY, "Two-step sign-in", on_load=VerifyState.load)
def verify_page() -> rx.Component:
    return _two_step_page(
        "One more step: the code from your authenticator app.",
        _code_form(
            "verify",
            VERIFY,
            rx.call_script("window.kj.twoFactor.submit('verify', '/auth/two-factor/verify')"),
            "Continue",
            rx.cond(VerifyState.use_recovery, _verify_code(True), _verify_code(False)),
            rx.button(
                rx.cond(
                    VerifyState.use_recovery,
                    "Use a code from my app instead",
                    "Use a recovery code instead",
                ),
                type="button",
                variant="ghost",
                size="2",
                on_click=VerifyState.toggle_recovery(~VerifyState.use_recovery),
                id="toggle-recovery",
            ),
            _trust_checkbox(),
            spacing="4",
        ),
    )


# --- /signin/enrol --------------------------------------------------------------------------------


class EnrolState(rx.State):
    ready: bool = False
    qr: str = ""  # a data: URI of the QR code's SVG (the CSP allows img-src data:)
    key_groups: str = ""
    secret: str = ""
    failed: bool = False

    @rx.event
    @pending_step(sessions.ENROL)
    async def load(self):
        pending = current_pending()

        def start() -> two_factor.Enrolment:
            with unit_of_work() as session:
                return two_factor.start_enrolment(session, user_id=pending.user_id)

        try:
            enrolment = await asyncio.to_thread(start)
        except NotFound:
            self.failed, self.ready = True, True
            return
        self.qr, self.key_groups = enrolment.qr_data_uri, enrolment.key_groups
        self.secret, self.failed, self.ready = enrolment.secret, False, True


def _step(number: str, title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(number, variant="solid", radius="full", size="2", aria_hidden="true"),
            rx.heading(title, size="4", as_="h2"),
            spacing="2",
            align="center",
        ),
        *children,
        spacing="2",
        width="100%",
        align="start",
    )


def _enrol_steps() -> rx.Component:
    return rx.vstack(
        _step(
            "1",
            "Add KAP Journey to an authenticator app",
            rx.text(
                "Open any authenticator app (Google Authenticator, Microsoft Authenticator, "
                "1Password and others) and scan this code.",
                size="2",
            ),
            rx.center(
                rx.image(
                    src=EnrolState.qr,
                    alt="QR code that adds KAP Journey to an authenticator app. "
                    "The same key is written out below.",
                    width="220px",
                    height="220px",
                    id="enrol-qr",
                ),
                width="100%",
            ),
        ),
        _step(
            "2",
            "Or type this key",
            rx.text("If you can't scan, choose to enter a setup key in the app.", size="2"),
            rx.hstack(
                rx.code(
                    EnrolState.key_groups,
                    id="enrol-key",
                    size="3",
                    variant="ghost",
                    style={"word_break": "break-word", "letter_spacing": "0.05em"},
                ),
                soft_button(
                    "copy",
                    "Copy",
                    on_click=rx.set_clipboard(EnrolState.secret),
                    aria_label="Copy the setup key",
                ),
                align="center",
                justify="between",
                wrap="wrap",
                spacing="2",
                width="100%",
            ),
        ),
        _step(
            "3",
            "Enter the code the app shows",
            _code_form(
                "enrol",
                ENROL_CONFIRM,
                rx.call_script(
                    "window.kj.twoFactor.submit('enrol', '/auth/two-factor/enrol/confirm')"
                ),
                "Turn on two-step sign-in",
                code_field("enrol", "6-digit code"),
                spacing="3",
            ),
        ),
        spacing="5",
        width="100%",
        id="enrol-steps",
    )


def _recovery_codes_step() -> rx.Component:
    """Filled in and shown by kj.js when the app's first code is accepted."""
    return rx.vstack(
        rx.heading(
            "Save your recovery codes",
            size="5",
            as_="h2",
            id="recovery-codes-heading",
            tab_index=-1,
        ),
        rx.text(
            "Two-step sign-in is on. If you lose your phone, each of these codes signs you in "
            "once. Keep them somewhere safe, away from your phone. They are shown only now.",
            size="2",
        ),
        recovery_codes_list(list_id="recovery-codes"),
        rx.hstack(
            soft_button(
                "download",
                "Download as text",
                on_click=rx.call_script("window.kj.twoFactor.download()"),
                id="recovery-codes-download",
            ),
            soft_button(
                "copy",
                "Copy",
                on_click=rx.call_script("window.kj.twoFactor.copy()"),
                id="recovery-codes-copy",
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.text("", id="recovery-codes-status", role="status", size="2"),
        rx.button(
            rx.el.a(
                "I have saved them",
                href="/",
                id="recovery-codes-done",
                reload_document=True,  # a whole page load, carrying the new session cookie
            ),
            as_child=True,
            size="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
        align="start",
        id="recovery-codes-step",
        display="none",
    )


@public_page(SIGNIN_ENROL, "Set up two-step sign-in", on_load=EnrolState.load)
def enrol_page() -> rx.Component:
    return _two_step_page(
        "Set up two-step sign-in. Staff sign in with a password and a code.",
        rx.cond(
            EnrolState.failed,
            rx.callout(
                "Two-step sign-in is already set up for you. Sign in again.",
                icon="info",
                width="100%",
            ),
            rx.cond(EnrolState.ready, _enrol_steps()),
        ),
        _recovery_codes_step(),
    )
