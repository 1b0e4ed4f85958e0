"""Reading the document one section per screen."""

from __future__ import annotations

import reflex as rx

from kapjourney.ui.pages.consent.state import ConsentState


def paragraphs(items) -> rx.Component:
    return rx.foreach(items, lambda p: rx.text(p, size="3", line_height="1.6", as_="p"))


def reading_step() -> rx.Component:
    progress = ConsentState.section + 1
    return rx.vstack(
        rx.text(ConsentState.title, size="2", color_scheme="gray"),
        rx.text(
            "Section ",
            progress.to_string(),
            " of ",
            ConsentState.section_count.to_string(),
            size="2",
            weight="medium",
            id="consent-progress",
        ),
        rx.progress(
            value=progress,
            max=ConsentState.section_count,
            aria_label="Reading progress",
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading(ConsentState.section_title, size="5", as_="h2", id="section-title"),
                paragraphs(ConsentState.paragraphs),
                spacing="3",
                width="100%",
            ),
            size="2",
            width="100%",
            id="consent-section",
        ),
        rx.text(
            "Take your time. If anything is unclear, ask your care team before you go on.",
            size="2",
            color_scheme="gray",
        ),
        rx.button(
            "I understand — next",
            size="3",
            width="100%",
            on_click=ConsentState.acknowledge,
            id="consent-next",
        ),
        rx.cond(
            ConsentState.section > 0,
            rx.button(
                rx.icon("arrow-left", size=16, aria_hidden="true"),
                "Read the previous section",
                variant="soft",
                color_scheme="gray",
                size="3",
                width="100%",
                on_click=ConsentState.previous,
            ),
        ),
        spacing="3",
        width="100%",
    )
