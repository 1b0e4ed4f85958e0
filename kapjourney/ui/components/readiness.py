"""The readiness light of a dosing session: a badge and the list of what is still missing.

Both builders take Reflex vars of a ``ReadinessView``'s fields, so clients and clinicians see the
same light: ``readiness_badge(view.level, view.label)`` and ``readiness_reasons(view.reasons)``.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import ReasonView

LEVEL_COLORS = (("green", "green"), ("amber", "amber"), ("red", "red"))
LEVEL_ICONS = (
    ("green", rx.icon("circle-check", size=16, aria_hidden="true")),
    ("amber", rx.icon("circle-alert", size=16, aria_hidden="true")),
    ("red", rx.icon("circle-x", size=16, aria_hidden="true")),
)


def readiness_badge(level_var: rx.Var, label_var: rx.Var, **props) -> rx.Component:
    """A coloured pill with an icon and the label: colour is never the only signal."""
    return rx.badge(
        rx.match(level_var, *LEVEL_ICONS, rx.icon("circle", size=16, aria_hidden="true")),
        label_var,
        color_scheme=rx.match(level_var, *LEVEL_COLORS, "gray"),
        variant="soft",
        high_contrast=True,
        size="2",
        white_space="normal",
        class_name="kj-readiness",
        data_level=level_var,
        **props,
    )


def _reason(reason: ReasonView) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.cond(
                reason.blocking,
                rx.icon(
                    "circle-x",
                    size=16,
                    color=rx.color("red", 11),
                    aria_hidden="true",
                    flex_shrink="0",
                ),
                rx.icon(
                    "circle-alert",
                    size=16,
                    color=rx.color("amber", 11),
                    aria_hidden="true",
                    flex_shrink="0",
                ),
            ),
            rx.text(reason.text, size="2"),
            spacing="2",
            align="start",
        ),
        margin_bottom="4px",
    )


def readiness_reasons(reasons_var: rx.Var, **props) -> rx.Component:
    """What is still missing, one line each (blocking ones marked with a cross)."""
    return rx.cond(
        reasons_var.length() > 0,
        rx.el.ul(
            rx.foreach(reasons_var, _reason),
            list_style_type="none",
            padding="0",
            margin="0",
            **props,
        ),
    )
