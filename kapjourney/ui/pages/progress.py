"""Progress for the client: 30 days of mood as a chart drawn on the server (with its words for
screen readers), questionnaire scores per dosing session with response and remission, and a
forgiving streak."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import ScoreCell, ScoreRow
from kapjourney.routes import CHECKIN, PROGRESS
from kapjourney.services.progress import get_progress
from kapjourney.ui.components.choices import loading
from kapjourney.ui.components.mood_chart import chart_shape, mood_chart
from kapjourney.ui.components.outcome_badges import outcome_badges
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember


class ProgressState(rx.State):
    loaded: bool = False
    # The chart's drawing (kapjourney/ui/components/mood_chart.py chart_shape)
    mood_line: str = ""
    mood_dots: str = ""
    anxiety_line: str = ""
    anxiety_dots: str = ""
    sleep_line: str = ""
    sleep_dots: str = ""
    ticks: list[dict[str, str]] = []
    summary: str = ""
    rows: list[ScoreRow] = []
    streak_message: str = ""
    last_7: int = 0
    show_anxiety: bool = False
    show_sleep: bool = False

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        view = await call_service(get_progress)
        for key, value in chart_shape(view.points).items():
            setattr(self, key, value)
        self.summary = view.chart_summary
        self.rows = view.rows
        self.streak_message = view.streak_message
        self.last_7 = view.last_7
        self.loaded = True

    @rx.event
    @authorized(Role.CLIENT)
    async def show_series(self, name: str, shown: bool):
        """Show or hide an extra line on the chart (anxiety or sleep)."""
        if name == "anxiety":
            self.show_anxiety = shown is True
        elif name == "sleep":
            self.show_sleep = shown is True


def _chart() -> rx.Component:
    return rx.box(
        mood_chart(
            ProgressState,
            {"anxiety": ProgressState.show_anxiety, "sleep": ProgressState.show_sleep},
        ),
        width="100%",
        id="mood-chart",
        role="figure",
        aria_labelledby="chart-title",
        aria_describedby="chart-summary",  # the chart in words, below it
    )


def _toggle(name: str, label: str, checked) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(
                checked=checked,
                on_change=lambda v: ProgressState.show_series(name, v),
                id=f"toggle-{name}",
            ),
            rx.text(label, size="2"),
            spacing="2",
            align="center",
        ),
        html_for=f"toggle-{name}",
    )


def _mood_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Mood, last 30 days", size="4", as_="h2", id="chart-title"),
            _chart(),
            rx.hstack(
                _toggle("anxiety", "Show anxiety", ProgressState.show_anxiety),
                _toggle("sleep", "Show sleep", ProgressState.show_sleep),
                spacing="4",
                wrap="wrap",
            ),
            rx.text(ProgressState.summary, size="2", id="chart-summary"),
            rx.text("Days without a check-in are left as gaps.", size="1", color_scheme="gray"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _streak_card() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("sprout", size=24, color=rx.color("green", 11), aria_hidden="true"),
            rx.vstack(
                rx.text(ProgressState.streak_message, size="3", id="streak"),
                rx.link("Check in today", href=CHECKIN, size="2", weight="medium"),
                spacing="1",
            ),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def _cell(cell: ScoreCell) -> rx.Component:
    return rx.hstack(
        rx.text(cell.title, weight="bold", size="2", min_width="52px"),
        rx.text(
            cell.score.to_string(), " of ", cell.max_score.to_string(), size="2", min_width="52px"
        ),
        rx.text(cell.band, size="2", color_scheme="gray", flex="1", min_width="0"),
        *outcome_badges(cell.response, cell.remission),
        spacing="2",
        align="center",
        width="100%",
        wrap="wrap",
    )


def _row(row: ScoreRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(row.label, weight="medium", size="3"),
            rx.spacer(),
            rx.text(row.when, size="2", color_scheme="gray"),
            width="100%",
        ),
        rx.vstack(rx.foreach(row.scores, _cell), spacing="1", width="100%", padding_top="4px"),
        width="100%",
        padding_y="10px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="score-row",
    )


def _scores_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Questionnaires by session", size="4", as_="h2"),
            rx.cond(
                ProgressState.rows.length() > 0,
                rx.vstack(rx.foreach(ProgressState.rows, _row), spacing="0", width="100%"),
                rx.text("Your scores will appear here after your questionnaires.", size="2"),
            ),
            rx.text(
                "Response: at least half the baseline score. Remission: PHQ-9 below 5. "
                "Scores are for you and your clinician to talk about, not a diagnosis.",
                size="1",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="scores",
    )


@client_page(PROGRESS, "Progress", on_load=ProgressState.load)
def progress_page() -> rx.Component:
    return rx.cond(
        ProgressState.loaded,
        rx.vstack(
            rx.heading("Your progress", size="7", as_="h1"),
            _streak_card(),
            _mood_card(),
            _scores_card(),
            spacing="4",
            width="100%",
            id="progress",
        ),
        loading(),
    )
