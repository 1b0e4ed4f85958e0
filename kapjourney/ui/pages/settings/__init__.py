"""Settings, for every signed-in role: reminders on this phone, this person's devices and how
reminders last reached them, and (for a client) when the daily check-in reminder comes."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.reminders import ALERT_RAISED, CHECKIN_DUE
from kapjourney.domain.schemas import DeviceView
from kapjourney.notifications.messages import MESSAGES
from kapjourney.routes import SETTINGS
from kapjourney.ui.components.choices import loading
from kapjourney.ui.components.fields import field_error, form_error
from kapjourney.ui.components.install_guide import install_guide
from kapjourney.ui.components.panel import panel
from kapjourney.ui.layout import member_page
from kapjourney.ui.pages.settings import devices, two_factor
from kapjourney.ui.pages.settings.state import SettingsState

__all__ = ["SettingsState", "settings_page"]

S = SettingsState


def _device(device: DeviceView) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.icon("smartphone", size=18, aria_hidden="true"),
                rx.text(device.label, weight="bold", size="3"),
                rx.badge(
                    device.status_label,
                    color_scheme=rx.cond(device.status == "active", "green", "amber"),
                    high_contrast=True,
                    white_space="normal",
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(device.last_delivery, size="2"),
            rx.text("Added ", device.added, size="1", color_scheme="gray"),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            device.status == "active",
            rx.button(
                "Turn off",
                on_click=S.turn_off(device.device_id),
                variant="soft",
                color_scheme="gray",
                size="2",
                aria_label="Turn off reminders on " + device.label,
            ),
        ),
        spacing="3",
        align="start",
        width="100%",
        padding_y="10px",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="kj-device",
        data_status=device.status,
    )


def _turn_off_here() -> rx.Component:
    """This browser's own subscription: dropped here and on the server, so the app's re-save on
    the next start cannot bring it back."""
    return rx.button(
        "Turn off on this phone",
        on_click=rx.call_script(
            "window.kjPwa ? window.kjPwa.unsubscribe() : {ok: true}",
            callback=SettingsState.unsubscribed,
        ),
        variant="soft",
        color_scheme="gray",
        size="2",
        width="100%",
        id="turn-off-this-phone",
        aria_describedby="push-error",
    )


def _this_phone() -> rx.Component:
    return panel(
        "Reminders on this phone",
        rx.text(
            rx.cond(
                S.is_client,
                "A gentle nudge for your daily check-in, and for what to do before and after "
                "a session.",
                "A notification on this phone when a client's report raises an urgent alert.",
            ),
            size="3",
        ),
        install_guide(),
        rx.button(
            rx.icon("bell-ring", size=18, aria_hidden="true"),
            "Turn on reminders",
            # Straight from the click, in the browser: permission may only be asked from a tap.
            on_click=rx.call_script(
                "window.kjPwa ? window.kjPwa.subscribe() : {ok: false, errors: {push: "
                "'This browser cannot show reminders. Try Chrome, Edge, Firefox or Safari.'}}",
                callback=SettingsState.subscribed,
            ),
            size="3",
            width="100%",
            id="turn-on-reminders",
            aria_describedby="push-error",
        ),
        rx.cond(S.devices.length() > 0, _turn_off_here()),
        field_error(S.problems["push"].to(str), "push-error"),
        rx.text(S.notice, size="2", color_scheme="green", role="status", id="push-notice"),
        rx.heading("Your devices", size="3", as_="h3"),
        field_error(S.problems["devices"].to(str), "devices-error"),
        rx.cond(
            S.devices.length() > 0,
            rx.vstack(rx.foreach(S.devices, _device), spacing="0", width="100%", id="devices"),
            rx.text(
                "No phone or computer has reminders turned on yet.",
                size="2",
                color_scheme="gray",
                id="devices",
            ),
        ),
        panel_id="reminders-section",
    )


def _time(label: str, name: str, value: rx.Var, hint: str = "") -> rx.Component:
    field_id = f"reminder-{name}"
    error = S.problems[name].to(str)
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.input(
            type="time",
            id=field_id,
            name=name,
            default_value=value,
            required=True,
            size="3",
            width="100%",
            aria_describedby=f"{field_id}-hint {field_id}-error" if hint else f"{field_id}-error",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        # The hint gives way to the error, as in the project's other fields.
        rx.cond(error == "", rx.text(hint, size="2", color_scheme="gray", id=f"{field_id}-hint"))
        if hint
        else rx.fragment(),
        field_error(error, f"{field_id}-error"),
        spacing="1",
        width="100%",
        align="start",
    )


def _checkin_form() -> rx.Component:
    return panel(
        "When reminders come",
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.el.label(
                        "Daily check-in reminder",
                        html_for="reminder-checkin_enabled",
                        font_weight="500",
                        font_size="15px",
                    ),
                    rx.switch(
                        id="reminder-checkin_enabled",
                        name="checkin_enabled",
                        default_checked=S.checkin_enabled,
                        size="3",
                        aria_describedby="reminder-checkin_enabled-error",
                    ),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                field_error(
                    S.problems["checkin_enabled"].to(str), "reminder-checkin_enabled-error"
                ),
                _time(
                    "Remind me at",
                    "checkin_time",
                    S.checkin_time,
                    "Only if you haven't checked in yet that day.",
                ),
                rx.el.fieldset(
                    rx.el.legend("Quiet hours", font_weight="600", margin_bottom="4px"),
                    rx.text(
                        "No reminders come between these times; one that falls due waits "
                        "until they end.",
                        size="2",
                        color_scheme="gray",
                        margin_bottom="8px",
                    ),
                    rx.grid(
                        _time("From", "quiet_start", S.quiet_start),
                        _time("Until", "quiet_end", S.quiet_end),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    border="none",
                    padding="0",
                    margin="0",
                    min_width="0",
                    width="100%",
                ),
                form_error(S.problems["form"].to(str)),
                rx.button(
                    rx.icon("check", size=18, aria_hidden="true"),
                    "Save",
                    type="submit",
                    size="3",
                    width="100%",
                    id="reminder-save",
                ),
                rx.text(S.saved, size="2", color_scheme="green", role="status", id="saved"),
                spacing="3",
                width="100%",
            ),
            on_submit=S.save,
            key=S.form_key,
            no_validate=True,
            width="100%",
            id="reminder-form",
        ),
        panel_id="checkin-reminder-section",
    )


def _lock_screen() -> rx.Component:
    client, staff = MESSAGES[CHECKIN_DUE], MESSAGES[ALERT_RAISED]
    return panel(
        "What a reminder says",
        rx.box(
            rx.hstack(
                rx.icon("sunrise", size=16, aria_hidden="true"),
                rx.text("KAP Journey · now", size="1"),
                spacing="2",
                align="center",
            ),
            rx.text(rx.cond(S.is_client, client.title, staff.title), weight="bold", size="2"),
            rx.text(rx.cond(S.is_client, client.body, staff.body), size="2"),
            padding="12px 14px",
            border_radius="16px",
            background_color="#1f2430",
            color="#ffffff",
            id="lock-screen-example",
        ),
        rx.text(
            rx.cond(
                S.is_client,
                'That is all your lock screen shows; other reminders say "You have an update '
                'in KAP Journey". A reminder never says anything about your treatment or your '
                "answers: the details are in the app, after you sign in.",
                "That is all your lock screen shows. An alert never names the client or what "
                "they reported: the details are in the app, after you sign in.",
            ),
            size="2",
        ),
        panel_id="lock-screen-section",
    )


def _settings() -> rx.Component:
    return rx.vstack(
        rx.heading("Settings", size="7", as_="h1"),
        _this_phone(),
        rx.cond(S.is_client, _checkin_form()),
        _lock_screen(),
        rx.cond(~S.is_client, two_factor.two_factor_section()),
        devices.devices_section(),
        spacing="4",
        width="100%",
    )


@member_page(SETTINGS, "Settings", on_load=SettingsState.load)
def settings_page() -> rx.Component:
    return rx.cond(
        S.loaded,
        rx.cond(
            S.failed,
            rx.callout(
                "We couldn't open your settings just now. Please reload the page.",
                icon="info",
                width="100%",
            ),
            _settings(),
        ),
        loading(),
    )
