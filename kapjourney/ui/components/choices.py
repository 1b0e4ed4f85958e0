"""Answer choices as large tappable cards (a labelled radio group), with a message slot."""

from __future__ import annotations

import reflex as rx


def choice_cards(
    *items: rx.Component,
    question_id: rx.Var | str,
    value: rx.Var | str,
    on_change,
    columns: str = "1",
    invalid: rx.Var | bool = False,
    described_by: rx.Var | str = "",
) -> rx.Component:
    """``items`` are ``rx.radio_cards.item``; the group is named by the element ``question_id``."""
    return rx.radio_cards.root(
        *items,
        value=value,
        on_value_change=on_change,
        columns=columns,
        gap="2",
        size="2",
        width="100%",
        aria_labelledby=question_id,
        aria_describedby=described_by,
        aria_invalid=rx.cond(invalid, "true", "false"),
    )


def choice_card(label: rx.Var | str, value: rx.Var | str) -> rx.Component:
    return rx.radio_cards.item(
        rx.text(label, size="3", text_align="left", width="100%"),
        value=value,
        min_height="48px",
        justify_content="flex-start",
    )


def problem_text(message: rx.Var, elem_id: rx.Var | str) -> rx.Component:
    """A message under a question; always in the DOM so aria-describedby resolves."""
    return rx.text(
        message,
        id=elem_id,
        size="2",
        color_scheme="red",
        weight="medium",
        role="alert",
        display=rx.cond(message != "", "block", "none"),
    )


def not_found(what: str, back_text: str, back_href: str) -> rx.Component:
    return rx.vstack(
        rx.heading("Not found", size="6", as_="h1"),
        rx.callout(
            f"We couldn't find {what}. It may have moved, or the link is not complete.",
            icon="info",
            high_contrast=True,
            width="100%",
            id="not-found",
        ),
        rx.link(back_text, href=back_href, weight="medium"),
        spacing="4",
        width="100%",
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding="48px", width="100%")


def opening_then(*opening: rx.Component, loaded: rx.Var, body: rx.Component) -> rx.Component:
    """A page's fixed opening (back link, heading, a sentence of what the page is for), drawn
    at once from the prerendered page, then its ``body`` once the page has loaded (a spinner
    until then)."""
    return rx.vstack(*opening, rx.cond(loaded, body, loading()), spacing="4", width="100%")
