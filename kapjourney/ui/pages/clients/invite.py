"""The invite dialog of the clinician home: name, email and time zone give a one-time link."""

from __future__ import annotations

import reflex as rx

from kapjourney.ui.components.fields import SELECT_STYLE, field, form_error
from kapjourney.ui.components.invite_link import invite_link_result
from kapjourney.ui.pages.clients.state import ClientsState

TIMEZONES = [
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
]


def _invite_result() -> rx.Component:
    return invite_link_result(ClientsState.invite_link, ClientsState.invite_for)


def _invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            form_error(ClientsState.form_error),
            field(
                "Full name",
                name="display_name",
                form="invite-client",
                error=ClientsState.name_error,
                max_length=80,
                auto_complete="off",
            ),
            field(
                "Email",
                name="email",
                form="invite-client",
                type="email",
                error=ClientsState.email_error,
                max_length=254,
                auto_complete="off",
            ),
            rx.vstack(
                rx.el.label("Time zone", html_for="invite-client-timezone", font_weight="500"),
                rx.el.select(
                    *[rx.el.option(tz.replace("_", " "), value=tz) for tz in TIMEZONES],
                    id="invite-client-timezone",
                    name="timezone",
                    default_value="America/Los_Angeles",
                    style=SELECT_STYLE,
                ),
                rx.text(
                    ClientsState.timezone_error,
                    size="2",
                    color_scheme="red",
                    display=rx.cond(ClientsState.timezone_error != "", "block", "none"),
                ),
                spacing="1",
                width="100%",
            ),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button("Create invite", type="submit", id="invite-create"),
                spacing="2",
                justify="end",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=ClientsState.create_invite,
        id="invite-client-form",
        no_validate=True,
    )


def invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("user-plus", size=16), "Invite a client", id="invite-open")
        ),
        rx.dialog.content(
            rx.dialog.title("Invite a client"),
            rx.dialog.description(
                "They will set their own password from the link.", size="2", margin_bottom="12px"
            ),
            rx.cond(ClientsState.invite_link != "", _invite_result(), _invite_form()),
            max_width="480px",
        ),
        open=ClientsState.dialog_open,
        on_open_change=ClientsState.open_invite,
    )
