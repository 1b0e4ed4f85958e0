"""Settings, staff only: two-step sign-in. Whether it is on and since when, how many recovery
codes are left, new recovery codes (for a current code from the app), and the browsers that
skip the code step, with a way to forget them all."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import reflex as rx

from kapjourney.auth import two_factor
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound
from kapjourney.ui.components.panel import panel
from kapjourney.ui.components.two_factor import code_field, recovery_codes_list, soft_button
from kapjourney.ui.guard import authorized, call_service, current_actor

AGAIN = "That did not go through. Please reload the page and try again."


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class TwoFactorSettingsState(rx.State):
    loaded: bool = False
    enabled: bool = False
    since: str = ""
    codes_left: str = ""
    trusted: str = ""
    trusted_count: int = 0
    code_error: str = ""
    notice: str = ""
    new_codes: list[str] = []  # shown once, until "Done"
    form_key: int = 0

    def _take(self, view: two_factor.Status) -> None:
        actor = current_actor()
        self.enabled = view.enabled
        self.since = (
            view.since.astimezone(ZoneInfo(actor.timezone)).strftime("%b %-d, %Y")
            if view.since
            else ""
        )
        self.codes_left = _plural(view.recovery_codes_left, "recovery code", "recovery codes")
        self.trusted_count = view.trusted_browsers
        self.trusted = _plural(view.trusted_browsers, "browser skips", "browsers skip")
        self.loaded = True

    @rx.event
    @authorized(Role.CLINICIAN, Role.ADMIN)
    async def load(self):
        self.code_error = self.notice = ""
        self.new_codes = []
        try:
            self._take(await call_service(two_factor.status))
        except NotFound:
            self.notice = AGAIN

    @rx.event
    @authorized(Role.CLINICIAN, Role.ADMIN)
    async def regenerate(self, form_data: dict):
        code = form_data.get("code") if isinstance(form_data, dict) else None
        code = code[:64] if isinstance(code, str) else ""
        self.code_error = self.notice = ""
        try:
            check = await call_service(two_factor.regenerate_recovery_codes, code=code)
        except NotFound:
            self.code_error = "Two-step sign-in is not on for you, so there are no codes to renew."
            return
        if not check.ok:
            self.code_error = check.errors.get("code", AGAIN)[:300]
            return rx.set_focus("two-factor-code")
        self.new_codes = check.recovery_codes
        self.form_key += 1
        self._take(await call_service(two_factor.status))

    @rx.event
    @authorized(Role.CLINICIAN, Role.ADMIN)
    async def hide_codes(self):
        self.new_codes = []

    @rx.event
    @authorized(Role.CLINICIAN, Role.ADMIN)
    async def forget_browsers(self):
        try:
            count = await call_service(two_factor.forget_trusted_browsers)
            self._take(await call_service(two_factor.status))
        except NotFound:
            self.notice = AGAIN
            return
        self.notice = (
            "Forgotten. Every browser asks for a code at the next sign-in."
            if count
            else "No browser was trusted."
        )


T = TwoFactorSettingsState


def _new_codes() -> rx.Component:
    return rx.vstack(
        rx.heading("Your new recovery codes", size="3", as_="h3"),
        rx.text(
            "The old codes no longer work. Save these somewhere safe: they are shown only now.",
            size="2",
        ),
        recovery_codes_list(
            rx.foreach(T.new_codes, lambda code: rx.el.li(code)), list_id="new-recovery-codes"
        ),
        rx.hstack(
            soft_button("copy", "Copy", on_click=rx.set_clipboard(T.new_codes.join("\n"))),
            rx.button("I have saved them", type="button", size="2", on_click=T.hide_codes),
            spacing="2",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
        align="start",
        padding="12px",
        border_radius="8px",
        border=f"1px solid {rx.color('amber', 7)}",
    )


def _regenerate_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("New recovery codes", size="3", as_="h3"),
            code_field("two-factor", "Code from your authenticator app", error=T.code_error),
            rx.button(
                rx.icon("refresh-cw", size=16, aria_hidden="true"),
                "Get new recovery codes",
                type="submit",
                variant="soft",
                size="3",
                width="100%",
                id="two-factor-regenerate",
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=T.regenerate,
        reset_on_submit=True,
        key=T.form_key,
        no_validate=True,
        width="100%",
    )


def two_factor_section() -> rx.Component:
    """The settings panel; staff only (the page shows it when the person is not a client)."""
    return panel(
        "Two-step sign-in",
        rx.cond(
            T.loaded,
            rx.vstack(
                rx.cond(
                    T.enabled,
                    rx.vstack(
                        rx.hstack(
                            rx.badge("On", color_scheme="green", high_contrast=True),
                            rx.text("Since ", T.since, size="2"),
                            spacing="2",
                            align="center",
                        ),
                        rx.text(T.codes_left, " left.", size="2", id="two-factor-codes-left"),
                        spacing="1",
                        align="start",
                    ),
                    rx.text(
                        "Not set up. If you sign in with a password, you set it up at your "
                        "next sign-in; with your clinic's single sign-on, your clinic's "
                        "provider asks for its own second step.",
                        size="2",
                    ),
                ),
                rx.cond(T.new_codes.length() > 0, _new_codes()),
                rx.cond(T.enabled & (T.new_codes.length() == 0), _regenerate_form()),
                rx.heading("Trusted browsers", size="3", as_="h3"),
                rx.text(T.trusted, " the code step.", size="2", id="two-factor-trusted"),
                rx.button(
                    "Forget all trusted browsers",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    width="100%",
                    on_click=T.forget_browsers,
                    disabled=T.trusted_count == 0,
                    id="two-factor-forget",
                ),
                rx.text(T.notice, size="2", role="status", id="two-factor-notice"),
                spacing="3",
                width="100%",
                align="stretch",
            ),
            rx.text("Loading…", size="2", color_scheme="gray"),
        ),
        panel_id="two-factor-section",
        on_mount=T.load,
    )
