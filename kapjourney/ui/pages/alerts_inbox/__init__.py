"""The care team's alert inbox: gravest first, live while open; acknowledge, resolve, reassign."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import InboxRow
from kapjourney.routes import ALERTS
from kapjourney.services.inbox import OUTCOMES
from kapjourney.ui.components.alert_badges import alert_badges
from kapjourney.ui.components.alert_resolve import assigned_line, escalated_badge, resolve_fields
from kapjourney.ui.components.fields import SELECT_STYLE, field_error
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.pages.alerts_inbox.state import InboxState, Option
from kapjourney.ui.pages.client_detail.common import dialog_buttons
from kapjourney.ui.pages.clients import CLIENT_URL_PREFIX


def _facts(row: InboxRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            alert_badges(row.severity, row.status),
            escalated_badge(row.escalated),
            rx.text("Waiting ", row.waiting, size="2", weight="medium", class_name="kj-waiting"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            row.can_open_client,
            rx.link(
                row.client_name,
                href=CLIENT_URL_PREFIX + row.client_id.to_string(),
                weight="bold",
            ),
            rx.text(row.client_name, weight="bold"),
        ),
        rx.text(row.reason, size="2"),
        rx.text(row.source, " · raised ", row.raised, size="1", color_scheme="gray"),
        rx.cond(
            row.acknowledged_by != "",
            rx.text("Acknowledged by ", row.acknowledged_by, ", ", row.acknowledged, size="1"),
        ),
        assigned_line(row.assigned_to),
        spacing="1",
        flex="1",
        min_width="240px",
    )


def _actions(row: InboxRow) -> rx.Component:
    who = row.client_name
    return rx.hstack(
        rx.cond(
            row.status == "open",
            rx.button(
                "Acknowledge",
                size="2",
                variant="soft",
                aria_label="Acknowledge the alert for " + who,
                on_click=InboxState.acknowledge(row.alert_id),
            ),
        ),
        rx.button(
            "Resolve",
            size="2",
            aria_label="Resolve the alert for " + who,
            on_click=InboxState.open_dialog("resolve", row.alert_id),
        ),
        rx.button(
            "Reassign",
            size="2",
            variant="outline",
            aria_label="Reassign the alert for " + who,
            on_click=InboxState.open_dialog("reassign", row.alert_id),
        ),
        spacing="2",
        wrap="wrap",
    )


def _row(row: InboxRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(_facts(row), _actions(row), spacing="3", align="start", wrap="wrap"),
        padding="12px",
        border_radius="8px",
        border=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.cond(row.status == "open", rx.color("red", 2), "transparent"),
        list_style="none",
        data_status=row.status,
        data_alert=row.alert_id,
        class_name="kj-inbox-alert",
    )


def _option(option: Option) -> rx.Component:
    return rx.el.option(option.label, value=option.value)


def _select(label: str, name: str, options, error: rx.Var) -> rx.Component:
    field_id = f"inbox-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500"),
        rx.el.select(
            rx.el.option("Choose…", value=""),
            rx.foreach(options, _option),
            id=field_id,
            name=name,
            aria_describedby=f"{field_id}-error",
            style=SELECT_STYLE,
        ),
        field_error(error, f"{field_id}-error"),
        spacing="1",
        width="100%",
    )


def _resolve_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            resolve_fields(form="inbox", errors=InboxState.errors, outcomes=OUTCOMES.items()),
            dialog_buttons("Resolve alert", confirm_id="inbox-resolve-confirm"),
            spacing="2",
            width="100%",
        ),
        on_submit=InboxState.resolve,
        no_validate=True,
    )


def _reassign_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _select(
                "Clinician", "clinician", InboxState.clinicians, InboxState.errors["clinician"]
            ),
            dialog_buttons("Reassign alert", confirm_id="inbox-reassign-confirm"),
            spacing="2",
            width="100%",
        ),
        on_submit=InboxState.reassign,
        no_validate=True,
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(InboxState.dialog == "resolve", "Resolve alert", "Reassign alert")
            ),
            rx.dialog.description(InboxState.dialog_reason, size="2", margin_bottom="12px"),
            rx.cond(InboxState.dialog == "resolve", _resolve_form(), _reassign_form()),
            max_width="480px",
        ),
        open=InboxState.dialog != "",
        on_open_change=InboxState.close_dialog,
    )


@clinician_page(ALERTS, "Alerts", on_load=InboxState.load)
def alerts_inbox_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Alerts", size="7", as_="h1"),
            rx.badge(
                InboxState.rows.length().to_string() + " waiting",
                size="2",
                id="inbox-count",
                high_contrast=True,
            ),
            rx.spacer(),
            rx.cond(
                InboxState.live,
                rx.text("Updating live", size="1", color_scheme="gray", id="inbox-live"),
                rx.button(
                    "Refresh",
                    size="1",
                    variant="soft",
                    on_click=[InboxState.load, InboxState.watch],
                    id="inbox-refresh",
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        rx.text(
            "Emergency first, then urgent, then routine; the longest waiting first in each.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            InboxState.rows.length() > 0,
            rx.el.ul(
                rx.foreach(InboxState.rows, _row),
                display="flex",
                flex_direction="column",
                gap="8px",
                padding="0",
                margin="0",
                width="100%",
                aria_label="Open alerts",
                id="inbox-list",
            ),
            rx.cond(
                InboxState.loaded,
                rx.text("No open alerts.", size="2", id="inbox-empty"),
            ),
        ),
        _dialog(),
        spacing="3",
        width="100%",
        on_mount=InboxState.watch,
        on_unmount=InboxState.stop_watching,
    )
