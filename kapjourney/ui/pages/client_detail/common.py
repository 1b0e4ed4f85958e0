"""What the client-detail panels share: argument coercion, field messages and small builders."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import ROUTE_LABELS, SETTING_LABELS, Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.ui.components.dialogs import dialog_actions
from kapjourney.ui.components.fields import SELECT_STYLE, field_error
from kapjourney.ui.components.panel import panel as panel  # the panels import it here

STAFF = (Role.CLINICIAN, Role.ADMIN)
TEXT_MAX = 10_000
NOT_FOUND = "Client not found."
ROUTES = [(str(k), v) for k, v in ROUTE_LABELS.items()]
SETTINGS = [(str(k), v) for k, v in SETTING_LABELS.items()]


def clip(value: object, limit: int = TEXT_MAX) -> str:
    return value[:limit] if isinstance(value, str) else ""


def form_dict(value: object) -> dict[str, str]:
    """Form data from the browser: a dict of short strings, whatever was sent."""
    data = value if isinstance(value, dict) else {}
    return {clip(k, 100): clip(v) for k, v in list(data.items())[:50] if isinstance(k, str)}


def messages(problem: ValidationFailed, names: tuple[str, ...]) -> dict[str, str]:
    """One message per field name (every name present, so the page can index them)."""
    fields = problem.fields
    out = {name: str(fields.get(name, ""))[:300] for name in names}
    if not any(out.values()):
        out[names[-1]] = " ".join(str(v) for v in fields.values())[:300]
    return out


def blank(names: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(names, "")


def select_field(
    label: str, *, name: str, form: str, options: list[tuple[str, str]], error: rx.Var, **props
) -> rx.Component:
    field_id = f"{form}-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.el.select(
            rx.el.option("Choose…", value=""),
            *[rx.el.option(text, value=value) for value, text in options],
            id=field_id,
            name=name,
            aria_describedby=f"{field_id}-error",
            style=SELECT_STYLE,
            **props,
        ),
        field_error(error, f"{field_id}-error"),
        spacing="1",
        width="100%",
    )


def radio_field(
    legend: str,
    *,
    name: str,
    form: str,
    options: list[tuple[str, str]],
    error: rx.Var,
    checked: rx.Var | str = "",
) -> rx.Component:
    field_id = f"{form}-{name}"
    return rx.el.fieldset(
        rx.el.legend(legend, font_weight="500", font_size="15px", margin_bottom="4px"),
        rx.hstack(
            *[
                rx.hstack(
                    rx.el.input(
                        type="radio",
                        name=name,
                        value=value,
                        id=f"{field_id}-{value}",
                        default_checked=checked == value,
                        style={"width": "18px", "height": "18px", "margin": "0"},
                    ),
                    rx.el.label(text, html_for=f"{field_id}-{value}"),
                    spacing="2",
                    align="center",
                )
                for value, text in options
            ],
            spacing="4",
            wrap="wrap",
        ),
        field_error(error, f"{field_id}-error"),
        aria_describedby=f"{field_id}-error",
        border="none",
        padding="0",
        margin="0",
        width="100%",
    )


def dialog_buttons(confirm: str, *, confirm_id: str) -> rx.Component:
    """The foot row of a plain dialog's form: "Back", then ``confirm`` (indigo) that sends it.
    A form whose sending cannot be undone takes ``dialog_actions``' red button instead."""
    return dialog_actions(
        confirm,
        confirm_id=confirm_id,
        alert=False,
        color="indigo",
        high_contrast=False,
        type="submit",
    )
