"""Labelled form fields with an error line the screen reader hears."""

from __future__ import annotations

import reflex as rx

# A native <select> dressed like the Radix inputs (16px text: no zoom on iPhone focus).
SELECT_STYLE = {
    "width": "100%",
    "min_height": "40px",
    "padding": "0 8px",
    "border_radius": "8px",
    "border": "1px solid var(--gray-7)",
    "background": "var(--color-surface)",
    "font_size": "16px",
}


def field(
    label: str, *, name: str, form: str, error: rx.Var | str = "", hint: str = "", **input_props
) -> rx.Component:
    field_id = f"{form}-{name}"
    error_id = f"{field_id}-error"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.input(
            id=field_id,
            name=name,
            size="3",
            width="100%",
            aria_describedby=error_id,
            aria_invalid=rx.cond(error != "", "true", "false"),
            **input_props,
        ),
        # The hint gives way to the error, so the two never say the same thing twice.
        rx.cond(error == "", rx.text(hint, size="2", color_scheme="gray"))
        if hint
        else rx.fragment(),
        field_error(error, error_id),
        spacing="1",
        width="100%",
        align="start",
    )


def field_error(error: rx.Var | str, error_id: str | rx.Var) -> rx.Component:
    """The message under a field: announced when it appears, hidden (not removed) when empty."""
    return rx.text(
        error,
        id=error_id,
        size="2",
        color_scheme="red",
        role="alert",
        display=rx.cond(error != "", "block", "none"),
    )


def form_error(error: rx.Var) -> rx.Component:
    return rx.cond(
        error != "",
        rx.callout(
            error,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            width="100%",
            id="form-error",
            high_contrast=True,
        ),
    )


def form_messages(result: object, *names: str) -> tuple[str, ...]:
    """Field messages from an /auth/* JSON reply (sent back by the browser, so re-checked)."""
    result = result if isinstance(result, dict) else {}
    errors = result.get("errors")
    errors = errors if isinstance(errors, dict) else {}
    if not result.get("ok") and not errors:
        errors = {"form": "Something went wrong. Please try again."}
    return tuple(str(errors.get(name, ""))[:300] for name in names)
