"""The caseload's rows: a table on a desk-sized screen, stacked cards on a phone or tablet.

Both are built from the same small pieces, so each fact reads the same in either; only one of the
two is displayed at a width (the other is ``display: none`` and so out of the accessibility tree).
User text (names, stage) goes only through text components.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.routes import ALERTS, CLIENT_DETAIL
from kapjourney.ui.components.readiness import readiness_badge
from kapjourney.ui.components.sparkline import sparkline
from kapjourney.ui.pages.clients.state import CaseloadCard, ClientsState

CLIENT_URL_PREFIX = CLIENT_DETAIL.removesuffix("[client_id]")  # + the id: routes.client_url
# Radix's md breakpoint (1024px): a desk gets the table, a phone or tablet the cards.
WIDE = rx.breakpoints(initial="none", md="block")
NARROW = rx.breakpoints(initial="block", md="none")
ACCOUNT_COLORS = (("invited", "blue"), ("invite expired", "amber"), ("deactivated", "gray"))
REMINDER_COLORS = (
    ("reaching", "green"),
    ("waiting", "blue"),
    ("failing", "red"),
    ("expired", "amber"),
    ("revoked", "amber"),
)
RECENCY_COLORS = (("2d", "green"), ("7d", "amber"), ("older", "red"), ("never", "gray"))
TIERS = (
    ("emergency", "alerts_emergency", "red"),
    ("urgent", "alerts_urgent", "orange"),
    ("routine", "alerts_routine", "gray"),
)
HEADERS = (  # (first line, second line): two short lines keep the columns narrow
    ("Client", ""),
    ("Check-ins", "7 days"),
    ("Check-ins", "30 days"),
    ("Last check-in", ""),
    ("Mood", "14 days"),
    ("PHQ-9 and GAD-7", ""),
    ("Next session", ""),
    ("Open alerts", ""),
    ("Reminders", ""),
)


def _or_dash(value: rx.Var) -> rx.Component:
    return rx.cond(
        value != "", rx.text(value, size="2"), rx.text("—", size="2", color_scheme="gray")
    )


def _reminders(row: CaseloadCard) -> rx.Component:
    """Whether reminders reach the client's devices, in the words of their settings page."""
    return rx.cond(
        row.reminders != "",
        rx.badge(
            row.reminders,
            color_scheme=rx.match(row.reminders_state, *REMINDER_COLORS, "gray"),
            variant="surface",
            high_contrast=True,
            white_space="normal",
            class_name="kj-reminders",
            data_state=row.reminders_state,
        ),
        rx.text("—", size="2", color_scheme="gray"),
    )


def _name(row: CaseloadCard) -> rx.Component:
    return rx.link(
        row.name,
        href=row.href,
        weight="bold",
        class_name="kj-client-link",
        overflow_wrap="anywhere",
    )


