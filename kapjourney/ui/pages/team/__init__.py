"""The Team page (admins): the clinic's staff and client accounts, as cards that read on a phone.

Staff: deactivate (an alert dialog naming who takes over their clients and alerts), reactivate,
and their signed-in devices with a sign-out for each. Clients: reset the password, which gives a
new one-time invite link to send.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.team_views import ClientAccountRow, SessionRow, StaffRow
from kapjourney.routes import TEAM
from kapjourney.ui.components.choices import loading
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import SELECT_STYLE, field_error, form_error
from kapjourney.ui.components.invite_link import invite_link_result
from kapjourney.ui.components.sign_ins import sign_in_item
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.pages.team.state import Choice, TeamState

__all__ = ["TeamState", "team_page"]

S = TeamState
ACCOUNT_COLORS = (("joined", "green"), ("invited", "blue"), ("invite expired", "amber"))
CARD = {
    "padding": "12px",
    "border_radius": "8px",
    "border": f"1px solid {rx.color('gray', 5)}",
    "list_style": "none",
}


def _cards(rows, build, list_id: str) -> rx.Component:
    return rx.el.ul(
        rx.foreach(rows, build),
        display="flex",
        flex_direction="column",
        gap="8px",
        padding="0",
        margin="0",
        width="100%",
        id=list_id,
    )


def _staff_facts(row: StaffRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.name, weight="bold", size="3"),
            rx.badge(rx.cond(row.role == "admin", "Admin", "Clinician"), color_scheme="gray"),
            rx.cond(
                row.active,
                rx.badge("Active", color_scheme="green", high_contrast=True),
                rx.badge("Deactivated", color_scheme="gray", high_contrast=True),
            ),
            rx.cond(row.is_self, rx.badge("You", color_scheme="indigo")),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(row.email, size="2", color_scheme="gray", word_break="break-all"),
        rx.text(
            "Last sign-in ",
            row.last_sign_in,
            " · ",
            row.sessions.to_string(),
            " signed in",
            rx.cond(
                row.two_factor == "",
                "",
                rx.cond(row.two_factor == "on", " · Two-step on", " · Two-step off"),
            ),
            size="2",
        ),
        rx.cond(
            row.role == "clinician",
            rx.text(
                "Clients: ",
                row.clients.to_string(),
                " · Open alerts: ",
                row.open_alerts.to_string(),
                size="2",
            ),
        ),
        spacing="1",
        width="100%",
        min_width="0",
    )


def _action(label: str, aria_label: rx.Var, on_click, icon: str = "", **style) -> rx.Component:
    """A card's small button; ``aria_label`` names the person it acts on."""
    return rx.button(
        *([rx.icon(icon, size=16, aria_hidden="true")] if icon else []),
        label,
        size="2",
        variant="soft",
        on_click=on_click,
        aria_label=aria_label,
        **style,
    )


