"""The parts every questionnaire page shares: a question card, the answered count, the result.

Screening, the scheduled questionnaires and the after-session report each have their own state
(their own services); these builders take that state, whose vars carry the same names
(``answers``, ``problems``, ``choose``, ``answered``, ``required``; results: ``scored``,
``score``, ``max_score``, ``band``).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from kapjourney.domain.schemas import SubmitResult
from kapjourney.ui.components.choices import choice_card, choice_cards, problem_text


def question_card(
    item: Any,
    state: Any,
    *,
    numbered: bool = True,
    columns: Any = None,
    choice: Any = None,
    hidden: Any = None,
    text_input: bool = False,
    with_hint: bool = True,
) -> rx.Component:
    """One question: its words, its choices (or a text box), and its message."""
    qid = "item-" + item.key
    problem = state.problems[item.key].to(str)
    cards = choice_cards(
        rx.foreach(item.choices, choice or (lambda c: choice_card(c.label, c.value.to_string()))),
        question_id=qid + "-text",
        value=state.answers[item.key].to(str),
        on_change=lambda v: state.choose(item.key, v),
        columns=columns if columns is not None else rx.cond(item.kind == "yesno", "2", "1"),
        invalid=problem != "",
        described_by=qid + "-problem",
    )
    answer = cards
    if text_input:
        answer = rx.cond(
            item.kind == "text",
            rx.text_area(
                default_value=item.answer,
                on_blur=lambda v: state.write(item.key, v),
                aria_labelledby=qid + "-text",
                aria_describedby=qid + "-problem",
                max_length=2000,
                rows="4",
                size="3",
                width="100%",
                id=qid + "-input",
            ),
            cards,
        )
    number = (rx.text.span(item.number.to_string(), ". ", aria_hidden="true"),) if numbered else ()
    props = {"display": rx.cond(hidden, "none", "block")} if hidden is not None else {}
    return rx.card(
        rx.vstack(
            rx.text(*number, item.text, weight="medium", size="3", id=qid + "-text"),
            rx.cond(item.hint != "", rx.text(item.hint, size="2", color_scheme="gray"))
            if with_hint
            else rx.fragment(),
            answer,
            problem_text(problem, qid + "-problem"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=qid,
        scroll_margin_top="80px",  # clear of the sticky header
        class_name="question",
        **props,
    )


def answered_count(state: Any) -> rx.Component:
    return rx.text(
        state.answered.to_string(),
        " of ",
        state.required.to_string(),
        " answered",
        size="2",
        weight="medium",
        id="answered-count",
        aria_live="polite",
    )


def show_result(done: Any, result: SubmitResult) -> None:
    """Fill a result state from a submitted questionnaire."""
    done.shown = True
    done.scored = result.score is not None
    done.score = result.score or 0
    done.max_score = result.max_score
    done.band = result.band


def score_result(done: Any, back: rx.Component) -> rx.Component:
    """Thank-you, the score and band (never called a diagnosis), and the way back."""
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
            done.scored,
            rx.card(
                rx.vstack(
                    rx.text(
                        "Your score: ",
                        rx.text.strong(done.score.to_string(), " of ", done.max_score.to_string()),
                        rx.cond(done.band != "", " · " + done.band, ""),
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
        back,
        spacing="4",
        width="100%",
    )
