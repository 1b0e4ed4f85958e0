"""What the two-step sign-in pages and the Settings panel for two-step sign-in share: the code
box, the recovery-code list and its soft buttons."""

from __future__ import annotations

from typing import Any

import reflex as rx

from kapjourney.ui.components.fields import field_error

# A code from the authenticator app, and one of the recovery codes (``abcd-efgh-jk``).
APP_CODE: dict[str, Any] = {
    "max_length": 6,
    "input_mode": "numeric",
    "auto_complete": "one-time-code",
}
RECOVERY_CODE: dict[str, Any] = {
    "max_length": 14,
    "input_mode": "text",
    "auto_complete": "off",
    "spell_check": False,
}
CODES_STYLE = {
    "font_family": "var(--code-font-family)",
    "font_size": "17px",
    "line_height": "1.9",
    "columns": "2",
    "padding_left": "28px",
    "margin": "0",
    "width": "100%",
}


def code_field(
    form: str,
    label: str,
    *,
    hint: str = "",
    error: rx.Var | str = "",
    recovery: bool = False,
    **input_props: Any,
) -> rx.Component:
    """The code box ``{form}-code`` with its hint and error line. On the sign-in pages kj.js
    (``twoFactor.submit``) fills ``{form}-code-error`` from the reply and marks the box invalid;
    a form of the page's own state passes its ``error`` instead."""
    field_id = f"{form}-code"
    hint_id, error_id = f"{field_id}-hint", f"{field_id}-error"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.input(
            id=field_id,
            name="code",
            size="3",
            width="100%",
            aria_describedby=f"{hint_id} {error_id}" if hint else error_id,
            aria_invalid=rx.cond(error != "", "true", "false"),
            auto_capitalize="none",
            **(RECOVERY_CODE if recovery else APP_CODE),
            **input_props,
        ),
        rx.text(hint, size="2", color_scheme="gray", id=hint_id) if hint else rx.fragment(),
        field_error(error, error_id),
        spacing="1",
        width="100%",
        align="start",
    )


def recovery_codes_list(*items: rx.Component, list_id: str) -> rx.Component:
    """The recovery codes, numbered, in two columns of the code font."""
    return rx.el.ol(*items, id=list_id, style=CODES_STYLE)


def soft_button(icon: str, label: str, **props: Any) -> rx.Component:
    """A small secondary action (copy, download) with its icon hidden from screen readers."""
    return rx.button(
        rx.icon(icon, size=16, aria_hidden="true"),
        label,
        type="button",
        variant="soft",
        size="2",
        **props,
    )
