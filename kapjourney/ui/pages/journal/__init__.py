"""The integration journal: exercises from the care team (to do, then done), and each exercise."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import ExerciseRow
from kapjourney.routes import EXERCISE, JOURNAL, SAFETY_PLAN, TODAY
from kapjourney.ui.components.choices import loading, not_found, opening_then
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.journal.exercise import exercise_body
from kapjourney.ui.pages.journal.state import ExerciseState, JournalState

KIND_ICONS = (("breathing", "wind"), ("letter", "mail"), ("intention", "sparkles"))


def _icon(name: str) -> rx.Component:
    return rx.icon(name, size=22, color=rx.color("indigo", 11), flex_shrink="0", aria_hidden="true")


def _kind_icon(kind) -> rx.Component:
    # Each icon spelled out: an icon named by a state var makes Reflex bundle every icon there is.
    return rx.match(kind, *[(k, _icon(name)) for k, name in KIND_ICONS], _icon("notebook-pen"))


def _todo(row: ExerciseRow) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                _kind_icon(row.kind),
                rx.vstack(
                    rx.text(row.title, weight="bold", size="3"),
                    rx.hstack(
                        rx.badge(
                            row.due,
                            color_scheme=rx.cond(row.overdue, "amber", "indigo"),
                            size="1",
                        ),
                        rx.cond(
                            row.session_label != "",
                            rx.badge(row.session_label, variant="outline", size="1"),
                        ),
                        rx.text(row.minutes.to_string(), " min", size="1", color_scheme="gray"),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.cond(
                        row.note != "",
                        rx.text(
                            row.note,
                            size="2",
                            color_scheme="gray",
                            white_space="pre-wrap",
                            word_break="break-word",
                        ),
                    ),
                    spacing="1",
                    min_width="0",
                    flex="1",
                ),
                rx.icon("chevron-right", size=20, aria_hidden="true", flex_shrink="0"),
                spacing="3",
                align="center",
                width="100%",
            ),
            width="100%",
        ),
        href=row.href,
        underline="none",
        color="inherit",
        width="100%",
        id="exercise-link-" + row.assignment_id.to_string(),
        class_name="exercise-todo",
    )


def _done(row: ExerciseRow) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("circle-check", size=20, color=rx.color("green", 11), aria_hidden="true"),
            rx.text(row.title, size="3", flex="1"),
            rx.text(row.completed, size="2", color_scheme="gray"),
            spacing="2",
            align="center",
            width="100%",
            wrap="wrap",
            padding_y="8px",
        ),
        href=row.href,
        underline="none",
        color="inherit",
        width="100%",
        class_name="exercise-done",
    )


def _journal_body() -> rx.Component:
    return rx.vstack(
        rx.heading("To do", size="5", as_="h2"),
        rx.cond(
            JournalState.todo.length() > 0,
            rx.vstack(rx.foreach(JournalState.todo, _todo), spacing="3", width="100%"),
            rx.text(
                "Nothing to do right now. Your care team will add exercises here.",
                size="2",
                color_scheme="gray",
                id="journal-empty",
            ),
        ),
        rx.cond(
            JournalState.done.length() > 0,
            rx.vstack(
                rx.heading("Done", size="5", as_="h2"),
                rx.foreach(JournalState.done, _done),
                spacing="1",
                width="100%",
            ),
        ),
        rx.link(
            rx.hstack(
                rx.icon("shield-check", size=18, aria_hidden="true"),
                "My safety plan",
                spacing="2",
                align="center",
            ),
            href=SAFETY_PLAN,
            weight="medium",
        ),
        spacing="4",
        width="100%",
        id="journal",
    )


@client_page(JOURNAL, "Integration journal", on_load=JournalState.load)
def journal_page() -> rx.Component:
    return opening_then(
        rx.link("‹ Today", href=TODAY, size="2"),
        rx.heading("Integration journal", size="7", as_="h1"),
        rx.text(
            "Short exercises from your care team to help you make sense of your sessions. "
            "There's no right way to do them.",
            size="3",
        ),
        loaded=JournalState.loaded,
        body=_journal_body(),
    )


@client_page(EXERCISE, "Exercise", on_load=ExerciseState.load)
def exercise_page() -> rx.Component:
    return rx.cond(
        ExerciseState.loaded,
        rx.cond(
            ExerciseState.missing,
            not_found("that exercise", "Back to your journal", JOURNAL),
            rx.vstack(
                rx.link("‹ Integration journal", href=JOURNAL, size="2"),
                exercise_body(),
                spacing="3",
                width="100%",
            ),
        ),
        loading(),
    )
