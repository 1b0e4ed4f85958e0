"""The Response and Remission badges beside a questionnaire score (rules: domain/outcomes.py)."""

import reflex as rx


def outcome_badges(response: rx.Var, remission: rx.Var) -> tuple[rx.Component, rx.Component]:
    """Two conditional badges; tests find them by the ``response`` and ``remission`` classes."""
    return (
        rx.cond(
            response,
            rx.badge("Response", color_scheme="green", high_contrast=True, class_name="response"),
        ),
        rx.cond(
            remission,
            rx.badge(
                "Remission", color_scheme="indigo", high_contrast=True, class_name="remission"
            ),
        ),
    )
