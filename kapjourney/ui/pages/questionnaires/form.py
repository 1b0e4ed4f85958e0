"""A due questionnaire: one card per question, saved as it is answered.

After a PHQ-9 whose item 9 is above zero the client goes straight on to the C-SSRS screener,
with a calm word about why; after a worrying C-SSRS, to the support screen.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.routes import FORM, TODAY
from kapjourney.ui.components.choices import loading, not_found
from kapjourney.ui.components.crisis import crisis_callout
from kapjourney.ui.components.questionnaire import answered_count, question_card, score_result
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.questionnaires.state import DueFormState, DueResultState


def _cssrs_intro() -> rx.Component:
    return rx.callout(
        "Thank you for your answers. We'd like to ask a few more questions, so your care team "
        "knows how best to support you. It takes about 2 minutes.",
        icon="heart-handshake",
        color_scheme="indigo",
        high_contrast=True,
        width="100%",
        id="cssrs-intro",
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.cond(DueFormState.key == "cssrs", _cssrs_intro()),
        rx.text(DueFormState.preamble, size="3", weight="medium"),
        rx.foreach(
            DueFormState.items,
            lambda item: question_card(
                item, DueFormState, numbered=False, hidden=DueFormState.hidden[item.key].to(bool)
            ),
        ),
        answered_count(DueFormState),
        rx.button("Submit", size="3", width="100%", on_click=DueFormState.submit, id="q-submit"),
        rx.text("Saved as you go. Source: ", DueFormState.source, size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
    )


def _result() -> rx.Component:
    return score_result(
        DueResultState,
        rx.link(
            rx.button("Back to Today", size="3", width="100%"),
            href=TODAY,
            width="100%",
            id="q-back",
        ),
    )


@client_page(FORM, "Questionnaire", on_load=DueFormState.load)
def due_form_page() -> rx.Component:
    return rx.cond(
        DueFormState.loaded,
        rx.cond(
            DueFormState.missing,
            not_found("that questionnaire", "Back to Today", TODAY),
            rx.vstack(
                rx.link("‹ Today", href=TODAY, size="2"),
                rx.heading(DueFormState.title, size="6", as_="h1"),
                rx.cond(DueFormState.alert, crisis_callout(DueFormState.clinic_phone)),
                rx.cond(DueResultState.shown, _result(), _form()),
                spacing="4",
                width="100%",
                id="questionnaire",
            ),
        ),
        loading(),
    )
