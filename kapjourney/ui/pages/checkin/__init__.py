"""The daily check-in: mood, anxiety and sleep in three taps, then energy and a note if wanted."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import CheckInScaleView, ChoiceView
from kapjourney.routes import CHECKIN, TODAY
from kapjourney.ui.components.choices import loading, problem_text
from kapjourney.ui.components.fields import form_error
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.checkin.state import CheckInState

__all__ = ["CheckInState", "checkin_page"]


def _anchor(scale: CheckInScaleView, choice: ChoiceView) -> rx.Component:
    """One answer: a native radio inside a card-shaped label (assets/kj.css ``.kj-card``).
    Plain elements, not the UI kit's radio cards: the page draws four scales of five at once,
    and the kit's cards cost about half the page's first render on a slow phone."""
    value = choice.value.to_string()
    return rx.el.label(
        rx.el.input(
            type="radio",
            name="scale-" + scale.key,
            value=value,
            checked=CheckInState.answers[scale.key].to(str) == value,
            on_change=lambda v: CheckInState.tap(scale.key, v),
            aria_label=choice.label,
        ),
        # A soft hyphen lets the longest word break cleanly in a narrow column.
        rx.el.span(
            rx.match(choice.label, ("Overwhelmed", "Over\u00adwhelmed"), choice.label),
            aria_hidden="true",
        ),
        class_name="kj-card",
    )


def _scale(scale: CheckInScaleView) -> rx.Component:
    qid = "scale-" + scale.key
    problem = CheckInState.problems[scale.key].to(str)
    return rx.vstack(
        rx.text(
            scale.question,
            rx.cond(scale.required, "", rx.text.span(" (optional)", color_scheme="gray")),
            weight="medium",
            size="3",
            id=qid + "-question",
        ),
        rx.el.div(
            rx.foreach(scale.anchors, lambda choice: _anchor(scale, choice)),
            role="radiogroup",
            class_name="kj-cards",
            aria_labelledby=qid + "-question",
            aria_describedby=qid + "-problem",
            aria_invalid=rx.cond(problem != "", "true", "false"),
        ),
        problem_text(problem, qid + "-problem"),
        spacing="2",
        width="100%",
        id=qid,
        class_name="scale",
        scroll_margin_top="80px",
    )


def _day_switch() -> rx.Component:
    return rx.cond(
        CheckInState.yesterday_open,
        rx.vstack(
            rx.segmented_control.root(
                rx.segmented_control.item("Today", value="today"),
                rx.segmented_control.item("Yesterday", value="yesterday"),
                value=CheckInState.day,
                on_change=CheckInState.choose_day,
                aria_label="Which day this check-in is for",
                id="day-switch",
                width="100%",
            ),
            rx.cond(
                CheckInState.day == "yesterday",
                rx.text(
                    "Missed yesterday? You can add it until ",
                    CheckInState.yesterday_until,
                    ". It is kept as a late entry.",
                    size="2",
                    color_scheme="gray",
                    id="late-hint",
                ),
            ),
            spacing="1",
            width="100%",
        ),
    )


def _saved() -> rx.Component:
    return rx.cond(
        CheckInState.status == "submitted",
        rx.callout(
            rx.cond(
                CheckInState.day == "yesterday",
                "Saved for yesterday at " + CheckInState.saved_at,
                "Saved for today at " + CheckInState.saved_at,
            ),
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="saved",
            role="status",
        ),
        rx.text(
            "Three taps is all it takes. Add more below if you like.",
            size="2",
            color_scheme="gray",
            id="saved",
            role="status",
        ),
    )


def _note() -> rx.Component:
    problem = CheckInState.problems["note"].to(str)
    count = CheckInState.note.length()
    return rx.vstack(
        rx.el.label(
            "A note for yourself or your care team (optional)",
            html_for="checkin-note",
            font_weight="500",
            font_size="15px",
        ),
        rx.text_area(
            value=CheckInState.note,
            on_change=CheckInState.type_note,
            debounce_timeout=600,
            force_notify_on_blur=True,  # leaving the field saves at once
            id="checkin-note",
            rows="4",
            size="3",
            width="100%",
            max_length=10_000,
            aria_describedby="checkin-note-count checkin-note-error",
            aria_invalid=rx.cond(problem != "", "true", "false"),
        ),
        rx.text(
            count.to_string(),
            " / ",
            CheckInState.note_max.to_string(),
            id="checkin-note-count",
            size="2",
            align="right",
            width="100%",
            color_scheme=rx.cond(count > CheckInState.note_max, "red", "gray"),
            weight=rx.cond(count > CheckInState.note_max, "medium", "regular"),
        ),
        problem_text(problem, "checkin-note-error"),
        spacing="1",
        width="100%",
        align="start",
    )


def _required_scales() -> rx.Component:
    return rx.foreach(
        CheckInState.scales,
        lambda s: rx.cond(s.required, _scale(s), rx.fragment()),
    )


def _optional_scales() -> rx.Component:
    return rx.foreach(
        CheckInState.scales,
        lambda s: rx.cond(s.required, rx.fragment(), _scale(s)),
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Daily check-in", size="6", as_="h1"),
            rx.hstack(
                rx.text(CheckInState.date_label, size="2", color_scheme="gray", id="checkin-date"),
                rx.cond(
                    CheckInState.late,
                    rx.badge("Late entry", color_scheme="amber", high_contrast=True, id="late"),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="1",
            width="100%",
        ),
        _day_switch(),
        problem_text(CheckInState.problems["day"].to(str), "day-problem"),
        _required_scales(),
        _saved(),
        form_error(CheckInState.problems["form"].to(str)),
        rx.divider(),
        rx.heading("If you like", size="4", as_="h2"),
        _optional_scales(),
        _note(),
        rx.button(
            rx.icon("check", size=18, aria_hidden="true"),
            "Save",
            on_click=CheckInState.save,
            size="3",
            width="100%",
            id="checkin-save",
        ),
        rx.link("Back to today", href=TODAY, size="2"),
        spacing="4",
        width="100%",
        id="checkin",
    )


@client_page(CHECKIN, "Daily check-in", on_load=CheckInState.load)
def checkin_page() -> rx.Component:
    return rx.cond(CheckInState.loaded, _form(), loading())
