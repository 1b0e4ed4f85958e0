"""The guided box-breathing timer: rendered here, run in the browser by /js/breathing.js."""

from __future__ import annotations

import reflex as rx

from kapjourney.ui.pages.journal.state import ExerciseState


def breathing_timer() -> rx.Component:
    return rx.card(
        rx.script(src="/js/breathing.js"),
        rx.vstack(
            rx.heading("Breathe with the circle", size="4", as_="h2"),
            rx.text(
                "Follow the words below the circle, for about ",
                ExerciseState.minutes.to_string(),
                " minutes. You can pause at any time.",
                size="2",
                color_scheme="gray",
            ),
            rx.center(
                rx.box(
                    rx.text("", id="breath-count", size="7", weight="bold", aria_hidden="true"),
                    id="breath-circle",
                    width="180px",
                    height="180px",
                    border_radius="50%",
                    background_color=rx.color("indigo", 4),
                    border=f"3px solid {rx.color('indigo', 8)}",
                    display="flex",
                    align_items="center",
                    justify_content="center",
                    transform="scale(0.55)",
                    aria_hidden="true",
                ),
                width="100%",
                height="200px",
            ),
            rx.text(
                "Ready when you are.",
                id="breath-phase",
                size="5",
                weight="medium",
                text_align="center",
                width="100%",
                aria_live="polite",
                role="status",
            ),
            rx.text(
                "",
                id="breath-round",
                size="2",
                color_scheme="gray",
                text_align="center",
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("timer", size=18, aria_hidden="true"),
                    rx.el.span("Start", id="breath-toggle-label"),
                    on_click=rx.call_script("window.kjBreathing && window.kjBreathing.toggle()"),
                    size="3",
                    flex="1",
                    id="breath-toggle",
                    type="button",
                ),
                rx.button(
                    rx.icon("rotate-ccw", size=18, aria_hidden="true"),
                    "Reset",
                    on_click=rx.call_script("window.kjBreathing && window.kjBreathing.reset()"),
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    id="breath-reset",
                    type="button",
                ),
                spacing="2",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        id="breathing",
        data_minutes=ExerciseState.minutes.to_string(),
        data_state="ready",
        width="100%",
    )
