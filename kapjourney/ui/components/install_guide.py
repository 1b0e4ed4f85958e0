"""How to add KAP Journey to the Home Screen on an iPhone or iPad.

iOS shows reminders only for apps opened from the Home Screen, so the guide appears only in an
iOS browser tab: /js/pwa.js sets ``<html data-kj-ios="tab">`` there ("app" once installed), and
the CSS below keeps the callout hidden everywhere else, including before that script has run.
"""

from __future__ import annotations

import reflex as rx

# Hidden unless pwa.js has marked the page as an iOS browser tab (no quotes in the selector:
# it is rendered into the page's prerendered CSS).
_ONLY_IN_IOS_TAB = {
    "display": "none",
    "html[data-kj-ios=tab] &": {"display": "block"},
}


def _step(number: str, text: rx.Component | str) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.box(
                number,
                aria_hidden="true",
                min_width="28px",
                height="28px",
                border_radius="999px",
                background_color=rx.color("accent", 9),
                color="white",
                font_weight="600",
                display="flex",
                align_items="center",
                justify_content="center",
            ),
            rx.text(text, size="3"),
            spacing="3",
            align="center",
        ),
        list_style="none",
    )


def install_guide(**props) -> rx.Component:
    """A callout: Share, then "Add to Home Screen", then open KAP Journey from its icon."""
    return rx.box(
        rx.callout.root(
            rx.callout.icon(rx.icon("smartphone", aria_hidden="true")),
            rx.vstack(
                rx.heading("Get reminders on your iPhone", size="3", as_="h2"),
                rx.text(
                    "iPhone shows reminders only for apps on your Home Screen. It takes a moment:",
                    size="2",
                ),
                rx.el.ol(
                    _step(
                        "1",
                        rx.fragment(
                            "Tap the ",
                            rx.text.strong("Share"),
                            " button (the square with an arrow pointing up).",
                        ),
                    ),
                    _step(
                        "2",
                        rx.fragment(
                            "Scroll down and tap ", rx.text.strong("Add to Home Screen"), "."
                        ),
                    ),
                    _step(
                        "3",
                        rx.fragment(
                            "Open KAP Journey from the new icon, sign in, and turn on reminders."
                        ),
                    ),
                    padding="0",
                    margin="0",
                    display="flex",
                    flex_direction="column",
                    gap="10px",
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="teal",
            variant="surface",
            width="100%",
        ),
        id="install-guide",
        class_name="kj-install-guide",
        width="100%",
        style=_ONLY_IN_IOS_TAB,
        **props,
    )
