"""A post-session symptom report: how each side effect has been, and optional readings.

Each answer is saved as it is given. A worrying answer reaches the care team at once, and
sending a report that needs a same-day look takes the client to the support screen.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import ChoiceView
from kapjourney.routes import REPORT, SUPPORT, TODAY
from kapjourney.ui.components.choices import loading, not_found
from kapjourney.ui.components.fields import field_error, form_error
from kapjourney.ui.components.questionnaire import answered_count, question_card
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.symptoms.state import SymptomReportState

S = SymptomReportState


def _choice(choice: ChoiceView) -> rx.Component:
    return rx.radio_cards.item(
        rx.text(choice.label, size="3", text_align="left", width="100%"),
        value=choice.value.to_string(),
        min_height="48px",
        justify_content="flex-start",
        # "None" spans the row: the answer most people give, and the easiest to tap.
        grid_column=rx.cond(choice.value == 0, "1 / -1", "auto"),
    )


def _reading(name: str, label: str, value: rx.Var) -> rx.Component:
    field_id = "item-" + name
    error = S.problems[name].to(str)
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="15px"),
        rx.input(
            id=field_id,
            name=name,
            default_value=value,
            on_blur=lambda v: S.write(name, v),
            input_mode="numeric",
            auto_complete="off",
            max_length=12,
            size="3",
            width="100%",
            aria_describedby=field_id + "-error",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        field_error(error, field_id + "-error"),
        spacing="1",
        width="100%",
        min_width="0",
        align="start",
        scroll_margin_top="80px",
    )


def _readings() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Blood pressure and pulse (optional)", size="3", as_="h2"),
            rx.text(
                "If you have a monitor at home, add a reading taken in the last hour.",
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                _reading("systolic", "Upper number", S.systolic),
                _reading("diastolic", "Lower number", S.diastolic),
                _reading("pulse", "Pulse (per minute)", S.pulse),
                columns="2",
                gap="3",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _note() -> rx.Component:
    error = S.problems["note"].to(str)
    return rx.vstack(
        rx.el.label(
            "Anything else your care team should know? (optional)",
            html_for="item-note",
            font_weight="500",
            font_size="15px",
        ),
        rx.text_area(
            id="item-note",
            default_value=S.note,
            on_blur=lambda v: S.write("note", v),
            rows="4",
            size="3",
            width="100%",
            max_length=10_000,
            aria_describedby="item-note-error",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        field_error(error, "item-note-error"),
        spacing="1",
        width="100%",
        scroll_margin_top="80px",
    )


def _told() -> rx.Component:
    """Shown as soon as a saved answer needs the care team: they know, and help is here."""
    return rx.cond(
        (S.alert_tier == "urgent") | (S.alert_tier == "emergency"),
        rx.callout(
            rx.vstack(
                rx.text("Thank you for telling us. Your care team will see this."),
                rx.cond(
                    S.alert_tier == "emergency",
                    rx.link(
                        "If you need help right now, call " + S.emergency_number,
                        href=S.emergency_href,
                        weight="bold",
                    ),
                ),
                rx.link("Support and crisis lines", href=SUPPORT, weight="medium"),
                spacing="1",
            ),
            icon="heart-handshake",
            color_scheme="indigo",
            high_contrast=True,
            width="100%",
            id="report-told",
        ),
    )


def _form() -> rx.Component:
    return rx.vstack(
        _told(),
        rx.text(S.preamble, size="3", weight="medium"),
        rx.foreach(
            S.items,
            lambda item: question_card(item, S, columns="2", choice=_choice, with_hint=False),
        ),
        _readings(),
        _note(),
        answered_count(S),
        form_error(S.form_error),
        rx.button(
            "Send to my care team",
            size="3",
            width="100%",
            on_click=S.submit,
            id="report-submit",
        ),
        rx.text("Saved as you go. ", S.source, size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
        id="report-form",
    )


def _sent() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.cond(
                S.result_tier == "routine",
                "Thank you. Some of these effects are worth a chat: your care team will look "
                "at them with you. Rest, drink water, and go easy on yourself today.",
                "Thank you. Your answers are with your care team.",
            ),
            icon="circle-check",
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="report-done",
        ),
        rx.link("Back to Today", href=TODAY, weight="medium"),
        rx.link("Support and crisis lines", href=SUPPORT, size="2"),
        spacing="4",
        width="100%",
    )


@client_page(REPORT, "How are you feeling?", on_load=SymptomReportState.load)
def report_page() -> rx.Component:
    return rx.cond(
        S.loaded,
        rx.cond(
            S.missing,
            not_found("that report", "Back to Today", TODAY),
            rx.vstack(
                rx.link("‹ Today", href=TODAY, size="2"),
                rx.heading("How are you feeling?", size="6", as_="h1"),
                rx.text(S.title, size="3", color_scheme="gray", id="report-title"),
                rx.cond(S.submitted, _sent(), _form()),
                spacing="4",
                width="100%",
                id="report",
            ),
        ),
        loading(),
    )
