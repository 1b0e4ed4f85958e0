"""One exercise: the clinician's note, the prompts, the writing box (saved as typed), and done."""

from __future__ import annotations

import reflex as rx

from kapjourney.ui.components.fields import field_error
from kapjourney.ui.pages.journal.breathing import breathing_timer
from kapjourney.ui.pages.journal.state import SENT_MAX, ExerciseState

SAVE_DELAY_MS = 800
BOX = "exercise-text"


def _note() -> rx.Component:
    return rx.cond(
        ExerciseState.note != "",
        rx.card(
            rx.vstack(
                rx.text("From your care team", size="2", weight="medium", color_scheme="gray"),
                rx.text(ExerciseState.note, size="3", white_space="pre-wrap", id="exercise-note"),
                spacing="1",
            ),
            width="100%",
            variant="surface",
        ),
    )


def _intention() -> rx.Component:
    return rx.cond(
        ExerciseState.kind == "intention",
        rx.card(
            rx.cond(
                ExerciseState.intention != "",
                rx.vstack(
                    rx.text(
                        "Your intention before ",
                        ExerciseState.intention_session,
                        size="2",
                        weight="medium",
                        color_scheme="gray",
                    ),
                    rx.blockquote(
                        ExerciseState.intention,
                        size="4",
                        id="exercise-intention",
                        white_space="pre-wrap",
                        word_break="break-word",
                    ),
                    spacing="2",
                ),
                rx.text(
                    "We don't have an intention saved for this session, and that's fine. You "
                    "can write about what you hoped for, or what you'd like to carry forward.",
                    size="3",
                    id="exercise-intention",
                ),
            ),
            width="100%",
            variant="surface",
        ),
    )


def _prompts() -> rx.Component:
    return rx.vstack(
        rx.el.ul(
            rx.foreach(
                ExerciseState.prompts,
                lambda p: rx.el.li(rx.text(p, size="3"), margin_bottom="6px"),
            ),
            padding_left="20px",
            margin="0",
            id="exercise-prompts",
        ),
        spacing="2",
        width="100%",
    )


def _counter() -> rx.Component:
    over = ExerciseState.count > ExerciseState.max_chars
    return rx.hstack(
        rx.text(
            ExerciseState.saved,
            size="2",
            color_scheme="green",
            aria_live="polite",
            id="exercise-saved",
        ),
        rx.spacer(),
        rx.text(
            ExerciseState.count.to_string(),
            " / ",
            ExerciseState.max_chars.to_string(),
            size="2",
            color_scheme=rx.cond(over, "red", "gray"),
            weight=rx.cond(over, "bold", "regular"),
            id="exercise-count",
        ),
        width="100%",
    )


def _writing() -> rx.Component:
    label = rx.cond(
        ExerciseState.kind == "breathing",
        "Your reflection (optional)",
        rx.cond(ExerciseState.kind == "letter", "Your letter", "Your words"),
    )
    return rx.vstack(
        rx.el.label(label, html_for=BOX, font_weight="600", font_size="16px"),
        rx.text_area(
            id=BOX,
            key=ExerciseState.version.to_string(),
            default_value=ExerciseState.response,
            on_blur=lambda v: ExerciseState.draft(v[:SENT_MAX], v.length()),
            on_change=lambda v: ExerciseState.draft(v[:SENT_MAX], v.length()).debounce(
                SAVE_DELAY_MS
            ),
            aria_describedby=f"{BOX}-error exercise-count",
            aria_invalid=rx.cond(ExerciseState.error != "", "true", "false"),
            rows="9",
            size="3",
            width="100%",
            resize="vertical",
        ),
        field_error(ExerciseState.error, f"{BOX}-error"),
        _counter(),
        rx.cond(
            ExerciseState.form_error != "",
            rx.callout(
                ExerciseState.form_error,
                icon="info",
                color_scheme="red",
                role="alert",
                high_contrast=True,
                width="100%",
            ),
        ),
        rx.button(
            rx.icon("check", size=18, aria_hidden="true"),
            "Mark as done",
            on_click=ExerciseState.complete,
            size="3",
            width="100%",
            id="exercise-done-button",
        ),
        rx.text(
            "Saved as you write. Your clinician can read it once you mark it as done.",
            size="2",
            color_scheme="gray",
        ),
        spacing="2",
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text("Done ", ExerciseState.completed, ". Thank you for taking the time."),
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="exercise-done",
        ),
        rx.cond(
            ExerciseState.response != "",
            rx.card(
                rx.text(
                    ExerciseState.response,
                    size="3",
                    white_space="pre-wrap",
                    word_break="break-word",
                    id="exercise-response",
                ),
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _withdrawn() -> rx.Component:
    return rx.callout(
        "Your care team has taken this exercise off your list, so there is nothing to do here.",
        icon="info",
        high_contrast=True,
        width="100%",
        id="exercise-withdrawn",
    )


def exercise_body() -> rx.Component:
    s = ExerciseState
    return rx.vstack(
        rx.heading(s.title, size="6", as_="h1"),
        rx.hstack(
            rx.cond(
                s.status == "assigned",
                rx.badge(s.due, color_scheme=rx.cond(s.overdue, "amber", "indigo"), size="2"),
            ),
            rx.cond(s.session_label != "", rx.badge(s.session_label, variant="outline", size="2")),
            rx.text("About ", s.minutes.to_string(), " minutes", size="2", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            s.overdue,
            rx.text("It's not too late: do it whenever you're ready.", size="2"),
        ),
        _note(),
        rx.text(s.intro, size="3"),
        _intention(),
        rx.match(
            s.status,
            ("withdrawn", _withdrawn()),
            ("completed", rx.vstack(_prompts(), _done(), spacing="4", width="100%")),
            rx.vstack(
                rx.cond(s.kind == "breathing", breathing_timer()),
                _prompts(),
                _writing(),
                spacing="4",
                width="100%",
            ),
        ),
        rx.text("Source: ", s.source, size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
        id="exercise",
    )