def _who(row: CaseloadCard) -> rx.Component:
    """Name, stage, and (until the client has joined) the invitation with a fresh-link button."""
    return rx.vstack(
        _name(row),
        rx.text(row.stage, size="1", color_scheme="gray"),
        rx.cond(
            row.account != "active",
            rx.hstack(
                rx.badge(
                    row.account,
                    high_contrast=True,
                    color_scheme=rx.match(row.account, *ACCOUNT_COLORS, "gray"),
                ),
                rx.cond(
                    (row.account == "invited") | (row.account == "invite expired"),
                    rx.button(
                        "New link",
                        size="1",
                        variant="soft",
                        on_click=ClientsState.reissue(row.client_id),
                        aria_label="New link for " + row.name,
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
        ),
        spacing="1",
        align="start",
        min_width="0",
        flex="1",
    )


def _recency(row: CaseloadCard) -> rx.Component:
    return rx.badge(
        row.recency_label,
        color_scheme=rx.match(row.recency, *RECENCY_COLORS, "gray"),
        high_contrast=True,
        variant="soft",
        class_name="kj-recency",
        data_recency=row.recency,
        white_space="nowrap",
    )


def _streak(row: CaseloadCard) -> rx.Component:
    return rx.text(
        rx.match(
            row.streak,
            (0, "No streak"),
            (1, "1-day streak"),
            row.streak.to_string() + "-day streak",
        ),
        size="1",
        color_scheme="gray",
        class_name="kj-streak",
    )


def _mood(row: CaseloadCard) -> rx.Component:
    return rx.hstack(
        rx.text(row.mood_text, size="2", white_space="nowrap", class_name="kj-last-mood"),
        sparkline(row.spark_line, row.spark_dots, row.spark_label),
        spacing="2",
        align="center",
    )


def _score(name: str, value: rx.Var) -> rx.Component:
    return rx.text(
        rx.el.span(name + " ", font_weight="500"),
        rx.cond(value != "", value, "—"),
        size="2",
    )


def _next_session(row: CaseloadCard) -> rx.Component:
    return rx.vstack(
        rx.text(rx.cond(row.next_session != "", row.next_session, "None scheduled"), size="2"),
        rx.cond(row.readiness != "", readiness_badge(row.readiness, row.readiness_label)),
        spacing="1",
        align="start",
    )


def _alerts(row: CaseloadCard) -> rx.Component:
    def tier(label: str, field: str, color: str) -> rx.Component:
        count = getattr(row, field)
        return rx.cond(
            count > 0,
            rx.link(
                rx.badge(
                    count.to_string() + " " + label,
                    color_scheme=color,
                    high_contrast=True,  # the inbox's colours (alert_badges)
                ),
                href=ALERTS,
                underline="none",
                aria_label=count.to_string() + f" {label}: open the alert inbox",
                class_name=f"kj-alerts-{label}",
            ),
        )

    return rx.cond(
        row.open_alerts > 0,
        rx.hstack(*[tier(*t) for t in TIERS], spacing="1", wrap="wrap"),
        rx.text("None", size="2", color_scheme="gray"),
    )


# --- desk: a table ---------------------------------------------------------------------------


def _table_row(row: CaseloadCard) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(_who(row), min_width="150px"),
        rx.table.cell(rx.text(row.checkins_7_text, size="2")),
        rx.table.cell(rx.text(row.checkins_30_text, size="2")),
        rx.table.cell(rx.vstack(_recency(row), _streak(row), spacing="1", align="start")),
        rx.table.cell(_mood(row)),
        rx.table.cell(rx.vstack(_score("PHQ-9", row.phq9), _score("GAD-7", row.gad7), spacing="1")),
        rx.table.cell(_next_session(row)),
        rx.table.cell(_alerts(row)),
        rx.table.cell(_reminders(row)),
        data_client=row.client_id,
        class_name="kj-caseload-row",
        vertical_align="top",
    )


def _header(first: str, second: str) -> rx.Component:
    if not second:
        return rx.table.column_header_cell(first, scope="col")
    return rx.table.column_header_cell(
        rx.el.span(first, white_space="nowrap"),  # "Check-ins" must not break at its hyphen
        rx.el.br(),
        rx.el.span(second, font_weight="normal"),
        scope="col",
    )


def caseload_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header(first, second) for first, second in HEADERS])),
            rx.table.body(rx.foreach(ClientsState.rows, _table_row)),
            width="100%",
            variant="surface",
            size="1",
            id="client-table",
        ),
        display=WIDE,
        overflow_x="auto",
        width="100%",
    )


# --- phone and tablet: cards ----------------------------------------------------------------


def _fact(term: str, *detail: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.dt(term, font_size="12px", color=rx.color("gray", 11), font_weight="500"),
        rx.el.dd(*detail, margin="0"),
        min_width="0",
    )


def _card(row: CaseloadCard) -> rx.Component:
    urgent = (row.alerts_emergency + row.alerts_urgent) > 0
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                _who(row),
                rx.spacer(),
                rx.vstack(_recency(row), _streak(row), spacing="1", align="end"),
                width="100%",
                align="start",
                spacing="2",
            ),
            rx.el.dl(
                _fact("Check-ins, 7 days", rx.text(row.checkins_7_text, size="2")),
                _fact("Check-ins, 30 days", rx.text(row.checkins_30_text, size="2")),
                _fact("Mood, 14 days", _mood(row)),
                _fact("Open alerts", _alerts(row)),
                _fact("PHQ-9", _or_dash(row.phq9)),
                _fact("GAD-7", _or_dash(row.gad7)),
                _fact("Next session", _next_session(row)),
                _fact("Reminders", _reminders(row)),
                display="grid",
                grid_template_columns="repeat(2, minmax(0, 1fr))",
                gap="10px 12px",
                margin="0",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        padding="12px",
        border_radius="8px",
        border=f"1px solid {rx.color('gray', 6)}",
        border_left=rx.cond(
            urgent, f"4px solid {rx.color('red', 9)}", f"1px solid {rx.color('gray', 6)}"
        ),
        background_color=rx.color("gray", 1),
        list_style="none",
        min_width="0",
        data_client=row.client_id,
        class_name="kj-caseload-card",
    )


def caseload_cards() -> rx.Component:
    return rx.box(
        rx.el.ul(
            rx.foreach(ClientsState.rows, _card),
            padding="0",
            margin="0",
            width="100%",
            aria_label="Clients",
            id="client-cards",
            style={
                "display": "grid",
                "gap": "10px",
                "grid_template_columns": "repeat(auto-fill, minmax(min(100%, 340px), 1fr))",
            },
        ),
        display=NARROW,
        width="100%",
    )
