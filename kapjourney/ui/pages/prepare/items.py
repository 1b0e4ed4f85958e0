"""One checklist step as a card: its help, due time, the values it needs, and tick or undo."""

from __future__ import annotations

import reflex as rx

from kapjourney.ui.components.fields import field_error
from kapjourney.ui.pages.prepare.state import CheckRow, PrepareState


def _input(row: CheckRow, name: str, label: str, value, error, **props) -> rx.Component:
    field_id = "item-" + row.item_id.to_string() + "-" + name
    multiline = props.pop("multiline", False)
    common = {
        "id": field_id,
        "name": name,
        "default_value": value,
        "on_blur": lambda v: PrepareState.save_draft(row.item_id, name, v),
        "aria_describedby": field_id + "-error",
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "size": "3",
        "width": "100%",
    }
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.text_area(rows="3", **common, **props) if multiline else rx.input(**common, **props),
        field_error(error, field_id + "-error"),
        spacing="1",
        width="100%",
        align="start",
        min_width="0",
    )


def _number(row: CheckRow, name: str, label: str, value, error) -> rx.Component:
    return _input(
        row, name, label, value, error, input_mode="numeric", pattern="[0-9]*", max_length=4
    )


def _values(row: CheckRow) -> rx.Component:
    return rx.match(
        row.kind,
        (
            "chaperone",
            rx.vstack(
                _input(row, "name", "Chaperone's name", row.name, row.e_name, max_length=120),
                _input(
                    row,
                    "phone",
                    "Their phone number",
                    row.phone,
                    row.e_phone,
                    type="tel",
                    max_length=40,
                    auto_complete="off",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        (
            "text",
            _input(
                row, "text", "Your words", row.text, row.e_text, multiline=True, max_length=1000
            ),
        ),
        (
            "blood_pressure",
            rx.grid(
                _number(row, "systolic", "Systolic (upper)", row.systolic, row.e_systolic),
                _number(row, "diastolic", "Diastolic (lower)", row.diastolic, row.e_diastolic),
                _number(row, "pulse", "Pulse (beats a minute)", row.pulse, row.e_pulse),
                columns="2",
                gap="3",
                width="100%",
            ),
        ),
        rx.fragment(),
    )


def _open(row: CheckRow) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="item_id", value=row.item_id.to_string()),
            _values(row),
            rx.cond(
                row.e_form != "",
                rx.text(row.e_form, size="2", color_scheme="red", role="alert"),
            ),
            rx.cond(
                PrepareState.status == "scheduled",
                rx.button(
                    rx.icon("check", size=18, aria_hidden="true"),
                    "Mark as done",
                    type="submit",
                    size="3",
                    width="100%",
                    aria_label="Mark as done: " + row.label,
                ),
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=PrepareState.complete,
        no_validate=True,
        width="100%",
    )


def _done(row: CheckRow) -> rx.Component:
    return rx.vstack(
        rx.cond(
            row.summary != "",
            rx.text(row.summary, size="3", class_name="summary", word_break="break-word"),
        ),
        rx.hstack(
            rx.text("Done ", row.done_at, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.cond(
                PrepareState.status == "scheduled",
                rx.button(
                    rx.icon("undo-2", size=16, aria_hidden="true"),
                    "Undo",
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    on_click=PrepareState.reopen(row.item_id),
                    aria_label="Undo: " + row.label,
                ),
            ),
            align="center",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _due(row: CheckRow) -> rx.Component:
    return rx.cond(
        row.late,
        rx.hstack(
            rx.badge("Overdue", color_scheme="amber", high_contrast=True),
            rx.text("It was due ", row.due, ". It's not too late: do it when you can.", size="2"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            row.done,
            rx.fragment(),
            rx.text("By ", row.due, size="2", color_scheme="gray"),
        ),
    )


def checklist_item(row: CheckRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.cond(
                    row.done,
                    rx.icon("circle-check", size=22, color=rx.color("green", 11), flex_shrink="0"),
                    rx.icon("circle", size=22, color=rx.color("gray", 9), flex_shrink="0"),
                ),
                rx.heading(row.label, size="3", as_="h3"),
                spacing="2",
                align="start",
            ),
            rx.cond(row.help != "", rx.text(row.help, size="2", color_scheme="gray")),
            _due(row),
            rx.cond(row.done, _done(row), _open(row)),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="check-item",
        data_done=rx.cond(row.done, "true", "false"),
        id="check-" + row.item_id.to_string(),
    )
