"""Preparing for a dosing session: the session card, its readiness light, and the checklist."""

import reflex as rx

from kapjourney.routes import PLAN, PREPARE
from kapjourney.ui.components.choices import loading, not_found
from kapjourney.ui.components.readiness import readiness_badge, readiness_reasons
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.prepare.items import checklist_item
from kapjourney.ui.pages.prepare.state import PrepareState


def _session_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(PrepareState.title, size="6", as_="h1"),
            rx.text(PrepareState.when, size="4", weight="medium"),
            rx.text(PrepareState.how, size="2", color_scheme="gray"),
            rx.hstack(
                rx.icon("utensils-crossed", size=18, aria_hidden="true"),
                rx.text(
                    "Stop eating and drinking at ", rx.text.strong(PrepareState.stop_eating_at)
                ),
                spacing="2",
                align="center",
            ),
            rx.divider(),
            rx.hstack(
                rx.text("Readiness", size="2", weight="medium"),
                readiness_badge(PrepareState.level, PrepareState.label, id="readiness"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                PrepareState.reasons.length() > 0,
                rx.vstack(
                    rx.text("What is still missing", size="2", weight="medium"),
                    readiness_reasons(PrepareState.reasons, id="readiness-reasons"),
                    spacing="1",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        size="2",
        width="100%",
        id="session-card",
    )


def _closed() -> rx.Component:
    return rx.cond(
        PrepareState.status != "scheduled",
        rx.callout(
            "This session is no longer scheduled, so its checklist is read-only.",
            icon="info",
            high_contrast=True,
            width="100%",
        ),
    )


@client_page(PREPARE, "Prepare for your session", on_load=PrepareState.load)
def prepare_page() -> rx.Component:
    return rx.cond(
        PrepareState.loaded,
        rx.cond(
            PrepareState.missing,
            not_found("that session", "Back to your plan", PLAN),
            rx.vstack(
                rx.link("‹ Your plan", href=PLAN, size="2"),
                _session_card(),
                _closed(),
                rx.hstack(
                    rx.heading("Before your session", size="5", as_="h2"),
                    rx.spacer(),
                    rx.text(PrepareState.progress, size="2", color_scheme="gray", id="progress"),
                    align="center",
                    width="100%",
                    wrap="wrap",
                ),
                rx.vstack(
                    rx.foreach(PrepareState.rows, checklist_item),
                    spacing="3",
                    width="100%",
                    id="checklist",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        loading(),
    )
