"""Charts for the care team (issue 6, item 3): check-ins and questionnaire scores over 30 days,
90 days or a year, the dosing sessions marked on both, each chart in words, and the outcome of
each session (before and after, with response and remission).

Read-only: ``services.charts.client_charts`` authorizes the actor for this client on every call,
including each change of range.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.chart_views import DEFAULT_DAYS, OutcomeCell, OutcomeRow, SessionMarker
from kapjourney.domain.errors import NotFound
from kapjourney.services.charts import client_charts, range_days
from kapjourney.ui.components.outcome_badges import outcome_badges
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import NOT_FOUND, STAFF, panel

RANGE_CHOICES = ((30, "30 days"), (90, "90 days"), (365, "Year"))
CHECKIN_LINES = (("mood", "Mood", "#3e63dd"), ("anxiety", "Anxiety", "#e54d2e"))
CHECKIN_LINES += (("sleep", "Sleep", "#12a594"),)
SCORE_LINES = (("phq9", "PHQ-9", "#8e4ec6"), ("gad7", "GAD-7", "#ca5b00"))
MARKER_COLOR = "#60646c"
AXIS_TICK = {"fontSize": 12}


class ChartsPanelState(rx.State):
    days: int = DEFAULT_DAYS
    points: list[dict] = []
    score_days: list[dict] = []
    markers: list[SessionMarker] = []
    outcome_titles: list[str] = []
    outcomes: list[OutcomeRow] = []
    checkin_summary: str = ""
    score_summary: str = ""
    has_pcl5: bool = False
    _client_id: int = 0

    async def _refresh(self, client_id: int) -> None:
        view = await call_service(client_charts, client_id=client_id, days=self.days)
        self._client_id = client_id
        self.days = view.days
        self.points = [p.model_dump() for p in view.points]
        self.score_days = [d.model_dump() for d in view.score_days]
        self.markers, self.outcomes = view.markers, view.outcomes
        self.outcome_titles = view.outcome_titles
        self.checkin_summary, self.score_summary = view.checkin_summary, view.score_summary
        self.has_pcl5 = any(s.points for s in view.series if s.instrument == "pcl5")

    @rx.event
    @authorized(*STAFF)
    async def set_range(self, days: int):
        """Show the last 30 days, 90 days or year (anything else is 90)."""
        self.days = range_days(days)
        try:
            await self._refresh(self._client_id)
        except NotFound:
            self.reset()
            return rx.toast.error(NOT_FOUND)
        return None


def _range_control() -> rx.Component:
    s = ChartsPanelState
    return rx.hstack(
        *[
            rx.button(
                label,
                type="button",
                size="2",
                variant=rx.cond(s.days == days, "solid", "outline"),
                aria_pressed=rx.cond(s.days == days, "true", "false"),
                on_click=s.set_range(days),
                id=f"chart-range-{days}",
            )
            for days, label in RANGE_CHOICES
        ],
        spacing="2",
        role="group",
        aria_label="Chart range",
        wrap="wrap",
    )


def _line(key: str, name: str, color: str, *, connect: bool, **props) -> rx.Component:
    return rx.recharts.line(
        data_key=key,
        name=name,
        type_="monotone",
        stroke=color,
        stroke_width=2,
        dot={"r": 2.5},
        connect_nulls=connect,
        is_animation_active=False,
        **props,
    )


def _session_lines() -> rx.Component:
    return rx.foreach(
        ChartsPanelState.markers,
        lambda m: rx.recharts.reference_line(
            rx.recharts.label(
                value=m.name, position="insideTopLeft", custom_attrs={"fill": MARKER_COLOR}
            ),
            x=m.label,
            stroke=MARKER_COLOR,
            stroke_dasharray="4 3",
            class_name="kj-session-marker",
        ),
    )


def _x_axis() -> rx.Component:
    return rx.recharts.x_axis(
        data_key="label", interval="preserveStartEnd", min_tick_gap=28, tick=AXIS_TICK
    )


def _figure(
    title: str | rx.Component, chart: rx.Component, summary: rx.Var, name: str
) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="3", as_="h3", id=f"{name}-title"),
        rx.box(
            chart,
            width="100%",
            id=f"{name}-chart",
            role="figure",
            aria_labelledby=f"{name}-title",
            aria_describedby=f"{name}-summary",
        ),
        rx.text(summary, size="1", color_scheme="gray", id=f"{name}-summary"),
        spacing="2",
        width="100%",
    )


def _checkin_chart() -> rx.Component:
    chart = rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        *[_line(k, n, c, connect=False) for k, n, c in CHECKIN_LINES],
        _x_axis(),
        rx.recharts.y_axis(
            domain=[1, 5], ticks=[1, 2, 3, 4, 5], allow_decimals=False, width=28, tick=AXIS_TICK
        ),
        _session_lines(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(height=24),
        data=ChartsPanelState.points,
        width="100%",
        height=240,
        margin={"top": 16, "right": 8, "left": 0, "bottom": 0},
    )
    return _figure(
        "Mood, anxiety and sleep (1 to 5)", chart, ChartsPanelState.checkin_summary, "checkin"
    )


def _score_chart() -> rx.Component:
    chart = rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        *[_line(k, n, c, connect=True) for k, n, c in SCORE_LINES],
        _line(
            "pcl5",
            "PCL-5",
            "#0d74ce",
            connect=True,
            y_axis_id="pcl5",
            legend_type=rx.cond(ChartsPanelState.has_pcl5, "line", "none"),
        ),
        _x_axis(),
        rx.recharts.y_axis(domain=[0, 27], allow_decimals=False, width=28, tick=AXIS_TICK),
        rx.recharts.y_axis(
            y_axis_id="pcl5",
            orientation="right",
            domain=[0, 80],
            allow_decimals=False,
            width=rx.cond(ChartsPanelState.has_pcl5, 28, 0),
            hide=~ChartsPanelState.has_pcl5,
            tick=AXIS_TICK,
        ),
        _session_lines(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(height=24),
        data=ChartsPanelState.score_days,
        width="100%",
        height=240,
        margin={"top": 16, "right": 8, "left": 0, "bottom": 0},
    )
    title = rx.cond(
        ChartsPanelState.has_pcl5,
        "Questionnaire scores (PHQ-9 and GAD-7 left axis, PCL-5 right)",
        "Questionnaire scores (PHQ-9 and GAD-7)",
    )
    return _figure(title, chart, ChartsPanelState.score_summary, "score")


def _badges(cell: OutcomeCell) -> rx.Component:
    return rx.vstack(
        rx.text(cell.text, size="2", white_space="nowrap"),
        *outcome_badges(cell.response, cell.remission),
        spacing="1",
        align="start",
    )


CELL = {"padding": "8px 6px", "text_align": "left", "vertical_align": "top"}
LINE = f"1px solid {rx.color('gray', 5)}"
HEAD = {**CELL, "border_bottom": f"2px solid {rx.color('gray', 6)}", "font_weight": "600"}


def _td(*children: rx.Component) -> rx.Component:
    return rx.el.td(*children, style={**CELL, "border_bottom": LINE})


def _outcome_row(row: OutcomeRow) -> rx.Component:
    return rx.el.tr(
        rx.el.th(
            rx.text(row.name, weight="bold", size="2"),
            rx.text(row.when, size="1", white_space="nowrap"),
            rx.text(row.status_label, size="1", color_scheme="gray"),
            scope="row",
            style={**CELL, "border_bottom": LINE, "font_weight": "normal"},
        ),
        rx.foreach(row.cells, lambda c: _td(_badges(c))),
        class_name="kj-outcome-row",
    )


def _outcome_table() -> rx.Component:
    """A plain table in a labelled region that scrolls sideways by itself (and takes focus, so
    a keyboard can scroll it) if a phone is too narrow: the page never does."""
    s = ChartsPanelState
    return rx.vstack(
        rx.heading("Outcome per session", size="3", as_="h3", id="outcomes-title"),
        rx.cond(
            s.outcomes.length() > 0,
            rx.box(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th("Session", scope="col", style=HEAD),
                            rx.foreach(
                                s.outcome_titles,
                                lambda t: rx.el.th(
                                    rx.text(t, size="2", weight="bold"),
                                    rx.text("before → after", size="1", weight="regular"),
                                    scope="col",
                                    style=HEAD,
                                ),
                            ),
                        )
                    ),
                    rx.el.tbody(rx.foreach(s.outcomes, _outcome_row)),
                    style={"width": "100%", "border_collapse": "collapse", "font_size": "14px"},
                ),
                role="region",
                aria_labelledby="outcomes-title",
                tab_index=0,
                overflow_x="auto",
                width="100%",
                id="outcome-table",
            ),
            rx.text("No dosing sessions yet.", size="2", id="outcome-table-empty"),
        ),
        rx.text(
            "Before: the newest score at or before the session. After: the newest score after "
            "it, up to the next session. Response: at least 50% below the first score. "
            "Remission: PHQ-9 below 5. For clinician review, not a diagnosis.",
            size="1",
            color_scheme="gray",
        ),
        spacing="2",
        width="100%",
    )


def charts_panel() -> rx.Component:
    return panel(
        "Charts",
        _range_control(),
        _checkin_chart(),
        _score_chart(),
        _outcome_table(),
        panel_id="charts-panel",
    )
