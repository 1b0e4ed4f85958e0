"""Resolving an alert, the same wherever it is done (the inbox, the client's Alerts panel): what
came of it, one of the service's outcomes, and a note of what was done; and what both lists
show beside an alert's badges: escalated, and to whom it was reassigned."""

from __future__ import annotations

from collections.abc import Iterable

import reflex as rx

from kapjourney.ui.components.fields import SELECT_STYLE, field_error

RESOLVE_FIELDS = ("note", "outcome")


def resolve_fields(
    *, form: str, errors: rx.Var, outcomes: Iterable[tuple[str, str]]
) -> rx.Component:
    """The outcome select and the note, ids ``{form}-outcome`` and ``{form}-note``, each with
    its error line from ``errors["outcome"]`` / ``errors["note"]``."""
    outcome_id, note_id = f"{form}-outcome", f"{form}-note"
    return rx.vstack(
        rx.el.label("What came of it", html_for=outcome_id, font_weight="500"),
        rx.el.select(
            rx.el.option("Choose…", value=""),
            *[rx.el.option(label, value=code) for code, label in outcomes],
            id=outcome_id,
            name="outcome",
            aria_describedby=f"{outcome_id}-error",
            aria_invalid=rx.cond(errors["outcome"] != "", "true", "false"),
            style=SELECT_STYLE,
        ),
        field_error(errors["outcome"], f"{outcome_id}-error"),
        rx.el.label("What was done", html_for=note_id, font_weight="500"),
        rx.text_area(
            id=note_id,
            name="note",
            rows="4",
            max_length=2000,
            width="100%",
            aria_describedby=f"{note_id}-error",
            aria_invalid=rx.cond(errors["note"] != "", "true", "false"),
        ),
        field_error(errors["note"], f"{note_id}-error"),
        spacing="2",
        width="100%",
    )


def escalated_badge(escalated: rx.Var) -> rx.Component:
    """Shown once nobody acknowledged the alert within the clinic's minutes."""
    return rx.cond(
        escalated,
        rx.badge(
            "escalated",
            color_scheme="red",
            variant="solid",
            high_contrast=True,
            class_name="kj-escalated",
        ),
    )


def assigned_line(assigned_to: rx.Var) -> rx.Component:
    return rx.cond(
        assigned_to != "",
        rx.text("Assigned to ", assigned_to, size="1", class_name="kj-assigned"),
    )