def _staff_actions(row: StaffRow) -> rx.Component:
    uid, red = row.user_id, {"color_scheme": "red", "high_contrast": True}
    return rx.hstack(
        _action(
            "Sessions",
            "Sessions of " + row.name,
            S.open_dialog("sessions", uid),
            icon="monitor-smartphone",
        ),
        rx.cond(
            ~row.is_self,
            rx.cond(
                row.active,
                _action(
                    "Deactivate", "Deactivate " + row.name, S.open_dialog("deactivate", uid), **red
                ),
                _action("Reactivate", "Reactivate " + row.name, S.reactivate(uid)),
            ),
        ),
        rx.cond(
            ~row.is_self & (row.two_factor == "on"),
            _action(
                "Reset two-step",
                "Reset two-step sign-in of " + row.name,
                S.open_dialog("two_step", uid),
                icon="key-round",
                color_scheme="gray",
                high_contrast=True,
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def _staff_card(row: StaffRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(_staff_facts(row), _staff_actions(row), spacing="3", width="100%"),
        background_color=rx.cond(row.active, "transparent", rx.color("gray", 2)),
        class_name="kj-staff",
        data_user=row.user_id,
        data_active=rx.cond(row.active, "true", "false"),
        **CARD,
    )


def _client_card(row: ClientAccountRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.text(row.name, weight="bold", size="3"),
                rx.badge(
                    row.account,
                    color_scheme=rx.match(row.account, *ACCOUNT_COLORS, "gray"),
                    high_contrast=True,
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(row.email, size="2", color_scheme="gray", word_break="break-all"),
            rx.text(
                rx.cond(row.clinicians != "", "Clinician: " + row.clinicians, "No clinician"),
                size="2",
            ),
            rx.cond(
                row.account != "deactivated",
                _action(
                    "Reset password",
                    "Reset password of " + row.name,
                    S.open_dialog("reset", row.client_id),
                    icon="key-round",
                ),
            ),
            spacing="2",
            width="100%",
            min_width="0",
        ),
        class_name="kj-client-account",
        data_client=row.client_id,
        **CARD,
    )


def _choice(choice: Choice) -> rx.Component:
    return rx.el.option(choice.label, value=choice.value)


def _team_dialog(kind: str, title: rx.Var, *children: rx.Component, **props) -> rx.Component:
    """The page's dialog ``kind`` (TeamState.dialog), about the person ``S.dialog_name``."""
    return dialog(title, *children, open=S.dialog == kind, on_open_change=S.close_dialog, **props)


def _deactivate_dialog() -> rx.Component:
    return _team_dialog(
        "deactivate",
        "Deactivate " + S.dialog_name + "?",
        rx.form(
            rx.vstack(
                form_error(S.errors["form"]),
                rx.cond(
                    S.work_note != "",
                    rx.text(S.work_note, " move to the clinician you choose.", size="2"),
                ),
                rx.el.label(
                    "Who takes over their clients and alerts",
                    html_for="team-successor",
                    font_weight="500",
                ),
                rx.el.select(
                    rx.el.option("Choose a clinician…", value=""),
                    rx.foreach(S.successors, _choice),
                    id="team-successor",
                    name="successor",
                    aria_describedby="team-successor-error",
                    on_change=S.successor_chosen,
                    style=SELECT_STYLE,
                ),
                field_error(S.errors["successor"], "team-successor-error"),
                dialog_actions("Deactivate", confirm_id="team-deactivate", type="submit"),
                spacing="2",
                width="100%",
            ),
            on_submit=S.deactivate,
            no_validate=True,
        ),
        description="They are signed out on every device at once and cannot sign in until "
        "reactivated.",
    )


def _two_step_dialog() -> rx.Component:
    return _team_dialog(
        "two_step",
        "Reset two-step sign-in of " + S.dialog_name + "?",
        form_error(S.errors["form"]),
        dialog_actions(
            "Reset two-step", confirm_id="team-two-step-reset", on_click=S.reset_two_step
        ),
        description="For a lost phone. Their authenticator, recovery codes and trusted browsers "
        "stop working and they are signed out everywhere. At their next sign-in with their "
        "password they set up an authenticator app again.",
    )


def _reset_confirm() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Their password stops working and they are signed out everywhere. You get a new "
            "one-time link through which they set a new password.",
            size="2",
        ),
        form_error(S.errors["form"]),
        dialog_actions(
            "Reset password", confirm_id="team-reset", alert=False, on_click=S.reset_password
        ),
        spacing="3",
        width="100%",
    )


def _reset_dialog() -> rx.Component:
    return _team_dialog(
        "reset",
        "Reset the password of " + S.dialog_name,
        rx.cond(
            S.invite_link != "",
            invite_link_result(
                S.invite_link,
                S.dialog_name,
                field_id="team-invite-link",
                lead="New password link ready for ",
            ),
            _reset_confirm(),
        ),
        alert=False,
    )


def _sign_in(row: SessionRow) -> rx.Component:
    return sign_in_item(
        row,
        rx.hstack(
            rx.text(row.device, weight="bold", size="2"),
            rx.cond(row.this_device, rx.badge("This device", color_scheme="indigo")),
            rx.cond(~row.finished, rx.badge("Sign-in not finished", color_scheme="gray")),
            spacing="2",
            wrap="wrap",
        ),
        rx.text("Since ", row.started, " · last seen ", row.last_seen, size="1"),
        rx.text("Address ", row.ip, size="1", color_scheme="gray"),
        on_sign_out=S.sign_out_session(row.session_id),
        sign_out_label="Sign out " + row.device + " since " + row.started,
        class_name="kj-team-sign-in",
        danger=True,
    )


def _sessions_dialog() -> rx.Component:
    return _team_dialog(
        "sessions",
        "Signed-in devices of " + S.dialog_name,
        rx.cond(
            S.sign_ins.length() > 0,
            _cards(S.sign_ins, _sign_in, "team-sign-ins"),
            rx.text("Not signed in anywhere.", size="2", id="team-sign-ins"),
        ),
        dialog_actions(cancel="Done", alert=False, margin_top="12px"),
        description="Signing a device out ends that sign-in at its next step.",
        alert=False,
        max_width="520px",
    )


def _team() -> rx.Component:
    return rx.vstack(
        rx.heading("Team", size="7", as_="h1"),
        rx.text(
            "Who can sign in to your clinic. Deactivating someone signs them out at once.",
            size="2",
            color_scheme="gray",
        ),
        rx.heading("Staff", size="5", as_="h2", margin_top="8px"),
        _cards(S.staff, _staff_card, "team-staff"),
        rx.heading("Clients", size="5", as_="h2", margin_top="8px"),
        rx.cond(
            S.clients.length() > 0,
            _cards(S.clients, _client_card, "team-clients"),
            rx.text("No clients yet.", size="2", color_scheme="gray"),
        ),
        _deactivate_dialog(),
        _reset_dialog(),
        _sessions_dialog(),
        _two_step_dialog(),
        spacing="3",
        width="100%",
        max_width="720px",
    )


@clinician_page(TEAM, "Team", on_load=TeamState.load)
def team_page() -> rx.Component:
    return rx.cond(S.loaded, _team(), loading())
