"""A titled card: the section every settings and client-detail panel is built from."""

from __future__ import annotations

import reflex as rx


def panel(title: str, *children: rx.Component, panel_id: str, **props) -> rx.Component:
    """A full-width card with an h2 ``title`` over ``children``; ``panel_id`` is its anchor."""
    return rx.card(
        rx.vstack(
            rx.heading(title, size="5", as_="h2"),
            *children,
            spacing="3",
            width="100%",
            align="stretch",
        ),
        width="100%",
        id=panel_id,
        **props,
    )
