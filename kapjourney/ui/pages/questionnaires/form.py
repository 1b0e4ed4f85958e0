"""A due questionnaire: one card per question, saved as it is answered.

After a PHQ-9 whose item 9 is above zero the client goes straight on to the C-SSRS screener,
with a calm word about why; after a worrying C-SSRS, to the support screen.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import FormItemView
from kapjourney.routes import FORM, TODAY
from kapjourney.ui.components.choices import (
    choice_card,
    choice_cards,
    loading,
    not_found,
    problem_text,
)
from kapjourney.ui.components.crisis import crisis_callout
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.questionnaires.state import DueFormState, DueResultState


def _item(item: FormItemView) -> rx.Component:
    qid = "item-" + item.key
    problem = DueFormState.problems[item.key].to(str)
    return rx.card(
        rx.vstack(
            rx.text(item.text, weight="medium", size="3", id=qid + "-text"),
            rx.cond(item.hint != "", rx.text(item.hint, size="2", color_scheme="gray")),
            choice_cards(
                rx.foreach(item.choices, lambda c: choice_card(c.label, c.value.to_string())),
                question_id=qid + "-text",
                value=DueFormState.answers[item.key].to(str),
                on_change=lambda v: DueFormState.choose(item.key, v),
                columns=rx.cond(item.kind == "yesno", "2", "1"),
                invalid=problem != "",
                described_by=qid + "-problem",
            ),
            problem_text(problem, qid + "-problem"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=qid,
        scroll_margin_top="80px",  # clear of the sticky header
        class_name="question",
        display=rx.cond(DueFormState.hidden[item.key].to(bool), "none", "block"),
    )


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
        rx.foreach(DueFormState.items, _item),
        rx.text(
            DueFormState.answered.to_string(),
            " of ",
            DueFormState.required.to_string(),
            " answered",
            size="2",
            weight="medium",
            id="answered-count",
            aria_live="polite",
        ),
        rx.button("Submit", size="3", width="100%", on_click=DueFormState.submit, id="q-submit"),
        rx.text("Saved as you go. Source: ", DueFormState.source, size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
    )


def _result() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Thank you. Your answers are saved and sent to your care team.",
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="q-done",
        ),
        rx.cond(
            DueResultState.scored,
            rx.card(
                rx.vstack(
                    rx.text(
                        "Your score: ",
                        rx.text.strong(
                            DueResultState.score.to_string(),
                            " of ",
                            DueResultState.max_score.to_string(),
                        ),
                        rx.cond(DueResultState.band != "", " · " + DueResultState.band, ""),
                        size="3",
                        id="q-score",
                    ),
                    rx.text(
                        "This is for your clinician to discuss with you. It is not a diagnosis.",
                        size="2",
                        color_scheme="gray",
                    ),
                    spacing="2",
                ),
                width="100%",
            ),
        ),
        rx.link(
            rx.button("Back to Today", size="3", width="100%"),
            href=TODAY,
            width="100%",
            id="q-back",
        ),
        spacing="4",
        width="100%",
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
